// Scenario pairs for the diff, built from the istioinaction seed story (examples/istioinaction).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

const EXAMPLES = fileURLToPath(new URL('../../../examples/istioinaction/', import.meta.url));

type Obj = Record<string, any>;

/** The seed story's objects, in file order. */
export function istioinaction(): Obj[] {
  return readdirSync(EXAMPLES)
    .filter((f) => f.endsWith('.yaml'))
    .sort()
    .flatMap((f) => YAML.parseAllDocuments(readFileSync(join(EXAMPLES, f), 'utf8')).map((d) => d.toJS() as Obj))
    .filter((o) => o && typeof o === 'object');
}

export function toYaml(objects: Obj[]): string {
  return objects.map((o) => YAML.stringify(o)).join('---\n');
}

function edit(objects: Obj[], kind: string, name: string, change: (o: Obj) => void): Obj[] {
  const copy = structuredClone(objects);
  const target = copy.find((o) => o.kind === kind && o.metadata?.name === name);
  if (!target) throw new Error(`no ${kind} ${name}`);
  change(target);
  return copy;
}

const CATALOG = 'catalog';
const v = (subset: string, weight?: number) => ({ destination: { host: CATALOG, subset }, ...(weight === undefined ? {} : { weight }) });

/** The mesh catalog VirtualService with these http routes. */
function withCatalogRoutes(objects: Obj[], http: Obj[]): Obj[] {
  return edit(objects, 'VirtualService', CATALOG, (o) => {
    o.spec.http = http;
  });
}

const cohort = { name: 'internal-cohort', match: [{ headers: { 'x-istio-cohort': { exact: 'internal' } } }], route: [v('version-v2')] };
const canary = { name: 'canary', route: [v('version-v1', 90), v('version-v2', 10)] };
const allV1 = { name: 'canary', route: [v('version-v1')] };

export interface Scenario {
  name: string;
  base: string;
  head: string;
}

export function scenarios(): Record<string, Scenario> {
  const seed = istioinaction();
  const s = (name: string, base: Obj[], head: Obj[]): Scenario => ({ name, base: toYaml(base), head: toYaml(head) });
  return {
    canary: s('all traffic to v1 → 90/10 canary', withCatalogRoutes(seed, [allV1]), withCatalogRoutes(seed, [canary])),
    cohort: s('adding the x-istio-cohort: internal rule', withCatalogRoutes(seed, [canary]), withCatalogRoutes(seed, [cohort, canary])),
    circuitBreaker: s(
      'a DestinationRule with http2MaxRequests: 1',
      seed,
      edit(seed, 'DestinationRule', CATALOG, (o) => {
        o.spec.trafficPolicy = { connectionPool: { http: { http2MaxRequests: 1 } } };
      }),
    ),
    toGateway: s(
      'the catalog VirtualService moved from mesh to the named gateway',
      seed,
      edit(seed, 'VirtualService', CATALOG, (o) => {
        o.spec.gateways = ['catalog-gateway'];
      }),
    ),
    missingSubset: s(
      'a route to a subset no DestinationRule defines',
      seed,
      withCatalogRoutes(seed, [cohort, { name: 'canary', route: [v('version-v1', 90), v('version-v3', 10)] }]),
    ),
    noise: s(
      'only status and annotations change',
      seed,
      edit(
        edit(seed, 'VirtualService', CATALOG, (o) => {
          o.metadata.annotations = {
            'example.com/owner': 'team-catalog',
            'kubectl.kubernetes.io/last-applied-configuration': '{"apiVersion":"networking.istio.io/v1"}',
          };
          o.metadata.resourceVersion = '12345';
          o.status = { observedGeneration: 3 };
        }),
        'Deployment',
        CATALOG,
        (o) => {
          o.status = { replicas: 2, readyReplicas: 2 };
          o.metadata.generation = 7;
        },
      ),
    ),
  };
}
