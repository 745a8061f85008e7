// Connectivity computed from manifests without a database: ingest, normalise, one generator session,
// every proxy's config, then the same builder the worker runs (src/connectivity/offline.ts).
import { loadCliConfig } from '../../src/config/config.js';
import { offlineConnectivity } from '../../src/connectivity/offline.js';
import { expandConnections, type ConnectionRow } from '../../src/connectivity/rows.js';
import { generatorBinary } from '../../src/generator/binary.js';
import { GeneratorProcess } from '../../src/generator/generator-process.js';
import { loadParams } from '../../src/generator/protocol.js';
import { normaliseSnapshot } from '../../src/ingest/normalise.js';
import { withIstiodProxyTypes } from '../../src/jobs/compute.service.js';
import type { Connectivity } from '../../src/model/connectivity.js';
import { ingestText } from './admission.js';

export async function connectivityOf(yaml: string): Promise<{ connectivity: Connectivity; rows: ConnectionRow[] }> {
  const ingested = await ingestText(yaml, 'application/yaml');
  if (!ingested.ok) throw new Error(JSON.stringify(ingested.problems));
  const normalised = normaliseSnapshot(ingested.resources);
  const generator = new GeneratorProcess(generatorBinary(loadCliConfig().generator.binary));
  try {
    await generator.request('load', loadParams(normalised), 120_000);
    const connectivity = await offlineConnectivity(
      normalised,
      ingested.resources,
      {
        proxies: () => generator.request('proxies', {}, 60_000),
        mesh: () => generator.request('mesh', undefined, 60_000),
        proxyConfig: (proxy) => generator.request('proxyConfig', { proxy }, 60_000),
        peerAuthentication: (proxy) => generator.request('peerAuthentication', { proxy }, 60_000),
      },
      withIstiodProxyTypes,
    );
    return { connectivity, rows: expandConnections(connectivity.groups, connectivity.senders, {}) };
  } finally {
    generator.close();
  }
}

/** `namespace/name -> host:port` of every row, with its verdict and transport: what a test compares. */
export function summary(rows: readonly ConnectionRow[]): string[] {
  return rows.map((r) => `${r.source.namespace}/${r.source.name} -> ${r.destination} ${r.verdict} ${r.tls}`);
}
