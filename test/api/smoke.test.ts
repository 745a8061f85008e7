// The smoke test `.ci/run` also runs on the embedded Postgres (without DATABASE_URL): the app
// starts on it, takes a snapshot, computes it, and serves a proxy's config.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { uploadSnapshot, useTestApp, waitReady } from '../support/test-app.js';

const t = useTestApp();
const manifests = readFileSync(join(import.meta.dirname, '../../examples/helloworld/helloworld.yaml'), 'utf8');

describe('smoke', () => {
  it('health, upload, compute, proxy config', async () => {
    expect((await t.api().get('/readyz')).status).toBe(200);
    const id = await uploadSnapshot(t.app, manifests, 'smoke');
    await waitReady(t.app, id);
    const status = await t.api().get(`/api/v1/snapshots/${id}/proxy-status`);
    expect(status.status).toBe(200);
    expect(status.text).toMatch(/meshlens/);
  });
});
