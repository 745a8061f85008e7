// The mesh config's pathNormalization, through istiod's HTTP connection manager, decides which
// route a path reaches: the walk reads the generated HCM (normalize_path, merge_slashes,
// path_with_escaped_slashes_action) and normalises as Envoy does before matching.
import { describe, expect, it } from 'vitest';
import { loadCliConfig } from '../../src/config/config.js';
import { generatorBinary } from '../../src/generator/binary.js';
import { GeneratorProcess } from '../../src/generator/generator-process.js';
import { loadParams } from '../../src/generator/protocol.js';
import { normaliseSnapshot } from '../../src/ingest/normalise.js';
import { resolveRoute, type EnvoyConfig } from '../../src/routing/resolve.js';
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

async function walk(normalization: string | undefined, path: string) {
  const mesh = yaml(...MESH, ...(normalization ? [meshConfig({ pathNormalization: { normalization } })] : []));
  const ingested = await ingestText(mesh, 'application/yaml');
  if (!ingested.ok) throw new Error(JSON.stringify(ingested.problems));
  const generator = new GeneratorProcess(generatorBinary(loadCliConfig().generator.binary));
  try {
    await generator.request('load', loadParams(normaliseSnapshot(ingested.resources)), 120_000);
    const config = (await generator.request(
      'proxyConfig',
      { proxy: { namespace: 'shop', name: 'web-1' } },
      60_000,
    )) as unknown as EnvoyConfig;
    return resolveRoute(config, {
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
  } finally {
    generator.close();
  }
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
