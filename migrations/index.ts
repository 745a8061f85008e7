import type { MigrationInterface } from 'typeorm';
import { Init1795269387246 } from './1795269387246-Init.js';
import { ProxyStorage1795271018423 } from './1795271018423-ProxyStorage.js';
import { ChunkedSnapshotLists1795500000000 } from './1795500000000-ChunkedSnapshotLists.js';
import { GatewayApi1795600000000 } from './1795600000000-GatewayApi.js';
import { MeshesAndAccess1796188930994 } from './1796188930994-MeshesAndAccess.js';
import { Connectivity1796189321376 } from './1796189321376-Connectivity.js';
import { MeshSecurity1796198713607 } from './1796198713607-MeshSecurity.js';
import { RouteHosts1796218438392 } from './1796218438392-RouteHosts.js';
import { Lz4Toast1796401516181 } from './1796401516181-Lz4Toast.js';

// Listed explicitly (not globbed) so the same list works from sources, swc output and the CLI.
export const MIGRATIONS: (new () => MigrationInterface)[] = [
  Init1795269387246,
  ProxyStorage1795271018423,
  ChunkedSnapshotLists1795500000000,
  GatewayApi1795600000000,
  MeshesAndAccess1796188930994,
  Connectivity1796189321376,
  MeshSecurity1796198713607,
  RouteHosts1796218438392,
  Lz4Toast1796401516181,
];
