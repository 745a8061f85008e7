import { Module } from '@nestjs/common';
import { HealthController } from './health.controller.js';
import { MetricsController } from './metrics.controller.js';

/** The operations endpoints: /healthz, /readyz, /metrics (open even with access control on). */
@Module({ controllers: [HealthController, MetricsController] })
export class HealthModule {}
