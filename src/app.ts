import type { IncomingMessage } from 'node:http';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { authenticate } from './access/authenticate.js';
import { AppModule, type AppOptions } from './app.module.js';
import { queryNestingGuard } from './graphql/limits.js';
import { TokenStore } from './database/token.store.js';
import { HttpErrorFilter } from './http/error-filter.js';
import { jsonBody } from './http/json-body.js';
import { requestObserver } from './http/request-observer.js';
import type { JsonLogger } from './logging/json-logger.js';
import { MetricsService } from './metrics/metrics.service.js';
import { IngestPool } from './snapshots/ingest-pool.service.js';

/** The HTTP service of `meshlens serve`, ready to listen. */
export async function createHttpApp(options: AppOptions, logger: JsonLogger): Promise<NestExpressApplication> {
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot({ ...options, http: true }), {
    logger,
    // Manifest uploads are read raw, whatever their content type; JSON is parsed for the rest only.
    bodyParser: false,
  });
  configureHttpApp(app, options, logger);
  return app;
}

/** Middleware, error shape and API docs; split out so tests can build the module with overrides. */
export function configureHttpApp(app: INestApplication, options: Pick<AppOptions, 'config'>, logger: JsonLogger): void {
  const express = app as NestExpressApplication;
  express.use(requestObserver(logger, app.get(MetricsService)));
  // Before every route, GraphQL and the API docs: without a valid token (when access control is on), a 401.
  express.use(authenticate(options.config, app.get(TokenStore)));
  const ingestPool = app.get(IngestPool, { strict: false });
  express.use(jsonBody(options.config.maxBodyBytes, isJsonOutsideUploads, (body) => ingestPool.parseJson(body)));
  express.use('/graphql', queryNestingGuard({ maxDepth: options.config.limits.graphqlMaxDepth }));
  express.useGlobalFilters(new HttpErrorFilter());
  express.disable('x-powered-by');
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle('meshlens')
      .setDescription('Snapshots of an Istio mesh and the Envoy config Istio computes from them. GraphQL at /graphql.')
      .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'an access token (meshlens token create), when access control is on' })
      .addSecurityRequirements('bearer')
      .build(),
  );
  SwaggerModule.setup('api/docs', app, document);
}

function isJsonOutsideUploads(req: IncomingMessage): boolean {
  const path = (req.url ?? '').split('?')[0];
  if (path === '/api/v1/snapshots' || path === '/api/v1/snapshots/') return false;
  return /\bjson\b/i.test(req.headers['content-type'] ?? '');
}
