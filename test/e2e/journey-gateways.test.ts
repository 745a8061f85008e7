// journey through gateways (test/e2e/journey/gateways.yaml and the seed): a sidecar -> an egress-style
// gateway -> the destination's sidecar, a routing loop through a gateway, a mesh client -> the
// ingress gateway -> catalog; with a custom trust domain (principals and the ALLOW policy that names
// one) and PeerAuthentications as Istio resolves them (port-level settings included).
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { askJourney, fixture } from '../support/journey.js';
import { seedManifests, uploadReady, useTestApp } from '../support/test-app.js';

describe('journey through gateways', () => {
  const t = useTestApp();
  let seed: string;
  let gateways: string;
  beforeAll(async () => {
    [seed, gateways] = await uploadReady(
      t.app,
      [
        [seedManifests(), 'istioinaction'],
        [fixture('gateways.yaml'), 'gateways'],
      ],
      180_000,
    );
  }, 400_000);

  const web = { namespace: 'client', name: 'web' };

  it('sidecar -> egress-style gateway -> destination, principals in the mesh config trust domain', async () => {
    const j = await askJourney(t.app, gateways, web, { port: 80, host: 'ext.example.com', path: '/pay' });
    expect(j.paths, JSON.stringify(j.trace, null, 1)).toHaveLength(1);
    const [path] = j.paths;
    expect(path).toMatchObject({ share: 100, outcome: 'DELIVERED', destination: { namespace: 'dest', name: 'srv', kind: 'Deployment' } });
    const [sidecar, gateway, inbound] = path!.hops;
    expect(sidecar).toMatchObject({ proxy: { namespace: 'client', name: 'web', kind: 'Deployment' }, proxyType: 'SIDECAR' });
    expect(sidecar!.resolution.cluster).toBe('outbound|80||egress.gw.svc.cluster.local');
    expect(gateway).toMatchObject({
      proxy: { namespace: 'gw', name: 'egress', kind: 'Deployment' },
      proxyType: 'ROUTER',
      direction: 'OUTBOUND',
    });
    expect(gateway!.resolution.listener).toBe('0.0.0.0_8080');
    expect(gateway!.resolution.cluster).toBe('outbound|80||srv.dest.svc.cluster.local');
    expect(gateway!.tls!.mode).toBe('MTLS');
    expect(inbound).toMatchObject({ proxy: { namespace: 'dest', name: 'srv' }, direction: 'INBOUND' });
    expect(inbound!.resolution).toMatchObject({ cluster: 'inbound|8080||', error: null });
    // The gateway's identity is in trust domain example.org: the ALLOW policy naming it matches.
    expect(inbound!.authorization).toMatchObject({ verdict: 'ALLOW', policy: { namespace: 'dest', name: 'from-egress' }, rule: 0 });
    // STRICT on the workload, from its PeerAuthentication (Istio's resolution, the generator's).
    expect(inbound!.tls).toMatchObject({ mode: 'MTLS', peerAuthentication: { namespace: 'dest', name: 'srv' } });
    expect(inbound!.tls!.reason).toContain('PeerAuthentication dest/srv requires mTLS on port 8080 (STRICT)');
    expect(gateway!.tls!.peerAuthentication).toEqual({ namespace: 'dest', name: 'srv' });
    expect(j.trace.some((t) => t.stage.startsWith('gateway gw/egress'))).toBe(true);
  });

  it('a port-level PeerAuthentication setting is named for its port', async () => {
    const j = await askJourney(t.app, gateways, web, { port: 80, host: 'ext.example.com', path: '/admin' });
    const [path] = j.paths;
    expect(path!.outcome, JSON.stringify(j.trace, null, 1)).toBe('DELIVERED');
    const inbound = path!.hops.at(-1)!;
    expect(inbound.resolution.cluster).toBe('inbound|9090||');
    expect(inbound.tls!.peerAuthentication).toEqual({ namespace: 'dest', name: 'srv' });
    expect(inbound.tls!.reason).toContain('its port-level setting for 9090');
    expect(inbound.tls!.reason).toContain('PERMISSIVE');
  });

  it("a path Envoy's connection manager refuses is answered 400 (DIRECT_RESPONSE), not a connection failure", async () => {
    const j = await askJourney(
      t.app,
      seed,
      { namespace: 'istio-system', name: 'istio-ingressgateway' },
      {
        port: 8080,
        host: 'catalog.istioinaction.io',
        path: '/items%00',
      },
    );
    expect(j.paths).toEqual([expect.objectContaining({ share: 100, outcome: 'DIRECT_RESPONSE', status: 400, destination: null })]);
    expect(j.paths[0]!.hops[0]!.resolution.error).toBe('invalid path, sending 400');
  });

  it('a gateway routing back to itself is a loop, stopped and named', async () => {
    const j = await askJourney(t.app, gateways, web, { port: 80, host: 'loop.example.com' });
    expect(j.paths).toHaveLength(1);
    expect(j.paths[0]).toMatchObject({ outcome: 'CONNECTION_FAILED', destination: { namespace: 'gw', name: 'egress' } });
    expect(j.paths[0]!.hops.map((h) => h.proxy?.name)).toEqual(['web', 'egress']);
    expect(j.trace.at(-1)!.detail).toContain('gw/egress -> gw/egress');
  });

  it('the ingress gateway on the way: a mesh client calls it directly, it routes to catalog', async () => {
    const workloads = await request(t.app.getHttpServer())
      .post('/graphql')
      .send({ query: `{ snapshot(id: "${seed}") { workloads(namespace: "istio-system") { name ips } } }` });
    const gatewayIp = (workloads.body.data.snapshot.workloads as { name: string; ips: string[] }[]).find(
      (w) => w.name === 'istio-ingressgateway',
    )!.ips[0];
    const j = await askJourney(
      t.app,
      seed,
      { namespace: 'istioinaction', name: 'webapp' },
      { port: 8080, address: gatewayIp, host: 'catalog.istioinaction.io', path: '/items' },
    );
    expect(j.paths, JSON.stringify(j.trace, null, 1)).toHaveLength(1);
    const [path] = j.paths;
    expect(path).toMatchObject({ share: 100, outcome: 'DELIVERED', destination: { namespace: 'istioinaction', name: 'catalog' } });
    expect(path!.hops.map((h) => [h.proxy?.name, h.direction])).toEqual([
      ['webapp', 'OUTBOUND'],
      ['istio-ingressgateway', 'OUTBOUND'],
      ['catalog', 'INBOUND'],
    ]);
    expect(path!.hops[0]!.resolution.cluster).toBe('PassthroughCluster');
    expect(path!.hops[0]!.endpoints).toEqual([`${gatewayIp}:8080`]);
    expect(path!.hops[0]!.tls!.mode).toBe('PLAINTEXT');
    expect(path!.hops[1]!.resolution.cluster).toBe('outbound|80|version-v1|catalog.istioinaction.svc.cluster.local');
    expect(path!.hops[1]!.tls!.mode).toBe('MTLS');
    // The catalog sidecar sees the gateway's identity in the default trust domain.
    expect(path!.hops[2]!.tls!.reason).toContain('PERMISSIVE');
  });

  it('an address outside the mesh: PassthroughCluster to it, LEFT_MESH, the address as the endpoint', async () => {
    const j = await askJourney(
      t.app,
      seed,
      { namespace: 'istioinaction', name: 'webapp' },
      { port: 80, address: '93.184.216.34', host: 'example.com', path: '/' },
    );
    expect(j.paths.map((p) => [p.share, p.outcome, p.hops[0]!.resolution.cluster, p.hops[0]!.endpoints])).toEqual([
      [100, 'LEFT_MESH', 'PassthroughCluster', ['93.184.216.34:80']],
    ]);
  });

  it('names every workload with its kind, in a diff as in a journey', async () => {
    const res = await request(t.app.getHttpServer())
      .post('/graphql')
      .send({ query: `{ diff(baseId: "${seed}", headId: "${gateways}") { proxies { workloads { namespace name kind } } } }` });
    expect(res.body.errors).toBeUndefined();
    const refs = (res.body.data.diff.proxies as { workloads: { kind: string }[] }[]).flatMap((p) => p.workloads);
    expect(refs.length).toBeGreaterThan(0);
    expect(refs.every((w) => w.kind === 'Deployment')).toBe(true);
  });
});
