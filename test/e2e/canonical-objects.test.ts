// The generator sends a compute job each object in canonical form (protocol.AppendCanonical), and
// the job stores and hashes those bytes as they are: they must be exactly canonicalJson of the
// object as proxyConfig gives it (protojson's text, parsed). Differential, object by object, over
// random meshes and a mesh whose VirtualService puts odd strings and doubles in the config.
import { describe, expect, it } from 'vitest';
import { loadCliConfig } from '../../src/config/config.js';
import { generatorBinary } from '../../src/generator/binary.js';
import { GeneratorProcess } from '../../src/generator/generator-process.js';
import { loadParams } from '../../src/generator/protocol.js';
import { ingest } from '../../src/ingest/ingest.js';
import { normaliseSnapshot } from '../../src/ingest/normalise.js';
import { canonicalJson } from '../../src/model/canonical.js';
import { objectName } from '../../src/envoy/names.js';
import { CONFIG_KEY, ENVOY_TYPES, type EnvoyObject } from '../../src/model/proxy.js';
import { scanGeneratedLine } from '../../src/jobs/generated-line.js';
import * as mesh from '../support/mesh.js';
import { randomMesh } from '../support/random-mesh.js';

/** Odd strings: what JSON.stringify escapes, what it does not, and non-ASCII beyond the BMP. */
const ODD_TEXT = 'ü "quoted" \\ back\tslash \u2028 <&> / 😀 \uffff';

/** A route whose VirtualService puts odd strings and doubles (percentages) in the config. */
const ODD_MESH = mesh.yaml(
  mesh.namespace('shop'),
  mesh.service('shop', 'web', [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }], { clusterIP: '10.96.0.10' }),
  mesh.pod('shop', 'web-1', { labels: { app: 'web' }, image: 'app', ip: '10.1.0.5', ready: true }),
  mesh.virtualService('shop', 'web', {
    hosts: ['web.shop.svc.cluster.local'],
    http: [
      {
        name: 'odd',
        match: [{ headers: { 'x-odd': { exact: ODD_TEXT } }, uri: { regex: '/\\d+\\.[a-z]{1,3}$' } }],
        fault: {
          delay: { fixedDelay: '0.001s', percentage: { value: 0.00015 } },
          abort: { httpStatus: 503, percentage: { value: 33.333333333333336 } },
        },
        mirror: { host: 'web.shop.svc.cluster.local' },
        mirrorPercentage: { value: 0.1 },
        headers: { request: { set: { 'x-set': ODD_TEXT } } },
        route: [{ destination: { host: 'web.shop.svc.cluster.local' } }],
      },
    ],
  }),
);

/** Every object of every proxy of the mesh: the hashed answer's text against canonicalJson of proxyConfig's. Returns the texts compared. */
async function compareObjects(yaml: string, proxies: { namespace: string; name: string }[]): Promise<string[]> {
  const generator = new GeneratorProcess(generatorBinary(loadCliConfig().generator.binary));
  const compared: string[] = [];
  try {
    const ingested = await ingest(
      yaml,
      'application/yaml',
      async (objects) => (await generator.request('validate', { objects }, 60_000)).results,
    );
    if (!ingested.ok) throw new Error(`mesh refused: ${JSON.stringify(ingested.problems.slice(0, 3))}`);
    await generator.request('load', loadParams(normaliseSnapshot(ingested.resources)), 120_000);
    const decoder = new TextDecoder();
    for (const [i, proxy] of proxies.entries()) {
      const plain = (await generator.request('proxyConfig', { proxy }, 60_000)) as unknown as Record<string, EnvoyObject[]>;
      // A job of its own: every object sent with its JSON.
      const line = await generator.requestRaw('hashedProxyConfig', { proxy, job: `canonical-${i}` }, 60_000);
      await generator.request('endJob', { job: `canonical-${i}` }, 60_000);
      const layout = scanGeneratedLine(line);
      const text = ([start, end]: [number, number]) => decoder.decode(line.subarray(start, end));
      for (const type of ENVOY_TYPES) {
        const key = CONFIG_KEY[type];
        // By name, then text: istiod's order of a list varies between calls, and is no part of the config.
        const want = plain[key].map((o) => `${objectName(type, o)}\u0000${canonicalJson(o)}`).sort();
        const got = (layout.elements[key] ?? [])
          .map((e) => `${e.name ? (JSON.parse(text(e.name)) as string) : ''}\u0000${text(e.object!)}`)
          .sort();
        for (const [j, sent] of got.entries())
          if (sent !== want[j]) expect({ proxy: proxy.name, type, sent }).toEqual({ proxy: proxy.name, type, sent: want[j] });
        expect(got.length, `${proxy.name} ${key}`).toBe(want.length);
        compared.push(...got);
      }
    }
  } finally {
    generator.close();
  }
  return compared;
}

describe("the generator's canonical JSON", () => {
  it('is canonicalJson of the parsed protojson, byte for byte, with odd strings and doubles', async () => {
    const sent = await compareObjects(ODD_MESH, [{ namespace: 'shop', name: 'web-1' }]);
    // The route reached the config: its odd values were among those compared.
    expect(sent.some((json) => json.includes(JSON.stringify(ODD_TEXT)))).toBe(true);
  }, 180_000);

  it.each([1, 2, 3, 4])(
    'is canonicalJson of the parsed protojson, byte for byte, for every object of random mesh %i',
    async (seed) => {
      const random = randomMesh(seed);
      expect(
        (
          await compareObjects(
            random.yaml,
            random.proxies.map((p) => p.proxy),
          )
        ).length,
      ).toBeGreaterThan(0);
    },
    180_000,
  );
});
