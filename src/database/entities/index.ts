import { EnvoyConfigNodeEntity } from './envoy-config-node.entity.js';
import { EnvoyObjectEntity } from './envoy-object.entity.js';
import { ProxyClassEntity } from './proxy-class.entity.js';
import { ResourceBodyEntity } from './resource-body.entity.js';
import { SnapshotResourceEntity } from './snapshot-resource.entity.js';
import { SnapshotEntity } from './snapshot.entity.js';
import { WorkloadEntity } from './workload.entity.js';

export { EnvoyConfigNodeEntity, EnvoyObjectEntity, ProxyClassEntity, ResourceBodyEntity, SnapshotResourceEntity, SnapshotEntity, WorkloadEntity };
export { SnapshotStatus } from './snapshot.entity.js';
export { ProxyType } from './workload.entity.js';

export const ENTITIES = [SnapshotEntity, ResourceBodyEntity, SnapshotResourceEntity, WorkloadEntity, EnvoyObjectEntity, EnvoyConfigNodeEntity, ProxyClassEntity];
