import { registerEnumType } from '@nestjs/graphql';
import { SnapshotStatus } from '../database/entities/index.js';

/** How istiod treats a workload's proxy (the ingest type ProxyType, as a GraphQL enum). */
export enum ProxyType {
  SIDECAR = 'SIDECAR',
  ROUTER = 'ROUTER',
  NONE = 'NONE',
}

registerEnumType(SnapshotStatus, { name: 'SnapshotStatus' });
registerEnumType(ProxyType, { name: 'ProxyType' });

export { SnapshotStatus };
