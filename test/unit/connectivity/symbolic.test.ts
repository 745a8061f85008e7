// The RBAC filters of an inbound chain evaluated over every request of one sender
// (src/connectivity/symbolic.ts), on filters in the shapes istiod generates
// (pilot/pkg/security/authz/builder): what the sender's identity decides, what stays a condition.
import { describe, expect, it } from 'vitest';
import { describeCondition, symbolicAuthorize, symbolicAuthorizer, type FixedFacts } from '../../../src/connectivity/symbolic.js';
import { connectivityTable } from '../../../src/cli/connectivity.js';
import type { FilterChain } from '../../../src/envoy/xds.js';
import type { Permission, Principal, Rbac } from '../../../src/envoy/rbac.js';

const HTTP_RBAC_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.rbac.v3.RBAC';
const chain = (...rbacs: { rules?: Rbac; shadowRules?: Rbac; shadowRulesStatPrefix?: string }[]): FilterChain => ({
  filters: [
    {
      name: 'envoy.filters.network.http_connection_manager',
      typedConfig: {
        httpFilters: [
          ...rbacs.map((r) => ({ name: 'envoy.filters.http.rbac', typedConfig: { '@type': HTTP_RBAC_TYPE, ...r } })),
          { name: 'envoy.filters.http.router' },
        ],
      },
    },
  ],
});
const web: FixedFacts = {
  principal: 'spiffe://cluster.local/ns/shop/sa/web',
  sourceIp: '10.1.0.11',
  destinationIp: '10.1.0.10',
  destinationPort: 8080,
};
const plain: FixedFacts = { ...web, principal: null, sourceIp: '10.2.0.14' };
const method = (m: string): Permission => ({ header: { name: ':method', stringMatch: { exact: m } } });
const prefix = (p: string): Permission => ({ urlPath: { path: { prefix: p } } });
const principal = (p: string): Principal => ({ authenticated: { principalName: { exact: p } } });
const ns = (n: string): Principal => ({ authenticated: { principalName: { safeRegex: { regex: `.*/ns/${n}/.*` } } } });
const rule = (permissions: Permission[], principals: Principal[]) => ({
  permissions: [{ andRules: { rules: permissions } }],
  principals: [{ andIds: { ids: principals } }],
});
const methodsOnPaths = rule(
  [{ orRules: { rules: [method('GET'), method('HEAD')] } }, { orRules: { rules: [prefix('/api/')] } }],
  [{ orIds: { ids: [principal('spiffe://cluster.local/ns/shop/sa/web')] } }],
);

