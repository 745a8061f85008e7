// Connectivity on the mesh of Istio's source, selector and reachability cases
// (test/e2e/journey/istio-authz-sources.yaml): for every TCP case of istio-authz-sources-cases.yaml
// the connection's verdict is Istio's (a CUSTOM policy leaves it to its provider: CONDITIONAL); an
// HTTP port where Istio allows some request is not DENIED.
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import type { ConnectionRow } from '../../src/connectivity/rows.js';
import { connectivityOf } from '../support/connectivity.js';
import { fixture } from '../support/journey.js';

interface Case {
  from: string;
  host: string;
  address?: string;
  protocol?: 'TCP';
  allow?: boolean;
  custom?: boolean;
  refused?: boolean;
}

/** The journey senders that are workloads of the mesh too. */
const WORKLOADS: Record<string, string> = { teller: 'bank/teller', intruder: 'other/intruder', legacy: 'plain/legacy' };

const cases = (YAML.parse(fixture('istio-authz-sources-cases.yaml')) as { cases: Case[] }).cases.filter(
  // Hosts outside the mesh (the egress gateway's) are not connections to a service port.
  (c) => WORKLOADS[c.from] && !c.address?.startsWith('10.4.'),
);
const fqdn = (host: string) => (host.includes('.') ? host : `${host}.bank.svc.cluster.local`);

describe("connectivity: Istio's authz and reachability cases, per connection", { timeout: 180_000 }, () => {
  let rows: ConnectionRow[];
  const row = (c: Case, port: number) => {
    const r = rows.find(
      (x) => `${x.source.namespace}/${x.source.name}` === WORKLOADS[c.from] && x.destination === `${fqdn(c.host)}:${port}`,
    );
    expect(r, `${c.from} -> ${fqdn(c.host)}:${port}`).toBeTruthy();
    return r!;
  };

  it('computes the mesh', async () => {
    rows = (await connectivityOf(fixture('istio-authz-sources.yaml'))).rows;
  });

  it.each(cases.filter((c) => c.protocol === 'TCP').map((c) => [`${c.from} -> ${c.host}:90`, c] as const))('TCP %s', (_n, c) => {
    const r = row(c, 90);
    expect(r.verdict, r.reason).toBe(c.custom ? 'CONDITIONAL' : c.allow ? 'ALLOWED' : 'DENIED');
  });

  const httpAllowed = [...new Map(cases.filter((c) => !c.protocol && c.allow).map((c) => [`${c.from} ${c.host}`, c])).values()];
  it.each(httpAllowed.map((c) => [`${c.from} -> ${c.host}:80`, c] as const))('HTTP %s: some request is allowed', (_n, c) => {
    const r = row(c, 80);
    expect(r.verdict, r.reason).not.toBe('DENIED');
  });
});
