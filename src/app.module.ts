import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { AccessModule } from './access/access.module.js';
import { Module, type DynamicModule } from '@nestjs/common';
import { GraphQLModule } from '@nestjs/graphql';
import type { AppConfig } from './config/config.js';
import { ConfigModule } from './config/config.module.js';
import { DatabaseModule } from './database/database.module.js';
import { ConnectivityModule } from './connectivity/connectivity.module.js';
import { DiffModule } from './diff/diff.module.js';
import { GeneratorModule } from './generator/generator.module.js';
import { noStorePlugins } from './graphql/cache-control.js';
import { costLimitPlugin, depthLimitRule } from './graphql/limits.js';
import { HealthModule } from './health/health.module.js';
import { RateLimitModule, rateLimitStatusPlugin } from './http/rate-limit.js';
import { JobsModule } from './jobs/jobs.module.js';
import { NormalisedSnapshots } from './jobs/normalised-snapshots.js';
import { JourneyModule } from './journey/journey.module.js';
import { MeshesModule } from './meshes/meshes.module.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { ProxyConfigModule } from './proxy-config/proxy-config.module.js';
import { RoutingModule } from './routing/routing.module.js';
import { SnapshotsModule } from './snapshots/snapshots.module.js';

export interface AppOptions {
  config: AppConfig;
  /** The resolved database (DATABASE_URL, or the embedded server's). */
  databaseUrl: string;
  /** Serve REST and GraphQL (`meshlens serve`); false: a worker-only process. */
  http: boolean;
  /** Run the compute worker in this process. */
  worker: boolean;
}

@Module({})
export class AppModule {
  static forRoot(options: AppOptions): DynamicModule {
    const { config } = options;
    const core = [
      ConfigModule.forRoot(config),
      DatabaseModule.forRoot(options.databaseUrl),
      MetricsModule,
      // Sessions load snapshots normalised on a thread, off the event loop.
      GeneratorModule.forRoot(NormalisedSnapshots),
      // Connectivity runs on the compute job's thread, which imports it (jobs/derived.ts).
      JobsModule.forRoot({ worker: options.worker, connectivity: new URL('./connectivity/factory.js', import.meta.url) }),
    ];
    const http = [
      GraphQLModule.forRoot<ApolloDriverConfig>({
        driver: ApolloDriver,
        autoSchemaFile: true,
        sortSchema: true,
        // The GraphiQL IDE at /graphql in development only.
        graphiql: !config.production,
        // A 403 of the access guard is the response's HTTP status, as in REST (not a 200 with errors).
        preserveHttpStatusForExecutionErrors: false,
        // Depth and cost, checked before any resolver runs (src/graphql/limits.ts).
        validationRules: [depthLimitRule({ maxDepth: config.limits.graphqlMaxDepth, maxCost: config.limits.graphqlMaxCost })],
        plugins: [
          costLimitPlugin({ maxDepth: config.limits.graphqlMaxDepth, maxCost: config.limits.graphqlMaxCost }),
          rateLimitStatusPlugin,
          ...noStorePlugins,
        ],
      }),
      AccessModule,
      MeshesModule,
      SnapshotsModule,
      ProxyConfigModule,
      RoutingModule,
      JourneyModule,
      ConnectivityModule,
      DiffModule,
      HealthModule,
      // Last: a guard registered by an earlier module (access control) has set request.accessToken.
      RateLimitModule.forRoot(config.limits.ratePerMinute),
    ];
    return { module: AppModule, imports: options.http ? [...core, ...http] : core };
  }
}
