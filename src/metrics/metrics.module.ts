import { Global, Module } from '@nestjs/common';
import { MetricsService } from './metrics.service.js';

/** The process's metrics; `GET /metrics` is served by src/health (it reads the queue too). */
@Global()
@Module({ providers: [MetricsService], exports: [MetricsService] })
export class MetricsModule {}
