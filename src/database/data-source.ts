import type { DataSourceOptions } from 'typeorm';
import { MIGRATIONS } from '../../migrations/index.js';
import { ENTITIES } from './entities/index.js';

/** The one TypeORM configuration: the app, the tests and the typeorm CLI all use it. */
export function dataSourceOptions(url: string): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    // The schema is owned by the migrations, on every database, embedded or not.
    synchronize: false,
    migrationsRun: true,
    migrationsTransactionMode: 'each',
    // TypeORM would otherwise CREATE EXTENSION "uuid-ossp", which needs a superuser;
    // gen_random_uuid() is built in since Postgres 13.
    installExtensions: false,
    uuidExtension: 'pgcrypto',
    extra: { max: 10 },
  };
}
