// Connectivity on the meshes of Istio's authz, reachability and PeerAuthentication cases
// (test/e2e/journey/istio-authz-sources.yaml, istio-authn.yaml, istio-authz-aliases.yaml), per
// connection: a receiver that refuses a sender's transport, every TCP case and every case decided on
// the connection get Istio's verdict (a CUSTOM policy leaves it to its provider: CONDITIONAL); an
// HTTP port where Istio allows some request is not DENIED; the transport is the one the case names.
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
  /** The decision does not depend on the request (HTTP alike): connectivity's verdict is Istio's. */
  connection?: boolean;
  tls?: string;
}

/** The journey senders that are workloads of the meshes too. */
const WORKLOADS: Record<string, string> = { teller: 'bank/teller', intruder: 'other/intruder', legacy: 'plain/legacy' };

const fqdn = (host: string) => (host.includes('.') ? host : `${host}.bank.svc.cluster.local`);

describe.each([
  ['istio-authz-sources.yaml', 'istio-authz-sources-cases.yaml'],
  ['istio-authn.yaml', 'istio-authn-cases.yaml'],
  ['istio-authz-aliases.yaml', 'istio-authz-aliases-cases.yaml'],
])("connectivity: Istio's cases of %s, per connection", { timeout: 180_000 }, (mesh, casesFile) => {
  const cases = (YAML.parse(fixture(casesFile)) as { cases: Case[] }).cases.filter(
    // Hosts outside the mesh (the egress gateway's) are not connections to a service port.
    (c) => WORKLOADS[c.from] && !c.address?.startsWith('10.4.'),
  );
  let rows: ConnectionRow[];
  const row = (c: Case) => {
    const to = `${fqdn(c.host)}:${c.protocol ? 90 : 80}`;
    const r = rows.find((x) => `${x.source.namespace}/${x.source.name}` === WORKLOADS[c.from] && x.destination === to);
    expect(r, `${c.from} -> ${to}`).toBeTruthy();
    return r!;
  };
  const name = (c: Case) => `${c.from} -> ${c.host}:${c.protocol ? 90 : 80}`;

  it('computes the mesh', async () => {
    rows = (await connectivityOf(fixture(mesh))).rows;
  });

  it.each(cases.filter((c) => c.protocol || c.refused || c.connection).map((c) => [name(c), c] as const))('%s', (_n, c) => {
    const r = row(c);
    expect(r.verdict, r.reason).toBe(c.custom ? 'CONDITIONAL' : c.allow ? 'ALLOWED' : 'DENIED');
    if (c.tls) expect(r.tls, r.reason).toBe(c.tls);
  });

  const httpAllowed = [...new Map(cases.filter((c) => !c.protocol && c.allow).map((c) => [`${c.from} ${c.host}`, c])).values()];
  it.each(httpAllowed.map((c) => [name(c), c] as const))('%s: some request is allowed', (_n, c) => {
    const r = row(c);
    expect(r.verdict, r.reason).not.toBe('DENIED');
    if (c.tls) expect(r.tls, r.reason).toBe(c.tls);
  });
});
