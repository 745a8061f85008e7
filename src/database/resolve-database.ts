import path from 'node:path';
import type { AppConfig } from '../config/config.js';
import { startEmbeddedPostgres } from './embedded-postgres.js';

export interface ResolvedDatabase {
  url: string;
  /** Stops the embedded server if this process started it. */
  stop(): Promise<void>;
}

export const EMBEDDED_DATABASE = 'meshlens';

/** DATABASE_URL when set; otherwise the embedded Postgres in MESHLENS_DATA_DIR (started or reused). */
export async function resolveDatabase(config: AppConfig, log: (message: string) => void): Promise<ResolvedDatabase> {
  if (config.databaseUrl) return { url: config.databaseUrl, stop: async () => {} };
  const embedded = await startEmbeddedPostgres(path.join(config.dataDir, 'postgres'), EMBEDDED_DATABASE, log);
  return { url: embedded.url(EMBEDDED_DATABASE), stop: () => embedded.stop() };
}
