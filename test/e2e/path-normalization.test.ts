// The mesh config's pathNormalization, through istiod's HTTP connection manager, decides which
// route a path reaches: the walk reads the generated HCM (normalize_path, merge_slashes,
// path_with_escaped_slashes_action) and normalises as Envoy does before matching; and the paths
// Istio's own TestNormalization sends, as the receiving sidecar hands them on.
import { describe, expect, it } from 'vitest';
import { loadCliConfig } from '../../src/config/config.js';
import { generatorBinary } from '../../src/generator/binary.js';
import { GeneratorProcess } from '../../src/generator/generator-process.js';
import { loadParams } from '../../src/generator/protocol.js';
import { normaliseSnapshot } from '../../src/ingest/normalise.js';
import { networkFilter, resolveRoute, type EnvoyConfig } from '../../src/routing/resolve.js';
import { normalizePath, type PathNormalization } from '../../src/envoy/path.js';
import { HTTP_CONNECTION_MANAGER } from '../../src/envoy/xds.js';
import { ingestText } from '../support/admission.js';
import { meshConfig, namespace, pod, service, virtualService, yaml } from '../support/mesh.js';

const WEB = 'web.shop.svc.cluster.local';
const MESH = [
  namespace('shop'),
  service('shop', 'web', [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }], { clusterIP: '10.96.0.10' }),
  pod('shop', 'web-1', { labels: { app: 'web' }, image: 'app', ip: '10.1.0.5', ready: true }),
  virtualService('shop', 'web', {
    hosts: [WEB],
    http: [
      { name: 'admin', match: [{ uri: { prefix: '/admin' } }], route: [{ destination: { host: WEB } }] },
      { name: 'public', route: [{ destination: { host: WEB } }] },
    ],
  }),
];

/** web-1's config as istiod generates it under this pathNormalization (Istio's default without one). */
async function generated(normalization: string | undefined): Promise<EnvoyConfig> {
  const mesh = yaml(...MESH, ...(normalization ? [meshConfig({ pathNormalization: { normalization } })] : []));
  const ingested = await ingestText(mesh, 'application/yaml');
  if (!ingested.ok) throw new Error(JSON.stringify(ingested.problems));
  const generator = new GeneratorProcess(generatorBinary(loadCliConfig().generator.binary));
  try {
    await generator.request('load', loadParams(normaliseSnapshot(ingested.resources)), 120_000);
    return (await generator.request('proxyConfig', { proxy: { namespace: 'shop', name: 'web-1' } }, 60_000)) as unknown as EnvoyConfig;
  } finally {
    generator.close();
  }
}

async function walk(normalization: string | undefined, path: string) {
  return resolveRoute(await generated(normalization), {
    mode: 'OUTBOUND',
    address: '10.96.0.10',
    port: 80,
    protocol: 'HTTP',
    tls: 'PLAINTEXT',
    host: 'web.shop.svc.cluster.local',
    path,
    method: 'GET',
    headers: [],
  });
}

describe('path normalisation as the mesh config sets it', () => {
  it("Istio's default (BASE) resolves dot segments but keeps escaped slashes and repeated slashes", async () => {
    expect((await walk(undefined, '/public/../admin/users')).route).toBe('admin');
    expect((await walk(undefined, '/public/..%2Fadmin')).route).toBe('public');
    expect((await walk(undefined, '//admin')).route).toBe('public');
  });

  it('NONE leaves the path as sent', async () => {
    const r = await walk('NONE', '/public/../admin/users');
    expect(r.route).toBe('public');
    expect(r.trace.some((t) => t.stage === 'path')).toBe(false);
  });

  it('DECODE_AND_MERGE_SLASHES unescapes slashes, resolves dot segments, then merges slashes', async () => {
    const r = await walk('DECODE_AND_MERGE_SLASHES', '/public/..%2F/admin');
    expect(r.route).toBe('admin');
    expect(r.trace.find((t) => t.stage === 'path')?.detail).toContain('UNESCAPE_AND_FORWARD');
  });
});

