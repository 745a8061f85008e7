// For the typeorm CLI only: `npx typeorm migration:show -d dist/src/database/cli-data-source.js`
// (needs DATABASE_URL; the service itself runs migrations at start).
import { DataSource } from 'typeorm';
import { dataSourceOptions } from './data-source.js';

const url = process.env.DATABASE_URL;
if (!url) throw new Error('set DATABASE_URL to run the typeorm CLI');

export default new DataSource({ ...dataSourceOptions(url), migrationsRun: false });
