// journey's authorization decisions for the behaviours Istio's own authorization tests assert
// (tests/integration/security/authz_test.go): `when` conditions, path templates, DENY before ALLOW,
// path normalization, notMethods/notPorts and a DENY of plaintext. The mesh is
// test/e2e/journey/istio-authz.yaml, the requests and what Istio asserts istio-authz-cases.yaml.
import { beforeAll, describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { askJourney, fixture } from '../support/journey.js';
import { uploadSnapshot, waitReady, useTestApp } from '../support/test-app.js';

interface Case {
  from: string;
  host: string;
  port?: number;
  method?: string;
  path: string;
  headers?: Record<string, string>;
  /** X-Forwarded-For, as a client outside the mesh sends it. */
  xff?: string;
  /** The token the request carries (its claims, from `tokens`), as the identity of the journey. */
  token?: string;
  allow: boolean;
  policy?: string;
  rule?: number;
}

const table = YAML.parse(fixture('istio-authz-cases.yaml')) as {
  senders: Record<string, Record<string, unknown>>;
  tokens: Record<string, Record<string, unknown>>;
  cases: Case[];
};
// A case with a rule but no policy names the policy of the case before it (the table lists them by policy).
let last: string | undefined;
const cases = table.cases.map((c) => ({ ...c, policy: (last = c.policy ?? last) }));

describe("journey: the authorization behaviours of Istio's authz tests", () => {
  const t = useTestApp();
  let id: string;
  beforeAll(async () => {
    id = await uploadSnapshot(t.app, fixture('istio-authz.yaml'), 'istio-authz');
    await waitReady(t.app, id, 120_000);
  }, 300_000);

  it.each(
    cases.map((c) => [
      `${c.from} ${c.method ?? 'GET'} ${c.host}:${c.port ?? 80}${c.path} ${JSON.stringify(c.headers ?? {})}${c.token ? ` with ${c.token}` : ''}`,
      c,
    ]),
  )('%s', async (_name, c) => {
    const j = await askJourney(
      t.app,
      id,
      table.senders[c.from]!,
      {
        port: c.port ?? 80,
        host: c.host.includes('.') ? c.host : `${c.host}.bank.svc.cluster.local`,
        path: c.path,
        method: c.method ?? 'GET',
        headers: Object.entries({ ...c.headers, ...(c.xff ? { 'x-forwarded-for': c.xff } : {}) }).map(([name, value]) => ({ name, value })),
      },
      c.token ? { claims: table.tokens[c.token] } : undefined,
    );
    expect(j.paths).toHaveLength(1);
    const path = j.paths[0]!;
    const decision = path.hops.at(-1)!.authorization!;
    expect([path.outcome, path.status], decision.reason).toEqual(c.allow ? ['DELIVERED', null] : ['DENIED', 403]);
    if (c.rule !== undefined) expect({ policy: decision.policy?.name, rule: decision.rule }).toEqual({ policy: c.policy, rule: c.rule });
  });
});
