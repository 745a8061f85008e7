import { EnvoyConfigNodeEntity } from './envoy-config-node.entity.js';
import { EnvoyObjectEntity } from './envoy-object.entity.js';
import { EnvoyRouteHostsEntity, EnvoyVirtualHostEntity } from './envoy-route-hosts.entity.js';
import { ListNodeEntity } from './list-node.entity.js';
import { ResourceBodyEntity } from './resource-body.entity.js';
import { SnapshotEntity } from './snapshot.entity.js';

export {
  EnvoyConfigNodeEntity,
  EnvoyObjectEntity,
  EnvoyRouteHostsEntity,
  EnvoyVirtualHostEntity,
  ListNodeEntity,
  ResourceBodyEntity,
  SnapshotEntity,
};
export { SnapshotStatus } from './snapshot.entity.js';

export const ENTITIES = [
  SnapshotEntity,
  ResourceBodyEntity,
  ListNodeEntity,
  EnvoyObjectEntity,
  EnvoyConfigNodeEntity,
  EnvoyRouteHostsEntity,
  EnvoyVirtualHostEntity,
];
