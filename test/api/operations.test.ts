// What operators and their tools see: health, readiness, metrics, request ids, API docs.
import { DataSource } from 'typeorm';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { eventually, useTestApp } from '../support/test-app.js';

const t = useTestApp();

const api = () => request(t.app.getHttpServer());

describe('health', () => {
  it('/healthz', async () => {
    expect((await api().get('/healthz')).body).toEqual({ status: 'ok' });
  });

  it('/readyz: 200 when the database answers and the migrations are applied, else 503', async () => {
    expect((await api().get('/readyz')).status).toBe(200);
    const [last] = await t.db.query<{ id: number; timestamp: string; name: string }>('SELECT * FROM migrations ORDER BY id DESC LIMIT 1');
    await t.db.query('DELETE FROM migrations WHERE id = $1', [last!.id]);
    try {
      const res = await api().get('/readyz');
      expect(res.status).toBe(503);
      expect(res.body).toEqual({ error: 'not ready', details: ['database migrations are pending'] });
    } finally {
      await t.db.query('INSERT INTO migrations (id, timestamp, name) VALUES ($1, $2, $3)', [last!.id, last!.timestamp, last!.name]);
    }
    expect((await api().get('/readyz')).status).toBe(200);
  });

  it('/readyz: 503 when the database is unreachable', async () => {
    const dataSource = t.app.get(DataSource);
    const query = dataSource.query.bind(dataSource);
    dataSource.query = async () => {
      throw new Error('connect ECONNREFUSED');
    };
    try {
      const res = await api().get('/readyz');
      expect(res.status).toBe(503);
      expect(res.body.details[0]).toMatch(/database unreachable: connect ECONNREFUSED/);
    } finally {
      dataSource.query = query;
    }
  });
});

describe('metrics', () => {
  it('exposes request durations by route and status, ingest counters and jobs by state', async () => {
    const upload = await api()
      .post('/api/v1/snapshots')
      .set('content-type', 'application/json')
      .send(
        JSON.stringify([
          { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'm1' } },
          { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'm2' } },
        ]),
      );
    expect(upload.status).toBe(201);
    await api().get('/api/v1/snapshots/00000000-0000-0000-0000-000000000000').expect(404);
    await eventually(async () => ((await api().get(`/api/v1/snapshots/${upload.body.id}`)).body.status === 'READY' ? true : undefined));
    // The job writes READY inside its handler; pg-boss marks the job completed after the handler
    // returns, so the queue's count can lag the snapshot's status by a moment.
    const res = await eventually(async () => {
      const scraped = await api().get('/metrics');
      return /meshlens_jobs\{state="completed"\} 1/.test(scraped.text) ? scraped : undefined;
    });
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/plain/);
    expect(res.text).toMatch(/http_request_duration_seconds_count\{method="POST",route="\/api\/v1\/snapshots",status="201"\} 1/);
    expect(res.text).toMatch(/http_request_duration_seconds_count\{method="GET",route="\/api\/v1\/snapshots\/:id",status="404"\} 1/);
    expect(res.text).toMatch(/meshlens_snapshots_ingested_total 1/);
    expect(res.text).toMatch(/meshlens_resources_stored_total 2/);
    expect(res.text).toMatch(/meshlens_jobs\{state="completed"\} 1/);
    expect(res.text).toMatch(/meshlens_jobs\{state="created"\} 0/);
  });
});

describe('request ids', () => {
  it("echoes a client's x-request-id", async () => {
    const res = await api().get('/healthz').set('x-request-id', 'trace-abc.123');
    expect(res.headers['x-request-id']).toBe('trace-abc.123');
  });

  it('generates one when absent or unusable', async () => {
    const plain = await api().get('/healthz');
    expect(plain.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const hostile = await api().get('/healthz').set('x-request-id', 'a b\u00e9<script>');
    expect(hostile.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('errors', () => {
  it('unknown routes are a 404 {error, details}', async () => {
    const res = await api().get('/nowhere');
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ error: expect.stringContaining('/nowhere'), details: [] });
  });
});

describe('OpenAPI', () => {
  it('documents the snapshot endpoints at /api/docs', async () => {
    const res = await api().get('/api/docs-json');
    expect(res.status).toBe(200);
    expect(Object.keys(res.body.paths)).toEqual(
      expect.arrayContaining(['/api/v1/snapshots', '/api/v1/snapshots/{id}', '/healthz', '/readyz']),
    );
    expect((await api().get('/api/docs')).text).toMatch(/swagger/i);
  });
});
