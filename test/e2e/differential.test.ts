// The walk's differential check: random meshes (test/support/random-mesh.ts) loaded into the real
// generator, and every random call walked twice on the same generated config, by meshlens's walk
// (src/routing/resolve.ts) and by Istio's own traffic simulation (pilot/pkg/simulation, through the
// generator's `simulate`). Every field the simulation decides must agree.
//
// MESHLENS_DIFFERENTIAL_MESHES (default 12) meshes from MESHLENS_DIFFERENTIAL_SEED (default 1); `npm
// run bench` runs a larger set. A disagreement prints its seed, proxy and call: replay it with
// MESHLENS_DIFFERENTIAL_SEED=<seed> MESHLENS_DIFFERENTIAL_MESHES=1.
import { afterAll, describe, expect, it } from 'vitest';
import { generatorBinary } from '../../src/generator/binary.js';
import { GeneratorProcess } from '../../src/generator/generator-process.js';
import { loadParams, type SimulationCall, type SimulationResult } from '../../src/generator/protocol.js';
import type { VirtualHost } from '../../src/envoy/xds.js';
import { resolveRoute, type EnvoyConfig, type RouteResolution } from '../../src/routing/resolve.js';
import { ingest } from '../../src/ingest/ingest.js';
import { normaliseSnapshot } from '../../src/ingest/normalise.js';
import * as mesh from '../support/mesh.js';
import { randomMesh, type RandomMesh } from '../support/random-mesh.js';
import { loadCliConfig } from '../../src/config/config.js';

const MESHES = Number(process.env.MESHLENS_DIFFERENTIAL_MESHES ?? 12);
const FIRST_SEED = Number(process.env.MESHLENS_DIFFERENTIAL_SEED ?? 1);
const FIELDS = ['listener', 'filterChain', 'routeConfig', 'virtualHost', 'route', 'cluster', 'error'] as const;

export interface DifferentialFigures {
  meshes: number;
  proxies: number;
  calls: number;
  agreed: number;
  /** Disagreements the simulation's own shortcuts explain (see simulationLimit). */
  simulationLimits: string[];
  disagreements: string[];
  /** How the simulation ended the calls: its error, or the kind of cluster reached. */
  outcomes: Map<string, number>;
}

const figures: DifferentialFigures = {
  meshes: 0,
  proxies: 0,
  calls: 0,
  agreed: 0,
  simulationLimits: [],
  disagreements: [],
  outcomes: new Map(),
};

afterAll(() => {
  console.log(
    `differential: ${figures.meshes} meshes, ${figures.proxies} proxies, ${figures.calls} calls: ${figures.agreed} agree, ` +
      `${figures.simulationLimits.length} differ only where the simulation cuts a corner, ${figures.disagreements.length} disagree`,
  );
  console.log(
    `outcomes: ${[...figures.outcomes]
      .sort((a, b) => b[1] - a[1])
      .map(([k, n]) => `${k} ${n}`)
      .join(', ')}`,
  );
  if (process.env.MESHLENS_DIFFERENTIAL_VERBOSE) for (const line of figures.simulationLimits) console.log(`simulation's shortcut: ${line}`);
});

describe("differential: the walk against Istio's traffic simulation on random meshes", () => {
  for (let seed = FIRST_SEED; seed < FIRST_SEED + MESHES; seed++) {
    it(`seed ${seed}`, async () => {
      const found = await differential(seed);
      expect(found).toEqual([]);
    });
  }
});

