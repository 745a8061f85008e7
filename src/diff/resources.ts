// Resources added, removed and changed between two snapshots, field by field, noise left out. Pure.
import { canonicalJson } from '../model/canonical.js';
import { diffJson } from './json-diff.js';
import type { ResourceChange, ResourcesDiff } from './model.js';
import { compareStrings } from '../model/compare.js';

/** A resource as either side has it (a stored resource or an ingested one). */
export interface ResourceInput {
  apiVersion: string;
  kind: string;
  namespace: string | null;
  name: string;
  body: Record<string, unknown>;
}

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
/** What the API server or kubectl writes, never the author: not a change. */
export const NOISE_FIELDS: readonly string[] = [
  'status',
  'metadata.resourceVersion',
  'metadata.uid',
  'metadata.generation',
  'metadata.managedFields',
  'metadata.creationTimestamp',
  'metadata.selfLink',
  `metadata.annotations["${LAST_APPLIED}"]`,
];

export function isNoise(_path: string, segments: readonly string[]): boolean {
  const [first, second, third] = segments;
  if (segments.length === 1 && first === 'status') return true;
  if (first !== 'metadata') return false;
  if (segments.length === 2)
    return ['resourceVersion', 'uid', 'generation', 'managedFields', 'creationTimestamp', 'selfLink'].includes(second);
  return segments.length === 3 && second === 'annotations' && third === LAST_APPLIED;
}

const FIELD_LIMIT = 200;

/** The body without the noise fields (an emptied annotations map goes too). */
export function withoutNoise(body: Record<string, unknown>): Record<string, unknown> {
  const { status: _status, ...rest } = body;
  const metadata = rest.metadata as Record<string, unknown> | undefined;
  if (!metadata || typeof metadata !== 'object') return rest;
  const { resourceVersion: _rv, uid: _uid, generation: _g, managedFields: _mf, creationTimestamp: _ct, selfLink: _sl, ...meta } = metadata;
  const annotations = meta.annotations as Record<string, unknown> | undefined;
  if (annotations && typeof annotations === 'object' && LAST_APPLIED in annotations) {
    const { [LAST_APPLIED]: _la, ...others } = annotations;
    if (Object.keys(others).length) meta.annotations = others;
    else delete meta.annotations;
  }
  return { ...rest, metadata: meta };
}

function groupOf(apiVersion: string): string {
  return apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '';
}

/** Identity across snapshots: group, kind, namespace, name (a v1beta1 → v1 move is a change, not a swap). */
export function resourceKey(r: { apiVersion: string; kind: string; namespace: string | null; name: string }): string {
  return `${groupOf(r.apiVersion)}/${r.kind}/${r.namespace ?? ''}/${r.name}`;
}

function order(a: ResourceInput, b: ResourceInput): number {
  return (
    compareStrings(a.namespace ?? '', b.namespace ?? '') ||
    compareStrings(a.kind, b.kind) ||
    compareStrings(a.name, b.name) ||
    compareStrings(a.apiVersion, b.apiVersion)
  );
}

export function diffResources(base: readonly ResourceInput[], head: readonly ResourceInput[]): ResourcesDiff {
  const before = new Map(base.map((r) => [resourceKey(r), r]));
  const after = new Map(head.map((r) => [resourceKey(r), r]));
  const changes: ResourceChange[] = [];
  const noiseOnly: ResourcesDiff['noiseOnly'] = [];
  const entry = (r: ResourceInput, change: ResourceChange['change']): ResourceChange => ({
    change,
    apiVersion: r.apiVersion,
    kind: r.kind,
    namespace: r.namespace,
    name: r.name,
    fields: [],
    truncated: false,
  });
  for (const [key, h] of after) {
    const b = before.get(key);
    if (!b) {
      changes.push(entry(h, 'ADDED'));
      continue;
    }
    if (b.body === h.body || canonicalJson(b.body) === canonicalJson(h.body)) continue;
    const fields = diffJson(withoutNoise(b.body), withoutNoise(h.body), { limit: FIELD_LIMIT + 1 });
    if (fields.length === 0) {
      noiseOnly.push({ kind: h.kind, namespace: h.namespace, name: h.name });
      continue;
    }
    changes.push({ ...entry(h, 'CHANGED'), fields: fields.slice(0, FIELD_LIMIT), truncated: fields.length > FIELD_LIMIT });
  }
  for (const [key, b] of before) if (!after.has(key)) changes.push(entry(b, 'REMOVED'));
  changes.sort((x, y) => order(x as never, y as never) || compareStrings(x.change, y.change));
  noiseOnly.sort(
    (x, y) => compareStrings(x.namespace ?? '', y.namespace ?? '') || compareStrings(x.kind, y.kind) || compareStrings(x.name, y.name),
  );
  return { changes, noiseOnly };
}
