// journey on a READY snapshot reads what the compute job stored (configs, the mesh's trust domain,
// each class's PeerAuthentication resolution): it asks no generator session, and answers exactly as
// a snapshot computed before that was stored (mesh_security null), which still asks the generator.
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { GeneratorService } from '../../src/generator/generator.service.js';
import { askJourney, fixture } from '../support/journey.js';
import { uploadReady, useTestApp } from '../support/test-app.js';

describe('journey on a READY snapshot: stored security settings, no generator session', () => {
  const t = useTestApp();
  /** [stored, as computed before the migration] of each fixture */
  let matrix: [string, string];
  let gateways: [string, string];
  beforeAll(async () => {
    const [m1, m2, g1, g2] = await uploadReady(
      t.app,
      [
        [fixture('tls-matrix.yaml'), 'tls-matrix'],
        [fixture('tls-matrix.yaml'), 'tls-matrix-before'],
        [fixture('gateways.yaml'), 'gateways'],
        [fixture('gateways.yaml'), 'gateways-before'],
      ],
      240_000,
    );
    matrix = [m1!, m2!];
    gateways = [g1!, g2!];
    await t.db.query('UPDATE snapshots SET mesh_security = NULL WHERE id = ANY($1::uuid[])', [[m2, g2]]);
  }, 600_000);
  afterEach(() => vi.restoreAllMocks());

  // [snapshots, sender, call]: the mTLS matrix (STRICT, PERMISSIVE, DISABLE, no sidecar x DestinationRule
  // TLS modes, senders with and without a sidecar), a custom trust domain, a port-level setting, a gateway.
  const cases: [() => [string, string], Record<string, unknown>, Record<string, unknown>][] = [
    ...['strict', 'permissive', 'off', 'plain'].flatMap((ns) =>
      ['auto', 'mutual', 'disable', 'simple'].map((subset): [() => [string, string], Record<string, unknown>, Record<string, unknown>] => [
        () => matrix,
        { namespace: 'client', name: 'web' },
        { port: 80, host: `srv.${ns}.svc.cluster.local`, headers: [{ name: 'x-tls', value: subset }] },
      ]),
    ),
    ...['strict', 'permissive', 'off', 'plain'].map((ns): [() => [string, string], Record<string, unknown>, Record<string, unknown>] => [
      () => matrix,
      { namespace: 'legacy', name: 'batch' },
      { port: 80, host: `srv.${ns}` },
    ]),
    [() => gateways, { namespace: 'client', name: 'web' }, { port: 80, host: 'ext.example.com', path: '/pay' }],
    [() => gateways, { namespace: 'client', name: 'web' }, { port: 80, host: 'ext.example.com', path: '/admin' }],
  ];

  it('asks the generator nothing, and answers as the generator-backed journey does', async () => {
    const generator = t.app.get(GeneratorService);
    const ask = vi.spyOn(generator, 'ask');
    const askRaw = vi.spyOn(generator, 'askRaw');
    const stored = [];
    for (const [snapshots, from, call] of cases) stored.push(await askJourney(t.app, snapshots()[0], from, call));
    expect(ask.mock.calls.map((c) => c[1])).toEqual([]);
    expect(askRaw.mock.calls.map((c) => c[1])).toEqual([]);

    const before = [];
    for (const [snapshots, from, call] of cases) before.push(await askJourney(t.app, snapshots()[1], from, call));
    // The snapshots without stored settings asked the generator, as every journey did before.
    const asked = new Set(ask.mock.calls.map((c) => c[1]));
    expect(asked).toContain('mesh');
    expect(asked).toContain('peerAuthentication');
    expect(stored).toEqual(before);
    // The answers are the rich ones: the deciding PeerAuthentication, at port level where it is, and the trust domain's principal.
    const [pay, admin] = stored.slice(-2);
    expect(pay!.paths[0]!.hops.at(-1)!.tls!.reason).toContain('PeerAuthentication dest/srv requires mTLS on port 8080 (STRICT)');
    expect(pay!.paths[0]!.hops.at(-1)!.authorization).toMatchObject({
      verdict: 'ALLOW',
      policy: { namespace: 'dest', name: 'from-egress' },
    });
    expect(admin!.paths[0]!.hops.at(-1)!.tls!.peerAuthentication).toEqual({ namespace: 'dest', name: 'srv' });
    expect(admin!.paths[0]!.hops.at(-1)!.tls!.reason).toContain('its port-level setting for 9090');
  });
});