// Inbound chains under PeerAuthentication: every workload-level mode (none, STRICT, PERMISSIVE,
// DISABLE) with every port-level mode, set on a port a Service declares (8080) and on one no
// Service declares (9999, a passthrough chain), called on those and on an undeclared port without
// a port-level mode (12345), in plaintext, TLS and mTLS, as HTTP and as TCP.
describe('differential: inbound chains under every workload and port-level PeerAuthentication mode', () => {
  const workloadModes = [undefined, 'STRICT', 'PERMISSIVE', 'DISABLE'];
  const portModes = ['STRICT', 'PERMISSIVE', 'DISABLE'];
  for (const workloadMode of workloadModes)
    for (const portMode of portModes) {
      it(`workload ${workloadMode ?? 'unset'}, ports 8080 and 9999 ${portMode}`, async () => {
        const outcomes = new Map<string, string>();
        const found = await walkBoth(
          peerAuthenticationMesh(workloadMode, portMode),
          `workload ${workloadMode ?? 'unset'} port ${portMode}`,
          (call, walked) => {
            outcomes.set(`${call.port} ${call.tls} ${call.protocol}`, walked.error ?? walked.cluster ?? '');
          },
        );
        if (process.env.MESHLENS_DIFFERENTIAL_VERBOSE)
          console.log(workloadMode, portMode, [...outcomes].map(([k, v]) => `${k}: ${v}`).join('\n'));
        expect(found).toEqual([]);
        // The port-level mode rules the passthrough port whatever the workload's mode is.
        if (portMode === 'STRICT') {
          expect(outcomes.get('9999 PLAINTEXT HTTP')).toBe('no filter chains matched');
          expect(outcomes.get('9999 PLAINTEXT TCP')).toBe('no filter chains matched');
          expect(outcomes.get('9999 MTLS HTTP')).toBe('InboundPassthroughCluster');
        }
        if (portMode === 'DISABLE') {
          expect(outcomes.get('9999 PLAINTEXT HTTP')).toBe('InboundPassthroughCluster');
          // mTLS bytes reach a chain that parses plaintext HTTP.
          expect(outcomes.get('8080 MTLS HTTP')).toBe('protocol error');
        }
      });
    }
});

