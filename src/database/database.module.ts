import { Global, Module, type DynamicModule } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { dataSourceOptions } from './data-source.js';
import { ConnectivityStore } from './connectivity.store.js';
import { DATABASE_URL } from './database.tokens.js';
import { GarbageCollector } from './garbage-collector.js';
import { ListNodeStore } from './list-node.store.js';
import { MeshStore } from './mesh.store.js';
import { ProxyConfigStore } from './proxy-config.store.js';
import { SnapshotStore } from './snapshot.store.js';
import { TokenStore } from './token.store.js';
import { WorkloadStore } from './workload.store.js';

/** The TypeORM data source (migrations run on connect) and the stores over it. */
@Global()
@Module({})
export class DatabaseModule {
  static forRoot(databaseUrl: string): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [TypeOrmModule.forRoot({ ...dataSourceOptions(databaseUrl), retryAttempts: 3, retryDelay: 1000 })],
      providers: [
        { provide: DATABASE_URL, useValue: databaseUrl },
        ListNodeStore,
        GarbageCollector,
        SnapshotStore,
        WorkloadStore,
        ProxyConfigStore,
        MeshStore,
        TokenStore,
        ConnectivityStore,
      ],
      exports: [DATABASE_URL, SnapshotStore, WorkloadStore, ProxyConfigStore, MeshStore, TokenStore, GarbageCollector, ConnectivityStore],
    };
  }
}
