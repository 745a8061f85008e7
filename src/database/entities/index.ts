import { EnvoyConfigNodeEntity } from './envoy-config-node.entity.js';
import { EnvoyObjectEntity } from './envoy-object.entity.js';
import { ListChunkEntity } from './list-chunk.entity.js';
import { ResourceBodyEntity } from './resource-body.entity.js';
import { SnapshotEntity } from './snapshot.entity.js';

export { EnvoyConfigNodeEntity, EnvoyObjectEntity, ListChunkEntity, ResourceBodyEntity, SnapshotEntity };
export { SnapshotStatus } from './snapshot.entity.js';

export const ENTITIES = [SnapshotEntity, ResourceBodyEntity, ListChunkEntity, EnvoyObjectEntity, EnvoyConfigNodeEntity];
