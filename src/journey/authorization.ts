// The authorization decision of one proxy for one request: the RBAC filters istiod generated for
// it, in the order Envoy runs them (the filter chain's network filters, then the HTTP connection
// manager's HTTP filters), each evaluated with Envoy's semantics (routing/rbac.ts). Istio puts
// CUSTOM first (an RBAC filter whose shadow rules, prefixed istio_ext_authz_, switch the external
// authorizer on), then AUDIT (LOG), DENY and ALLOW filters; dry-run policies are shadow rules. Pure.
import { HTTP_CONNECTION_MANAGER, type FilterChain, type TypedConfig } from '../envoy/xds.js';
import type { ConfigRef } from '../model/config-ref.js';
import {
  evaluateEngine,
  HTTP_RBAC,
  NETWORK_RBAC,
  parsePolicyName,
  type EngineResult,
  type Rbac,
  type RbacFilterConfig,
  type RbacRequest,
} from '../envoy/rbac.js';
import { networkFilter } from '../routing/resolve.js';

export type AuthorizationVerdict = 'ALLOW' | 'DENY' | 'NOT_DECIDED';

export interface AuthorizationDecision {
  verdict: AuthorizationVerdict;
  policy: ConfigRef | null;
  rule: number | null;
  action: string | null;
  reason: string;
  dryRun: string[] | null;
}

const EXT_AUTHZ_SHADOW_PREFIX = 'istio_ext_authz_';
export const JWT_AUTHN = 'envoy.filters.http.jwt_authn';

interface RbacFilter {
  layer: 'network' | 'http';
  config: RbacFilterConfig;
  /** Whether the JWT filter ran before it: only then is a token's payload in the dynamic metadata. */
  afterJwt: boolean;
}

/** The chain's RBAC filters in Envoy's order; an HTTP chain's come from its connection manager. */
export function rbacFilters(chain: FilterChain | null): RbacFilter[] {
  if (!chain) return [];
  const out: RbacFilter[] = [];
  for (const f of chain.filters ?? [])
    if (f.name === NETWORK_RBAC) out.push({ layer: 'network', config: f.typedConfig ?? {}, afterJwt: false });
  const hcm = networkFilter(chain, HTTP_CONNECTION_MANAGER);
  let afterJwt = false;
  for (const f of (hcm?.httpFilters ?? []) as { name?: string; typedConfig?: TypedConfig }[]) {
    if (f.name === JWT_AUTHN) afterJwt = true;
    if (f.name === HTTP_RBAC) out.push({ layer: 'http', config: f.typedConfig ?? {}, afterJwt });
  }
  return out;
}

interface JwtAuthentication {
  providers?: Record<string, { issuer?: string; normalizePayloadInMetadata?: { spaceDelimitedClaims?: string[] } }>;
}

function jwtFilter(chain: FilterChain | null): JwtAuthentication | null {
  const hcm = chain ? networkFilter(chain, HTTP_CONNECTION_MANAGER) : null;
  const filter = ((hcm?.httpFilters ?? []) as { name?: string; typedConfig?: TypedConfig }[]).find((f) => f.name === JWT_AUTHN);
  return filter ? ((filter.typedConfig ?? {}) as JwtAuthentication) : null;
}

/** Whether the chain's HTTP connection manager validates JWTs (a RequestAuthentication applies). */
export function validatesJwt(chain: FilterChain | null): boolean {
  return jwtFilter(chain) !== null;
}

/**
 * The payload the chain's JWT filter puts in the dynamic metadata for a token with these claims: the
 * provider of its issuer splits the claims it lists as space-delimited (normalize_payload_in_metadata;
 * istiod lists scope, permission and the rule's spaceDelimitedClaims) into lists, which the RBAC
 * filters' list matchers then see ("scope": "read write" matches a rule on "write").
 */
export function jwtPayload(chain: FilterChain | null, claims: Record<string, unknown>): Record<string, unknown> {
  const provider = Object.values(jwtFilter(chain)?.providers ?? {}).find((p) => p.issuer === claims.iss);
  const payload = { ...claims };
  for (const claim of provider?.normalizePayloadInMetadata?.spaceDelimitedClaims ?? []) {
    const value = payload[claim];
    if (typeof value === 'string') payload[claim] = value.split(' ').filter((v) => v !== '');
  }
  return payload;
}

function refOf(policyName: string): { ref: ConfigRef; rule: number; badCustom: boolean } | null {
  const parsed = parsePolicyName(policyName);
  return parsed
    ? {
        ref: { kind: 'AuthorizationPolicy', namespace: parsed.namespace, name: parsed.name },
        rule: parsed.rule,
        badCustom: parsed.badCustom,
      }
    : null;
}

function named(policyName: string): string {
  const p = refOf(policyName);
  return p ? `${p.ref.namespace}/${p.ref.name} rule ${p.rule}` : policyName;
}