describe('symbolic RBAC', () => {
  it('a principal rule with methods and paths: conditional for that principal, denied for others', () => {
    const c = chain({ rules: { action: 'ALLOW', policies: { 'ns[shop]-policy[db-access]-rule[0]': methodsOnPaths } } });
    const d = symbolicAuthorize(c, web);
    expect(describeCondition(d.allowed)).toEqual(['methods GET, HEAD on path /api/*']);
    expect(d.policies).toEqual([{ kind: 'AuthorizationPolicy', namespace: 'shop', name: 'db-access' }]);
    expect(symbolicAuthorize(c, { ...web, principal: 'spiffe://cluster.local/ns/shop/sa/other' }).allowed).toEqual({ t: 'false' });
    // Without mTLS there is no principal to match.
    expect(symbolicAuthorize(c, plain).allowed).toEqual({ t: 'false' });
  });

  it('namespaces and ipBlocks are decided by the sender', () => {
    const c = chain({
      rules: {
        policies: {
          'ns[shop]-policy[p]-rule[0]': rule([{ any: true }], [{ orIds: { ids: [ns('partner')] } }]),
          'ns[shop]-policy[p]-rule[1]': rule(
            [{ any: true }],
            [{ orIds: { ids: [{ directRemoteIp: { addressPrefix: '10.2.0.0', prefixLen: 16 } }] } }],
          ),
        },
      },
    });
    expect(symbolicAuthorize(c, { ...web, principal: 'spiffe://cluster.local/ns/partner/sa/reporter' }).allowed).toEqual({ t: 'true' });
    expect(symbolicAuthorize(c, plain).allowed).toEqual({ t: 'true' });
    expect(symbolicAuthorize(c, web).allowed).toEqual({ t: 'false' });
  });

  it('DENY overrides ALLOW, and alone names the deciding policy; a DENY on paths becomes an exception', () => {
    const allow = {
      rules: { action: 'ALLOW' as const, policies: { 'ns[shop]-policy[all]-rule[0]': rule([{ any: true }], [{ any: true }]) } },
    };
    const denyWeb = {
      rules: {
        action: 'DENY' as const,
        policies: { 'ns[shop]-policy[no-web]-rule[0]': rule([{ any: true }], [principal(web.principal!)]) },
      },
    };
    const d = symbolicAuthorize(chain(denyWeb, allow), web);
    expect(d.allowed).toEqual({ t: 'false' });
    expect(d.policies.map((p) => p.name)).toEqual(['no-web']);
    const denyAdmin = {
      rules: { action: 'DENY' as const, policies: { 'ns[shop]-policy[no-admin]-rule[0]': rule([prefix('/admin')], [{ any: true }]) } },
    };
    expect(describeCondition(symbolicAuthorize(chain(denyAdmin, allow), web).allowed)).toEqual(['any request except on path /admin*']);
  });

  it('ALLOW with no policy allows nothing; CUSTOM is decided by the external authorizer; AUDIT never decides', () => {
    expect(symbolicAuthorize(chain({ rules: { action: 'ALLOW' } }), web).allowed).toEqual({ t: 'false' });
    const custom = {
      shadowRules: {
        action: 'ALLOW' as const,
        policies: { 'istio-ext-authz-ns[shop]-policy[ext]-rule[0]': rule([prefix('/ext')], [{ any: true }]) },
      },
      shadowRulesStatPrefix: 'istio_ext_authz_',
    };
    expect(describeCondition(symbolicAuthorize(chain(custom), web).allowed)).toEqual([
      'any request except on path /ext*',
      'decided by the external authorizer',
    ]);
    const audit = {
      rules: { action: 'LOG' as const, policies: { 'ns[shop]-policy[audit]-rule[0]': rule([{ any: true }], [{ any: true }]) } },
    };
    expect(symbolicAuthorize(chain(audit), web).allowed).toEqual({ t: 'true' });
  });

  it('a token claim is a condition in words, only after the JWT filter', () => {
    const claim: Principal = {
      metadata: {
        filter: 'istio_authn',
        path: [{ key: 'request.auth.claims' }, { key: 'groups' }],
        value: {
          orMatch: { valueMatchers: [{ listMatch: { oneOf: { stringMatch: { exact: 'admin' } } } }, { stringMatch: { exact: 'admin' } }] },
        },
      },
    };
    const rbac = { rules: { policies: { 'ns[shop]-policy[admins]-rule[0]': rule([{ any: true }], [claim]) } } };
    expect(symbolicAuthorize(chain(rbac), web).allowed).toEqual({ t: 'false' });
    const withJwt: FilterChain = chain(rbac);
    const hcm = withJwt.filters![0].typedConfig as { httpFilters: unknown[] };
    hcm.httpFilters.unshift({ name: 'envoy.filters.http.jwt_authn' });
    expect(describeCondition(symbolicAuthorize(withJwt, web).allowed)).toEqual(['only with a token whose claim groups contains admin']);
  });

  it('symbolicAuthorizer decides as symbolicAuthorize, once per distinct answers of the facts', () => {
    const c = chain(
      { rules: { action: 'DENY', policies: { 'ns[shop]-policy[no-admin]-rule[0]': rule([prefix('/admin')], [ns('partner')]) } } },
      {
        rules: {
          policies: {
            'ns[shop]-policy[p]-rule[0]': methodsOnPaths,
            'ns[shop]-policy[p]-rule[1]': rule(
              [{ destinationPort: 8080 }],
              [{ orIds: { ids: [ns('partner'), { directRemoteIp: { addressPrefix: '10.2.0.0', prefixLen: 16 } }] } }],
            ),
          },
        },
      },
    );
    const senders: FixedFacts[] = [
      web,
      plain,
      { ...web, principal: 'spiffe://cluster.local/ns/partner/sa/a' },
      { ...web, principal: 'spiffe://cluster.local/ns/partner/sa/b' },
      { ...web, principal: 'spiffe://cluster.local/ns/partner/sa/a', destinationPort: 9090 },
      { ...plain, sourceIp: '10.3.0.1' },
      { ...plain, sourceIp: '10.2.9.9' },
    ];
    const authorize = symbolicAuthorizer();
    const decided = senders.map((f) => authorize(c, f));
    decided.forEach((d, i) => expect(d).toEqual(symbolicAuthorize(c, senders[i])));
    // Two partner service accounts, and two addresses in 10.2.0.0/16, answer alike.
    expect(decided[3]).toBe(decided[2]);
    expect(decided[6]).toBe(decided[1]);
    expect(decided[4]).not.toBe(decided[2]);
    expect(decided[5]).not.toBe(decided[1]);
  });
});

describe('meshlens connectivity table', () => {
  it('SOURCE / DESTINATION / VERDICT / TLS / POLICIES', () => {
    const text = connectivityTable([
      {
        source: { namespace: 'shop', name: 'web-1', kind: 'Pod' },
        destination: 'db.shop.svc.cluster.local:80',
        verdict: 'CONDITIONAL',
        conditions: ['methods GET, HEAD on path /api/*'],
        tls: 'MTLS',
        policies: [{ kind: 'AuthorizationPolicy', namespace: 'shop', name: 'db-access' }],
        reason: '',
        causes: [],
      },
      {
        source: { namespace: 'legacy', name: 'batch-1', kind: 'Pod' },
        destination: 'db.shop.svc.cluster.local:80',
        verdict: 'DENIED',
        conditions: null,
        tls: 'PLAINTEXT',
        policies: [],
        reason: '',
        causes: [],
      },
    ]);
    expect(text.split('\n')[0]).toMatch(/^SOURCE\s+DESTINATION\s+VERDICT\s+TLS\s+POLICIES$/);
    expect(text).toContain('CONDITIONAL: methods GET, HEAD on path /api/*');
    expect(text.split('\n')[2]).toMatch(/^legacy\/batch-1\s+db\.shop\.svc\.cluster\.local:80\s+DENIED\s+PLAINTEXT\s+-$/);
  });
});
