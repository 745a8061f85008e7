// For the typeorm CLI only: `npx typeorm migration:show -d dist/src/database/cli-data-source.js`
// (needs DATABASE_URL; the service itself runs migrations at start).
import { DataSource } from 'typeorm';
import { loadConfig } from '../config/config.js';
import { dataSourceOptions } from './data-source.js';

const url = loadConfig().databaseUrl;
if (!url) throw new Error('set DATABASE_URL to run the typeorm CLI');

export default new DataSource({ ...dataSourceOptions(url), migrationsRun: false });
