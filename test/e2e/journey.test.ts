// journey end to end: the seed ingress gateway -> catalog path, the mTLS matrix (PeerAuthentication
// x DestinationRule TLS mode x sender with and without a sidecar), on READY snapshots computed by
// the generator, through GraphQL and REST.
import { readdirSync, readFileSync } from 'node:fs';
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { askJourney, fixture } from '../support/journey.js';
import { uploadSnapshot, waitReady, useTestApp } from '../support/test-app.js';

const root = new URL('../../', import.meta.url);
const readDir = (dir: URL) =>
  readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .map((f) => readFileSync(new URL(f, dir), 'utf8'))
    .join('\n---\n');
describe('journey', () => {
  const t = useTestApp();
  let seed: string;
  let matrix: string;
  beforeAll(async () => {
    seed = await uploadSnapshot(t.app, readDir(new URL('examples/istioinaction/', root)), 'istioinaction');
    matrix = await uploadSnapshot(t.app, fixture('tls-matrix.yaml'), 'tls-matrix');
    await waitReady(t.app, seed, 120_000);
    await waitReady(t.app, matrix, 120_000);
  }, 300_000);

  describe('the seed: ingress gateway -> catalog', () => {
    it('goes from the gateway to catalog v1 over auto mTLS, and is allowed (no policy)', async () => {
      const j = await askJourney(
        t.app,
        seed,
        { namespace: 'istio-system', name: 'istio-ingressgateway' },
        { port: 8080, host: 'catalog.istioinaction.io', path: '/items' },
      );
      expect(j.paths).toHaveLength(1);
      const [path] = j.paths;
      expect(path).toMatchObject({
        share: 100,
        outcome: 'DELIVERED',
        status: null,
        destination: { namespace: 'istioinaction', name: 'catalog' },
      });
      const [gateway, sidecar] = path!.hops;
      expect(gateway).toMatchObject({
        proxy: { namespace: 'istio-system', name: 'istio-ingressgateway' },
        proxyType: 'ROUTER',
        direction: 'OUTBOUND',
        authorization: null,
      });
      expect(gateway!.resolution.cluster).toBe('outbound|80|version-v1|catalog.istioinaction.svc.cluster.local');
      expect(gateway!.endpoints).toHaveLength(1);
      expect(gateway!.endpoints![0]).toMatch(/:3000$/);
      expect(gateway!.tls).toMatchObject({ mode: 'MTLS', destinationRule: { namespace: 'istioinaction', name: 'catalog' } });
      expect(gateway!.tls!.reason).toContain('auto mTLS');
      // The Service maps port 80 to targetPort http (3000): the sidecar's inbound walk is on 3000.
      expect(sidecar).toMatchObject({ proxy: { namespace: 'istioinaction', name: 'catalog' }, proxyType: 'SIDECAR', direction: 'INBOUND' });
      expect(sidecar!.resolution).toMatchObject({ listener: 'virtualInbound', cluster: 'inbound|3000||', error: null });
      expect(sidecar!.tls!.mode).toBe('MTLS');
      expect(sidecar!.tls!.reason).toContain('PERMISSIVE');
      expect(sidecar!.authorization).toMatchObject({ verdict: 'ALLOW', policy: null });
      expect(j.trace.some((t) => t.stage.startsWith('receiver istioinaction/catalog'))).toBe(true);
    });

    it('takes the cohort header to catalog v2', async () => {
      const j = await askJourney(
        t.app,
        seed,
        { namespace: 'istio-system', name: 'istio-ingressgateway' },
        { port: 8080, host: 'catalog.istioinaction.io', headers: [{ name: 'x-istio-cohort', value: 'internal' }] },
      );
      expect(j.paths.map((p) => [p.share, p.outcome, p.destination?.name])).toEqual([[100, 'DELIVERED', 'catalog-v2']]);
    });

    it('splits webapp -> catalog 90/10 across the two versions, by weighted cluster', async () => {
      const j = await askJourney(t.app, seed, { namespace: 'istioinaction', name: 'webapp' }, { port: 80, host: 'catalog' });
      expect(j.paths.map((p) => [p.share, p.outcome, p.destination?.name])).toEqual([
        [90, 'DELIVERED', 'catalog'],
        [10, 'DELIVERED', 'catalog-v2'],
      ]);
      expect(j.paths.every((p) => p.hops[0]!.tls!.mode === 'MTLS')).toBe(true);
    });

    it('answers 404 for a host the gateway does not serve', async () => {
      const j = await askJourney(
        t.app,
        seed,
        { namespace: 'istio-system', name: 'istio-ingressgateway' },
        { port: 8080, host: 'nope.example.com' },
      );
      expect(j.paths).toEqual([expect.objectContaining({ share: 100, outcome: 'NO_ROUTE', status: 404, destination: null })]);
    });

    it('is served over REST with the same input as JSON', async () => {
      const res = await request(t.app.getHttpServer())
        .post(`/api/v1/snapshots/${seed}/journey`)
        .send({
          from: { namespace: 'istio-system', name: 'istio-ingressgateway' },
          call: { port: 8080, host: 'catalog.istioinaction.io' },
        });
      expect(res.status).toBe(200);
      expect(res.body.paths.map((p: { outcome: string; destination: { name: string } }) => [p.outcome, p.destination.name])).toEqual([
        ['DELIVERED', 'catalog'],
      ]);
      const bad = await request(t.app.getHttpServer())
        .post(`/api/v1/snapshots/${seed}/journey`)
        .send({ from: { name: 'x' }, call: { port: 'eighty' } });
      expect(bad.status).toBe(400);
      expect(bad.body.details).toEqual(expect.arrayContaining(['from.namespace is required', 'call.port must be a number']));
      const missing = await request(t.app.getHttpServer())
        .post('/api/v1/snapshots/00000000-0000-0000-0000-000000000000/journey')
        .send({ from: { namespace: 'a', name: 'b' }, call: { port: 80 } });
      expect(missing.status).toBe(404);
    });
  });

  describe('mTLS: PeerAuthentication x DestinationRule TLS mode x sender', () => {
    // [server namespace, x-tls subset, outcome, mode on the wire]
    const withSidecar: [string, string, string, string][] = [
      ['strict', 'auto', 'DELIVERED', 'MTLS'],
      ['strict', 'mutual', 'DELIVERED', 'MTLS'],
      ['strict', 'disable', 'CONNECTION_FAILED', 'PLAINTEXT'],
      ['strict', 'simple', 'CONNECTION_FAILED', 'TLS'],
      ['permissive', 'auto', 'DELIVERED', 'MTLS'],
      ['permissive', 'mutual', 'DELIVERED', 'MTLS'],
      ['permissive', 'disable', 'DELIVERED', 'PLAINTEXT'],
      ['permissive', 'simple', 'CONNECTION_FAILED', 'TLS'],
      ['off', 'auto', 'DELIVERED', 'PLAINTEXT'],
      ['off', 'mutual', 'CONNECTION_FAILED', 'MTLS'],
      ['off', 'disable', 'DELIVERED', 'PLAINTEXT'],
      ['off', 'simple', 'CONNECTION_FAILED', 'TLS'],
      ['plain', 'auto', 'DELIVERED', 'PLAINTEXT'],
      ['plain', 'mutual', 'CONNECTION_FAILED', 'MTLS'],
      ['plain', 'disable', 'DELIVERED', 'PLAINTEXT'],
    ];
    for (const [ns, subset, outcome, mode] of withSidecar)
      it(`sidecar -> ${ns} server, DestinationRule subset ${subset}: ${outcome} (${mode})`, async () => {
        const j = await askJourney(
          t.app,
          matrix,
          { namespace: 'client', name: 'web' },
          { port: 80, host: `srv.${ns}.svc.cluster.local`, headers: [{ name: 'x-tls', value: subset }] },
        );
        expect(j.paths).toHaveLength(1);
        const [path] = j.paths;
        expect(path!.outcome, JSON.stringify(path)).toBe(outcome);
        expect(path!.destination).toMatchObject({ namespace: ns, name: 'srv' });
        const sent = path!.hops[0]!.tls!;
        expect(sent.mode).toBe(mode);
        expect(sent.destinationRule).toEqual({ namespace: ns, name: 'srv' });
        if (subset === 'mutual') expect(sent.reason).toContain('sets ISTIO_MUTUAL');
        if (ns === 'strict' && subset === 'disable') expect(path!.hops[1]!.tls!.reason).toContain('requires mTLS on port 8080');
        if (ns !== 'plain')
          expect(path!.hops[0]!.tls!.peerAuthentication).toEqual(ns === 'permissive' ? null : { namespace: ns, name: 'default' });
      });

    const withoutSidecar: [string, string][] = [
      ['strict', 'CONNECTION_FAILED'],
      ['permissive', 'DELIVERED'],
      ['off', 'DELIVERED'],
      ['plain', 'DELIVERED'],
    ];
    for (const [ns, outcome] of withoutSidecar)
      it(`no sidecar -> ${ns} server: ${outcome}, plaintext through kube-proxy`, async () => {
        const j = await askJourney(
          t.app,
          matrix,
          { namespace: 'legacy', name: 'batch' },
          { port: 80, host: `srv.${ns}`, headers: [{ name: 'x-tls', value: 'mutual' }] },
        );
        expect(j.paths).toHaveLength(1);
        const [path] = j.paths;
        expect(path!.outcome).toBe(outcome);
        expect(path!.hops[0]).toMatchObject({ proxy: null, proxyType: 'NONE', direction: 'OUTBOUND' });
        expect(path!.hops[0]!.endpoints![0]).toMatch(/:8080$/);
        expect(path!.hops[0]!.tls!.mode).toBe('PLAINTEXT');
      });
  });
});
