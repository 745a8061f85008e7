import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ingestText as ingest } from '../../support/admission.js';
import { normaliseSnapshot } from '../../../src/ingest/normalise.js';
import type { NormalisedSnapshot } from '../../../src/model/snapshot.js';

const examples = join(import.meta.dirname, '../../../examples');
const scenarioDirs = ['../shared/scenarios', '../shared/conformance/istio-sim'].map((dir) => join(import.meta.dirname, '../../..', dir));
const directories = readdirSync(examples).sort();
const files = directories.flatMap((dir) =>
  readdirSync(join(examples, dir))
    .sort()
    .map((file) => join(dir, file)),
);

async function ingested(text: string) {
  const result = await ingest(text);
  if (!result.ok) throw new Error(JSON.stringify(result.problems, null, 1));
  return result;
}

async function directory(dir: string): Promise<NormalisedSnapshot> {
  const text = readdirSync(join(examples, dir))
    .sort()
    .map((file) => readFileSync(join(examples, dir, file), 'utf8'))
    .join('\n---\n');
  return normaliseSnapshot((await ingested(text)).resources);
}

const proxyTypes = (snapshot: NormalisedSnapshot) =>
  Object.fromEntries(snapshot.workloads.map((w) => [`${w.namespace}/${w.name}`, w.proxyType]));

describe('examples/', () => {
  it.each(files)('%s ingests', async (file) => {
    expect((await ingested(readFileSync(join(examples, file), 'utf8'))).resources.length).toBeGreaterThan(0);
  });

  it('istioinaction: the ingress gateway is a router, the shop runs sidecars', async () => {
    const snapshot = await directory('istioinaction');
    expect(proxyTypes(snapshot)).toEqual({
      'istio-system/istio-ingressgateway': 'ROUTER',
      'istioinaction/catalog': 'SIDECAR',
      'istioinaction/catalog-v2': 'SIDECAR',
      'istioinaction/webapp': 'SIDECAR',
    });
    expect(snapshot.workloads.find((w) => w.name === 'catalog-v2')?.services).toEqual(['catalog.istioinaction.svc.cluster.local']);
  });

  it('httpping: the servers opt out of injection, the client has a sidecar', async () => {
    expect(proxyTypes(await directory('httpping'))).toEqual({
      'infra-jinsu-lab/client': 'SIDECAR',
      'infra-jinsu-lab/httpping-v1': 'NONE',
      'infra-jinsu-lab/httpping-v2': 'NONE',
    });
  });

  it('helloworld: the nginx pod keeps its IP', async () => {
    expect((await directory('helloworld')).workloads.find((w) => w.name === 'nginx')).toMatchObject({
      kind: 'Pod',
      ips: ['10.244.0.20'],
      proxyType: 'SIDECAR',
    });
  });

  it('egress: the REGISTRY_ONLY mesh config reaches the generator', async () => {
    expect((await directory('egress')).generatorInput.meshConfig).toMatch(/mode: REGISTRY_ONLY/);
  });
});

// The conformance corpus uploads these configs through the API: ingest must accept every one.
// Without the shared specs beside the checkout (../shared) there is nothing to read: skipped (the
// suite's callback still runs, so it reads nothing then).
const withSpecs = scenarioDirs.every(existsSync);
describe.skipIf(!withSpecs)('conformance configs', () => {
  const configs = (withSpecs ? scenarioDirs : []).flatMap((dir) =>
    readdirSync(dir).flatMap((file) =>
      ((parse(readFileSync(join(dir, file), 'utf8')) as { cases?: { name: string; config?: string }[] }).cases ?? [])
        .filter((c) => c.config)
        .map((c) => [`${file} ${c.name}`, c.config as string] as const),
    ),
  );

  it.each(configs)('%s ingests', async (_, config) => {
    expect(await ingest(config)).toMatchObject({ ok: true });
  });
});