function peerAuthenticationMesh(workloadMode: string | undefined, portMode: string): Pick<RandomMesh, 'yaml' | 'proxies'> {
  const yaml = mesh.yaml(
    mesh.namespace('alpha'),
    mesh.service(
      'alpha',
      'web',
      [
        { name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' },
        { name: 'tcp-db', port: 3306, targetPort: 3306, protocol: 'TCP' },
      ],
      { clusterIP: '10.96.0.10' },
    ),
    mesh.pod('alpha', 'web-v1', { labels: { app: 'web' }, image: 'app', ip: '10.1.0.5', ready: true }),
    mesh.peerAuthentication('alpha', 'web', {
      selector: { matchLabels: { app: 'web' } },
      ...(workloadMode ? { mtls: { mode: workloadMode } } : {}),
      portLevelMtls: { 8080: { mode: portMode }, 9999: { mode: portMode } },
    }),
  );
  const calls: SimulationCall[] = [];
  for (const port of [8080, 9999, 3306, 12345])
    for (const tls of ['PLAINTEXT', 'TLS', 'MTLS'] as const)
      for (const protocol of ['HTTP', 'TCP'] as const)
        calls.push({ mode: 'INBOUND', address: '10.1.0.5', port, protocol, tls, host: 'web.alpha.svc.cluster.local', path: '/' });
  return { yaml, proxies: [{ proxy: { namespace: 'alpha', name: 'web-v1', type: 'SIDECAR' }, calls }] };
}

async function differential(seed: number): Promise<string[]> {
  return walkBoth(randomMesh(seed), `seed ${seed}`);
}

/** Each call of the mesh walked by both; the disagreements not explained by the simulation's shortcuts. */
async function walkBoth(
  mesh: Pick<RandomMesh, 'yaml' | 'proxies'>,
  label: string,
  record?: (call: SimulationCall, walked: RouteResolution, simulated: SimulationResult) => void,
): Promise<string[]> {
  const generator = new GeneratorProcess(generatorBinary(loadCliConfig().generator.binary));
  const found: string[] = [];
  try {
    const ingested = await ingest(
      mesh.yaml,
      'application/yaml',
      async (objects) => (await generator.request('validate', { objects }, 60_000)).results,
    );
    if (!ingested.ok) throw new Error(`${label}: mesh refused: ${JSON.stringify(ingested.problems.slice(0, 3))}`);
    const loaded = await generator.request('load', loadParams(normaliseSnapshot(ingested.resources)), 120_000);
    if (loaded.diagnostics?.length) throw new Error(`${label}: Istio left objects out: ${JSON.stringify(loaded.diagnostics)}`);
    figures.meshes++;
    for (const { proxy, calls } of mesh.proxies) {
      const config = (await generator.request('proxyConfig', { proxy }, 60_000)) as unknown as EnvoyConfig;
      const simulated = await generator.request('simulate', { proxy, calls }, 60_000);
      figures.proxies++;
      calls.forEach((call, i) => {
        figures.calls++;
        const outcome = simulated[i]!.error || (simulated[i]!.cluster ? simulated[i]!.cluster.split('|')[0]! : 'no cluster');
        figures.outcomes.set(outcome, (figures.outcomes.get(outcome) ?? 0) + 1);
        const walked = resolveRoute(config, {
          ...call,
          alpn: call.alpn === undefined ? undefined : [call.alpn],
          path: call.path ?? '/',
          method: 'GET',
          headers: [],
        });
        record?.(call, walked, simulated[i]!);
        const diff = compare(walked, simulated[i]!);
        if (!diff.length) {
          figures.agreed++;
          return;
        }
        const line = `${label} ${proxy.type} ${proxy.namespace}/${proxy.name} ${JSON.stringify(call)}: ${diff.join('; ')}\n  trace: ${walked.trace.map((t) => t.detail).join(' | ')}`;
        if (simulationLimit(config, walked, simulated[i]!, call)) {
          figures.simulationLimits.push(line);
          return;
        }
        figures.disagreements.push(line);
        found.push(line);
      });
    }
  } finally {
    generator.close();
  }
  return found;
}

function compare(walked: RouteResolution, simulated: SimulationResult): string[] {
  return FIELDS.filter((f) => (walked[f] ?? '') !== simulated[f]).map(
    (f) => `${f}: walk "${walked[f] ?? ''}", simulation "${simulated[f]}"`,
  );
}

/**
 * The simulation's route match is a shortcut (pilot/pkg/simulation/traffic.go, matchRoute): it
 * looks at the path only ("TODO this only handles path - we need to add headers, query params"),
 * matches a path_separated_prefix as a plain prefix (strings.HasPrefix, so "/api" takes "/apix")
 * and a safe_regex with Go's unanchored regexp.MatchString (so "/v[0-9]+" takes "/api/v1"), where
 * Envoy requires headers, methods and query parameters to match, a whole path segment and a
 * whole-path RE2 match. A disagreement is the simulation's when both reach the same virtual host
 * and the simulation's route is the one those shortcuts pick, not Envoy's.
 */
function simulationLimit(config: EnvoyConfig, walked: RouteResolution, simulated: SimulationResult, call: SimulationCall): boolean {
  if (walked.virtualHost === null || walked.virtualHost !== simulated.virtualHost || walked.routeConfig !== (simulated.routeConfig || null))
    return false;
  const routeConfig = config.routes.find((rc) => rc.name === walked.routeConfig);
  const vh: VirtualHost | undefined = routeConfig?.virtualHosts?.find((v) => v.name === walked.virtualHost);
  const path = call.path ?? '/';
  const shortcut = (vh?.routes ?? []).find(({ match: m = {} }) => {
    if (m.prefix !== undefined) return path.startsWith(m.prefix);
    if (m.pathSeparatedPrefix !== undefined) return path.startsWith(m.pathSeparatedPrefix);
    if (m.path !== undefined) return path === m.path;
    return m.safeRegex?.regex !== undefined && new RegExp(m.safeRegex.regex).test(path);
  });
  const envoys = (vh?.routes ?? []).find((r) => r.name === walked.route);
  return shortcut !== undefined && shortcut !== envoys && (shortcut.name ?? '') === simulated.route;
}