/** Istio's tests/integration/security/normalization_test.go (TestNormalization): the path sent, and the one the application receives ('400': refused). */
const ISTIO_NORMALIZATION: Record<string, [string, string][]> = {
  NONE: [
    ['/', '/'],
    ['/app#foo', '/app'],
    ['/app/', '/app/'],
    ['/app/../admin', '/app/../admin'],
    ['/app', '/app'],
    ['/app//', '/app//'],
    ['/app/%2f', '/app/%2f'],
    ['/app%2f/', '/app%2f/'],
    ['/xyz%30..//abc', '/xyz%30..//abc'],
    ['/app/%2E./admin', '/app/%2E./admin'],
    [String.raw`/app\admin`, String.raw`/app\admin`],
    [String.raw`/app/\/\/\admin`, String.raw`/app/\/\/\admin`],
    [String.raw`/%2Fapp%5cadmin%5Cabc`, String.raw`/%2Fapp%5cadmin%5Cabc`],
    [String.raw`/%5Capp%2f%5c%2F%2e%2e%2fadmin%5c\abc`, String.raw`/%5Capp%2f%5c%2F%2e%2e%2fadmin%5c\abc`],
    ['/app//../admin', '/app//../admin'],
    ['/app//../../admin', '/app//../../admin'],
  ],
  BASE: [
    ['/', '/'],
    ['/app#foo', '/app'],
    ['/app/', '/app/'],
    ['/app/../admin', '/admin'],
    ['/app', '/app'],
    ['/app//', '/app//'],
    ['/app/%2f', '/app/%2f'],
    ['/app%2f/', '/app%2f/'],
    ['/xyz%30..//abc', '/xyz0..//abc'],
    ['/app/%2E./admin', '/admin'],
    [String.raw`/app\admin`, '/app/admin'],
    [String.raw`/app/\/\/\admin`, '/app//////admin'],
    [String.raw`/%2Fapp%5cadmin%5Cabc`, String.raw`/%2Fapp%5cadmin%5Cabc`],
    [String.raw`/%5Capp%2f%5c%2F%2e%2e%2fadmin%5c\abc`, '/%5Capp%2f%5c%2F..%2fadmin%5c/abc'],
    ['/app//../admin', '/app/admin'],
    ['/app//../../admin', '/admin'],
  ],
  MERGE_SLASHES: [
    ['/', '/'],
    ['/app#foo', '/app'],
    ['/app/', '/app/'],
    ['/app/../admin', '/admin'],
    ['/app', '/app'],
    ['/app//', '/app/'],
    ['/app/%2f', '/app/%2f'],
    ['/app%2f/', '/app%2f/'],
    ['/xyz%30..//abc', '/xyz0../abc'],
    ['/app/%2E./admin', '/admin'],
    [String.raw`/app\admin`, '/app/admin'],
    [String.raw`/app/\/\/\admin`, '/app/admin'],
    [String.raw`/%2Fapp%5cadmin%5Cabc`, String.raw`/%2Fapp%5cadmin%5Cabc`],
    [String.raw`/%5Capp%2f%5c%2F%2e%2e%2fadmin%5c\abc`, '/%5Capp%2f%5c%2F..%2fadmin%5c/abc'],
    ['/app//../admin', '/app/admin'],
    ['/app//../../admin', '/admin'],
  ],
  DECODE_AND_MERGE_SLASHES: [
    ['/', '/'],
    ['/app#foo', '/app'],
    ['/app/', '/app/'],
    ['/app/../admin', '/admin'],
    ['/app', '/app'],
    ['/app//', '/app/'],
    ['/app/%2f', '/app/'],
    ['/app%2f/', '/app/'],
    ['/xyz%30..//abc', '/xyz0../abc'],
    ['/app/%2E./admin', '/admin'],
    [String.raw`/app\admin`, '/app/admin'],
    [String.raw`/app/\/\/\admin`, '/app/admin'],
    [String.raw`/%2Fapp%5cadmin%5Cabc`, '/app/admin/abc'],
    [String.raw`/%5Capp%2f%5c%2F%2e%2e%2fadmin%5c\abc`, '/app/admin/abc'],
    ['/app//../admin', '/app/admin'],
    ['/app//../../admin', '/admin'],
    ['/%c0%2e%c0%2e/admin', '/%c0.%c0./admin'],
    ['/%c0%2fadmin', '/%c0/admin'],
    // NotNormalized
    ['/0x2e0x2e/admin', '/0x2e0x2e/admin'],
    ['/0x2e0x2e0x2fadmin', '/0x2e0x2e0x2fadmin'],
    ['/0x2e0x2e0x5cadmin', '/0x2e0x2e0x5cadmin'],
    ['/0x2f0x2fadmin', '/0x2f0x2fadmin'],
    ['/0x5c0x5cadmin', '/0x5c0x5cadmin'],
    ['/%25c0%25ae%25c1%259cadmin', '/%25c0%25ae%25c1%259cadmin'],
    ['/%25c0%25ae%25c0%25ae/admin', '/%25c0%25ae%25c0%25ae/admin'],
    ['/%25c0%25afadmin', '/%25c0%25afadmin'],
    ['/%25c1%259cadmin', '/%25c1%259cadmin'],
    ['/%252e%252e/admin', '/%252e%252e/admin'],
    ['/%252e%252e%252fadmin', '/%252e%252e%252fadmin'],
    ['/%c1%9cadmin', '/%c1%9cadmin'],
    ['/%c0%ae%c0%ae/admin', '/%c0%ae%c0%ae/admin'],
    ['/%c0%afadmin', '/%c0%afadmin'],
    ['/.../admin', '/.../admin'],
    ['/..../admin', '/..../admin'],
    ['/..;/admin', '/..;/admin'],
    ['/;/admin', '/;/admin'],
    ['/admin;a=b', '/admin;a=b'],
    ['/admin;a=b/xyz', '/admin;a=b/xyz'],
    ['/admin,a=b/xyz', '/admin,a=b/xyz'],
    ['/Admin', '/Admin'],
    ['/ADMIN', '/ADMIN'],
    // PercentEncoded: %01 to %ff, the unreserved characters (and / and \) decoded, the rest kept.
    ...Array.from({ length: 0xff }, (_, n): [string, string] => {
      const i = n + 1;
      const input = `/admin%${i.toString(16).padStart(2, '0')}`;
      const c = String.fromCharCode(i);
      const decoded = /[-._~0-9A-Za-z/]/.test(c) || c === '\\' ? `/admin${c === '\\' ? '/' : c}` : input;
      return [input, decoded];
    }),
    // Invalid
    ['/admin%00', '400'],
  ],
};

