import 'reflect-metadata';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Command } from 'commander';
import { createHttpApp } from './app.js';
import { AppModule } from './app.module.js';
import { loadConfig, type AppConfig } from './config/config.js';
import { resolveDatabase, type ResolvedDatabase } from './database/resolve-database.js';
import { JsonLogger } from './logging/json-logger.js';

type Mode = 'serve' | 'worker';

async function run(mode: Mode): Promise<void> {
  const config: AppConfig = loadConfig();
  const logger = new JsonLogger(config.logLevel);
  let database: ResolvedDatabase | undefined;
  let app: INestApplicationContext | undefined;
  const shutdown = async (reason: string, code: number) => {
    logger.event('info', 'shutting down', { reason });
    // The app first (in-flight requests and jobs finish), the embedded Postgres last.
    await app?.close().catch((error: unknown) => logger.error(error));
    await database?.stop().catch((error: unknown) => logger.error(error));
    process.exit(code);
  };
  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      void shutdown(signal, 0);
    });
  }
  try {
    database = await resolveDatabase(config, (message) => logger.debug(message, 'EmbeddedPostgres'));
    const options = { config, databaseUrl: database.url, worker: true };
    if (mode === 'serve') {
      const http = await createHttpApp({ ...options, http: true }, logger);
      app = http;
      await http.listen(config.port);
      logger.event('info', 'meshlens serving', {
        url: `http://127.0.0.1:${config.port}`,
        database: config.databaseUrl ? 'DATABASE_URL' : `embedded in ${config.dataDir}`,
      });
    } else {
      app = await NestFactory.createApplicationContext(AppModule.forRoot({ ...options, http: false }), { logger });
      await app.init();
      logger.event('info', 'meshlens worker running', { concurrency: config.workerConcurrency });
    }
  } catch (error) {
    logger.error(error instanceof Error ? error : String(error), error instanceof Error ? error.stack : undefined, 'main');
    stopping = true;
    await shutdown('start-up failed', 1);
  }
}

const program = new Command('meshlens').description('Istio\'s Envoy config for every proxy of a mesh, computed offline');
program
  .command('serve')
  .description('REST + GraphQL API with an in-process compute worker')
  .action(() => run('serve'));
program
  .command('worker')
  .description('compute worker only (run as many as needed)')
  .action(() => run('worker'));
await program.parseAsync(process.argv);
