// journey's authorization decisions for the behaviours Istio's own authorization tests assert
// (tests/integration/security/authz_test.go), one mesh per table: istio-authz.yaml (`when`
// conditions, path templates, DENY before ALLOW, path normalization, notMethods/notPorts, a DENY of
// plaintext, JWTs, an ingress gateway) and istio-authz-sources.yaml (principals, service accounts,
// trust domains, namespaces, a root-namespace DENY, workload selectors, CUSTOM, TCP, an egress
// gateway), istio-authz-aliases.yaml (trust domain aliases) and istio-authn.yaml (how
// PeerAuthentications compose); the requests and what Istio asserts are in the matching *-cases.yaml.
import { beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { askJourney, fixture } from '../support/journey.js';
import { uploadSnapshot, waitReady, useTestApp } from '../support/test-app.js';

interface Case {
  from: string;
  host: string;
  /** The address called, when it is not the host's (a host outside the mesh). */
  address?: string;
  port?: number;
  /** TCP: a connection to the receiver's tcp port 90 (at its ClusterIP, `address`), without a request. */
  protocol?: 'TCP';
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  /** X-Forwarded-For, as a client outside the mesh sends it. */
  xff?: string;
  /** The token the request carries (its claims, from `tokens`), as the identity of the journey. */
  token?: string;
  allow?: boolean;
  /** The receiver refuses the connection before any request (its mTLS mode): no authorization runs. */
  refused?: boolean;
  /** A CUSTOM policy applies: its provider decides at runtime, so the journey does not. */
  custom?: boolean;
  /** The proxy (name) whose decision is checked; the last hop's by default. */
  at?: string;
  policy?: string;
  rule?: number;
  /** What the dry-run (shadow) engines say, each the start of one of the decision's dryRun lines. */
  dryRun?: string[];
  /** The action of the deciding policy, when it is not its effect (a CUSTOM policy that fails closed). */
  action?: string;
  /** The transport the checked hop receives (MTLS, PLAINTEXT). */
  tls?: string;
}

const TABLES = [
  ['istio-authz.yaml', 'istio-authz-cases.yaml'],
  ['istio-authz-sources.yaml', 'istio-authz-sources-cases.yaml'],
  ['istio-authz-aliases.yaml', 'istio-authz-aliases-cases.yaml'],
  ['istio-authn.yaml', 'istio-authn-cases.yaml'],
] as const;

describe.each(TABLES)("journey: the authorization behaviours of Istio's authz tests, %s", (mesh, casesFile) => {
  const table = YAML.parse(fixture(casesFile)) as {
    senders: Record<string, Record<string, unknown>>;
    tokens: Record<string, Record<string, unknown>>;
    cases: Case[];
  };
  // A case with a rule but no policy names the policy of the case before it (the table lists them by policy).
  let last: string | undefined;
  const cases = table.cases.map((c) => ({ ...c, policy: (last = c.policy ?? last) }));

  const t = useTestApp();
  let id: string;
  beforeAll(async () => {
    id = await uploadSnapshot(t.app, fixture(mesh), mesh.replace(/\.yaml$/, ''));
    await waitReady(t.app, id, 120_000);
  }, 300_000);

  it.each(
    cases.map((c) => [
      `${c.from} ${c.protocol ?? c.method ?? 'GET'} ${c.host}:${c.port ?? (c.protocol ? 90 : 80)}${c.path ?? ''} ${JSON.stringify(c.headers ?? {})}${c.token ? ` with ${c.token}` : ''}`,
      c,
    ]),
  )('%s', async (_name, c) => {
    const tcp = c.protocol === 'TCP';
    const j = await askJourney(
      t.app,
      id,
      table.senders[c.from]!,
      {
        ...(c.address ? { address: c.address } : {}),
        ...(tcp ? { protocol: 'TCP' } : {}),
        port: c.port ?? (tcp ? 90 : 80),
        host: c.host.includes('.') ? c.host : `${c.host}.bank.svc.cluster.local`,
        path: c.path ?? '/',
        method: c.method ?? 'GET',
        headers: Object.entries({ ...c.headers, ...(c.xff ? { 'x-forwarded-for': c.xff } : {}) }).map(([name, value]) => ({ name, value })),
      },
      c.token ? { claims: table.tokens[c.token] } : undefined,
    );
    expect(j.paths).toHaveLength(1);
    const path = j.paths[0]!;
    const hop = c.at ? path.hops.find((h) => h.proxy?.name === c.at) : path.hops.at(-1);
    if (c.tls) expect(hop!.tls?.mode, hop!.tls?.reason).toBe(c.tls);
    if (c.refused) {
      expect([path.outcome, hop!.authorization], hop!.tls?.reason).toEqual(['CONNECTION_FAILED', null]);
      return;
    }
    const decision = hop?.authorization;
    expect(decision, JSON.stringify(path)).toBeTruthy();
    if (c.custom)
      expect([path.outcome, decision!.verdict, decision!.action], decision!.reason).toEqual(['DELIVERED', 'NOT_DECIDED', 'CUSTOM']);
    else expect([path.outcome, path.status], decision!.reason).toEqual(c.allow ? ['DELIVERED', null] : ['DENIED', tcp ? null : 403]);
    if (c.dryRun)
      for (const line of c.dryRun)
        expect(
          decision!.dryRun?.some((d) => d.startsWith(line)),
          JSON.stringify(decision!.dryRun),
        ).toBe(true);
    if (c.action) expect(decision!.action, decision!.reason).toBe(c.action);
    if (c.rule !== undefined) expect({ policy: decision!.policy?.name, rule: decision!.rule }).toEqual({ policy: c.policy, rule: c.rule });
  });
});