/**
 * Where the Envoy meshlens follows differs from the one Istio's list was written against: Envoy's fix
 * for CVE-2026-73551 (runtime guard envoy.reloadable_features.strip_dotdot_segments_with_parameters,
 * on by default, which istio-agent leaves on) strips a dot segment's parameters before normalising.
 */
const SINCE_ISTIO_LIST: Record<string, string> = { '/..;/admin': '/admin' };

describe("Istio's TestNormalization: the path the receiving sidecar hands on, per pathNormalization", () => {
  it.each(Object.keys(ISTIO_NORMALIZATION))('%s', async (normalization) => {
    const config = await generated(normalization);
    const inbound = config.listeners.find((l) => l.name === 'virtualInbound')!;
    const chain = inbound.filterChains!.find(
      (c) => c.filterChainMatch?.destinationPort === 8080 && networkFilter(c, HTTP_CONNECTION_MANAGER),
    )!;
    const hcm = networkFilter(chain, HTTP_CONNECTION_MANAGER) as PathNormalization;
    const got = ISTIO_NORMALIZATION[normalization]!.map(([sent]) => {
      const n = normalizePath(sent, hcm);
      return [sent, n.outcome === 'reject' ? '400' : n.path];
    });
    expect(got).toEqual(ISTIO_NORMALIZATION[normalization]!.map(([sent, out]) => [sent, SINCE_ISTIO_LIST[sent] ?? out]));
  });
});