function misses(result: EngineResult): string {
  return result.misses.map((m) => `${named(m.name)}: ${m.miss}`).join('; ');
}

/**
 * The decision for this request (as it is once a JWT filter validated its token). `subject` names the
 * proxy's workload in reasons. A request without headers is a TCP connection: only network filters apply.
 */
export function authorize(chain: FilterChain | null, requestAfterJwt: RbacRequest, subject: string): AuthorizationDecision {
  const filters = rbacFilters(chain).filter((f) => (requestAfterJwt.headers ? true : f.layer === 'network'));
  const dryRun: string[] = [];
  const audits: string[] = [];
  let custom: string | null = null;
  let allowedBy: string | null = null;
  let sawAllow = false;
  const withoutJwt = {
    ...requestAfterJwt,
    metadata: Object.fromEntries(Object.entries(requestAfterJwt.metadata).filter(([k]) => k !== JWT_AUTHN)),
  };
  for (const filter of filters) {
    // Istio puts the CUSTOM filter before the JWT filter: its rules never see the token.
    const request = filter.afterJwt ? requestAfterJwt : withoutJwt;
    const { rules, shadowRules, shadowRulesStatPrefix } = filter.config;
    if (shadowRules && shadowRulesStatPrefix === EXT_AUTHZ_SHADOW_PREFIX) {
      const shadow = evaluateEngine(shadowRules, request);
      if (shadow.matched) custom ??= shadow.matched;
    } else if (shadowRules) dryRun.push(describeDryRun(shadowRules, evaluateEngine(shadowRules, request)));
    if (!rules) continue;
    const result = evaluateEngine(rules, request);
    if (result.action === 'LOG') {
      if (result.matched) audits.push(named(result.matched));
      continue;
    }
    if (result.action === 'DENY' && result.matched) {
      const p = refOf(result.matched);
      const onTcp = filter.layer === 'network' ? ' (checked on the TCP connection)' : '';
      return {
        verdict: 'DENY',
        policy: p?.ref ?? null,
        rule: p?.rule ?? null,
        action: p?.badCustom ? 'CUSTOM' : 'DENY',
        reason: p?.badCustom
          ? `CUSTOM policy ${named(result.matched)} matches this request${onTcp}, but istiod cannot use its provider (undefined or invalid in the mesh config), so it denies the request (fail closed).`
          : `DENY policy ${named(result.matched)} matches this request${onTcp}.`,
        dryRun: dryRun.length ? dryRun : null,
      };
    }
    if (result.action === 'ALLOW') {
      sawAllow = true;
      if (!result.matched) {
        const none = Object.keys(rules.policies ?? {}).length === 0;
        return {
          verdict: 'DENY',
          policy: null,
          rule: null,
          action: 'ALLOW',
          reason: none
            ? `ALLOW policies exist for ${subject}, but none has a rule that applies to ${filter.layer === 'network' ? 'a TCP connection' : 'this request'}, so it is denied.`
            : `ALLOW policies exist for ${subject} and none matches: ${misses(result)}.`,
          dryRun: dryRun.length ? dryRun : null,
        };
      }
      allowedBy = result.matched;
    }
  }
  const audited = audits.length ? ` Logged by AUDIT policy ${audits.join(', ')}.` : '';
  if (custom) {
    const p = refOf(custom);
    return {
      verdict: 'NOT_DECIDED',
      policy: p?.ref ?? null,
      rule: p?.rule ?? null,
      action: 'CUSTOM',
      reason: `CUSTOM policy ${named(custom)} matches: the external authorizer decides at runtime${sawAllow ? ' (the ALLOW policies let it through)' : ''}.${audited}`,
      dryRun: dryRun.length ? dryRun : null,
    };
  }
  const p = allowedBy ? refOf(allowedBy) : null;
  return {
    verdict: 'ALLOW',
    policy: p?.ref ?? null,
    rule: p?.rule ?? null,
    action: allowedBy ? 'ALLOW' : audits.length ? 'AUDIT' : null,
    reason:
      (allowedBy
        ? `ALLOW policy ${named(allowedBy)} matches.`
        : filters.length
          ? 'No DENY policy matches and no ALLOW policy applies.'
          : `No AuthorizationPolicy applies to ${subject}: allowed.`) + audited,
    dryRun: dryRun.length ? dryRun : null,
  };
}

function describeDryRun(shadow: Rbac, result: EngineResult): string {
  const action = shadow.action ?? 'ALLOW';
  if (action === 'DENY')
    return result.matched
      ? `dry-run DENY policy ${named(result.matched)} would deny this request`
      : `no dry-run DENY policy matches (${misses(result)})`;
  return result.matched
    ? `dry-run ALLOW policy ${named(result.matched)} would allow this request`
    : `dry-run ALLOW policies would deny this request: ${misses(result)}`;
}
