import 'reflect-metadata';
import { Command, CommanderError } from 'commander';
import { ConfigError, loadConfig, type AppConfig } from './config/config.js';
import { diffCommand } from './cli/diff.js';
import { registerProxyConfig } from './cli/proxy-config.js';
import { registerProxyStatus } from './cli/proxy-status.js';
import { registerPush } from './cli/push.js';
import { registerJourney } from './cli/journey.js';
import { registerConnectivity } from './cli/connectivity.js';
import { registerResolve } from './cli/resolve.js';
import { registerMeshes, registerSnapshots } from './cli/snapshots.js';
import { tokenCommand } from './cli/token.js';

type Mode = 'serve' | 'worker';

/** A bad configuration value is one line for the operator and exit code 2, not a stack trace: the value is wrong, not the code. */
function refuseConfiguration(error: unknown): never {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`meshlens: bad configuration: ${error.message}\n`);
  process.exit(2);
}

// The client commands (push, proxy-config, ...) never load the server: its modules are imported by serve and worker only.
async function run(mode: Mode): Promise<void> {
  // The configuration first, before the server's modules load: a bad value is told at once.
  let config: AppConfig;
  try {
    config = loadConfig();
    if (mode === 'worker' && config.workerConcurrency === 0) {
      throw new ConfigError(
        'MESHLENS_WORKER_CONCURRENCY=0 leaves `meshlens worker` nothing to run (0 is for API-only `meshlens serve` replicas)',
      );
    }
  } catch (error) {
    refuseConfiguration(error);
  }
  const [{ NestFactory }, { createHttpApp }, { AppModule }, { resolveDatabase }, { JsonLogger, captureProcessWarnings }] =
    await Promise.all([
      import('@nestjs/core'),
      import('./app.js'),
      import('./app.module.js'),
      import('./database/resolve-database.js'),
      import('./logging/json-logger.js'),
    ]);
  type ResolvedDatabase = import('./database/resolve-database.js').ResolvedDatabase;
  type INestApplicationContext = import('@nestjs/common').INestApplicationContext;
  const logger = new JsonLogger(config.logLevel);
  captureProcessWarnings(logger);
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
    const options = { config, databaseUrl: database.url, worker: config.workerConcurrency > 0 };
    if (mode === 'serve') {
      const http = await createHttpApp({ ...options, http: true }, logger);
      app = http;
      await http.listen(config.port, config.host);
      logger.event('info', 'meshlens serving', {
        url: `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}`,
        auth: config.auth,
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

const program = new Command('meshlens').description("Istio's Envoy config for every proxy of a mesh, computed offline");
// Exit codes: 0 ok, 1 failure, 2 usage. Commander's own usage errors (unknown option, missing
// argument, bad choice) exit 2; help and version exit 0. Set before the commands, which inherit it.
program.exitOverride((error: CommanderError) => {
  process.exit(error.exitCode === 0 || error.code === 'commander.helpDisplayed' || error.code === 'commander.version' ? 0 : 2);
});
program.showHelpAfterError('(run with --help for usage)');
program
  .command('serve')
  .description('REST + GraphQL API with an in-process compute worker')
  .action(() => run('serve'));
program
  .command('worker')
  .description('compute worker only (run as many as needed)')
  .action(() => run('worker'));
try {
  // The client commands read the configuration (server URL, generator) for their defaults.
  registerPush(program);
  registerSnapshots(program);
  registerMeshes(program);
  registerProxyConfig(program);
  registerProxyStatus(program);
  registerResolve(program);
  registerJourney(program);
  registerConnectivity(program);
  program.addCommand(diffCommand());
  program.addCommand(tokenCommand());
} catch (error) {
  refuseConfiguration(error);
}
await program.parseAsync(process.argv);
