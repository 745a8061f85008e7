import { ResourceBodyEntity } from './resource-body.entity.js';
import { SnapshotResourceEntity } from './snapshot-resource.entity.js';
import { SnapshotEntity } from './snapshot.entity.js';
import { WorkloadEntity } from './workload.entity.js';

export { ResourceBodyEntity, SnapshotResourceEntity, SnapshotEntity, WorkloadEntity };
export { SnapshotStatus } from './snapshot.entity.js';
export { ProxyType } from './workload.entity.js';

export const ENTITIES = [SnapshotEntity, ResourceBodyEntity, SnapshotResourceEntity, WorkloadEntity];
