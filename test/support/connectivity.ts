// Connectivity computed from manifests without a database: ingest, normalise, one generator session,
// every proxy's config, then the same builder the worker runs (src/connectivity/build.ts).
import { loadCliConfig } from '../../src/config/config.js';
import { ConnectivityBuilder, type Connectivity } from '../../src/connectivity/build.js';
import { expandConnections, type ConnectionRow } from '../../src/connectivity/rows.js';
import { generatorBinary } from '../../src/generator/binary.js';
import { GeneratorProcess } from '../../src/generator/generator-process.js';
import { loadParams } from '../../src/generator/protocol.js';
import { normaliseSnapshot } from '../../src/ingest/normalise.js';
import { withIstiodProxyTypes } from '../../src/jobs/compute.service.js';
import { peerAuthenticationFor, type PeerAuthenticationObject } from '../../src/journey/peer-authentication.js';
import { ingestText } from './admission.js';

export async function connectivityOf(yaml: string): Promise<{ connectivity: Connectivity; rows: ConnectionRow[] }> {
  const ingested = await ingestText(yaml, 'application/yaml');
  if (!ingested.ok) throw new Error(JSON.stringify(ingested.problems));
  const normalised = normaliseSnapshot(ingested.resources);
  const generator = new GeneratorProcess(generatorBinary(loadCliConfig().generator.binary));
  try {
    await generator.request('load', loadParams(normalised), 120_000);
    const proxies = await generator.request('proxies', {}, 60_000);
    const workloads = withIstiodProxyTypes(normalised.workloads, proxies);
    const pas = ingested.resources.filter((r) => r.kind === 'PeerAuthentication').map((r) => r.body as PeerAuthenticationObject);
    const builder = new ConnectivityBuilder(
      workloads,
      normalised.generatorInput,
      (w) => (w.proxyType === 'NONE' ? null : `${w.namespace}/${w.name}`),
      (w) => peerAuthenticationFor(pas, 'istio-system', w.namespace, workloads.find((x) => x.name === w.name && x.namespace === w.namespace)?.labels ?? {}),
    );
    for (const p of proxies) {
      if (!p.proxy) continue;
      const config = await generator.request('proxyConfig', { proxy: { namespace: p.namespace, name: p.name } }, 60_000);
      builder.addClass(`${p.namespace}/${p.name}`, [{ namespace: p.namespace, name: p.name }], config as never);
    }
    const connectivity = builder.build();
    return { connectivity, rows: expandConnections(connectivity.groups, connectivity.senders, {}) };
  } finally {
    generator.close();
  }
}
