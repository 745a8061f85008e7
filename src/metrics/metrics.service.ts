import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The process's Prometheus metrics. A registry per instance (not prom-client's global one), so
 * several apps in one process (the tests) do not clash.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  readonly httpRequestDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request durations by method, route (the pattern, not the URL) and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  readonly snapshotsIngested = new Counter({
    name: 'meshlens_snapshots_ingested_total',
    help: 'Snapshots stored by this process',
    registers: [this.registry],
  });

  readonly resourcesStored = new Counter({
    name: 'meshlens_resources_stored_total',
    help: 'Resources in the snapshots stored by this process',
    registers: [this.registry],
  });

  readonly jobs = new Gauge({
    name: 'meshlens_jobs',
    help: 'Queued jobs by state (all queues, all processes), read from the queue at scrape time',
    labelNames: ['state'] as const,
    registers: [this.registry],
  });

  readonly gcDuration = new Histogram({
    name: 'meshlens_gc_duration_seconds',
    help: 'Duration of the background garbage collections of unreferenced bodies, list chunks and Envoy objects',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [this.registry],
  });

  readonly gcFreed = new Counter({
    name: 'meshlens_gc_freed_rows_total',
    help: 'Rows the garbage collector freed, by table',
    labelNames: ['table'] as const,
    registers: [this.registry],
  });

  readonly retentionDeleted = new Counter({
    name: 'meshlens_retention_deleted_snapshots_total',
    help: 'Snapshots retention removed',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** Refreshes the gauges read from elsewhere, then renders the exposition text. */
  async render(jobsByState: () => Promise<Record<string, number>>): Promise<string> {
    const counts = await jobsByState();
    this.jobs.reset();
    for (const state of ['created', 'retry', 'active', 'completed', 'cancelled', 'failed']) {
      this.jobs.set({ state }, counts[state] ?? 0);
    }
    return this.registry.metrics();
  }
}
