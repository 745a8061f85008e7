// Which proxy classes of a snapshot can take their stored config from an earlier READY snapshot of
// the mesh: the inputs that differ between the two (what the generator loads), and the classes
// whose membership is the same. Whether a changed input matters to a class is Istio's answer (the
// generator's pushScope); these are the plain parts around it. Pure functions, no I/O.
import { contentHash } from '../model/canonical.js';
import { compareStrings } from '../model/compare.js';
import type { ChangedObject, LoadParams } from '../generator/protocol.js';
import type { StoredClass, StoredWorkload } from '../database/snapshot-lists.js';
import type { Workload } from '../model/snapshot.js';
import type { MemberClass } from './proxy-classes.js';

type Body = Record<string, unknown>;

/** What differs between the generator inputs of two snapshots. */
export interface InputChanges {
  /** The mesh config differs: istiod pushes every proxy. */
  meshConfig: boolean;
  /** The objects added, removed or changed, sorted by identity. */
  changed: ChangedObject[];
}

/**
 * A snapshot's generator inputs as inputChanges compares them: each object's content hash by
 * identity, and the mesh config. Kept by the compute job for the next snapshot of the mesh.
 */
export interface InputIdentities {
  meshConfig: string;
  objects: Map<string, { ref: ChangedObject; hash: string }>;
}

/**
 * The objects (Kubernetes and Istio) of `after` that are not in `before` as they are, and those of
 * `before` that are gone, by identity (API group, kind, namespace, name). A pod's proxy type as
 * injection decides it belongs to the pod: a pod that gains or loses its sidecar changed.
 */
export function inputChanges(before: InputIdentities, after: InputIdentities): InputChanges {
  const a = before.objects;
  const b = after.objects;
  const changed: ChangedObject[] = [];
  for (const [id, entry] of b) if (a.get(id)?.hash !== entry.hash) changed.push(entry.ref);
  for (const [id, entry] of a) if (!b.has(id)) changed.push(entry.ref);
  changed.sort((x, y) => compareStrings(identity(x), identity(y)));
  return { meshConfig: before.meshConfig !== after.meshConfig, changed };
}

export function inputIdentities(input: LoadParams): InputIdentities {
  return { meshConfig: input.meshConfig, objects: identities(input) };
}

function identities(input: LoadParams): Map<string, { ref: ChangedObject; hash: string }> {
  const out = new Map<string, { ref: ChangedObject; hash: string }>();
  for (const o of [...input.kubernetes, ...input.istio]) {
    const metadata = (o.metadata ?? {}) as Body;
    const ref: ChangedObject = {
      apiVersion: text(o.apiVersion),
      kind: text(o.kind),
      ...(typeof metadata.namespace === 'string' && metadata.namespace ? { namespace: metadata.namespace } : {}),
      name: text(metadata.name),
    };
    const id = identity(ref);
    const key = `${ref.namespace ?? ''}/${ref.name}`;
    const proxyType = ref.kind === 'Pod' && groupOf(ref.apiVersion) === '' ? (input.proxyTypes[key] ?? null) : null;
    // Two objects of one identity (two versions of a kind) count as one: either changing changes it.
    const previous = out.get(id)?.hash ?? '';
    out.set(id, { ref, hash: contentHash([previous, o, proxyType]) });
  }
  return out;
}

/** A field the normaliser left a string (objects reach the generator validated); "" otherwise. */
function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function identity(ref: ChangedObject): string {
  return `${groupOf(ref.apiVersion)}/${ref.kind}/${ref.namespace ?? ''}/${ref.name}`;
}

function groupOf(apiVersion: string): string {
  const slash = apiVersion.lastIndexOf('/');
  return slash === -1 ? '' : apiVersion.slice(0, slash);
}

/**
 * The classes whose stored config in the earlier snapshot is theirs if Istio says no change matters
 * to them: the same class key, a class that was not split, with exactly the same members at the
 * same addresses (the representative, and whether istiod wrote a member's identity into the
 * config, then come out the same). By class key.
 */
export function sameMembership(
  classes: MemberClass[],
  workloads: Workload[],
  base: { workloads: StoredWorkload[]; classes: Map<string, StoredClass> },
): Map<string, StoredClass> {
  const before = new Map(base.workloads.map((w) => [`${w.namespace}/${w.name}`, w]));
  const now = new Map(workloads.map((w) => [`${w.namespace}/${w.name}`, w]));
  const out = new Map<string, StoredClass>();
  for (const cls of classes) {
    const stored = base.classes.get(cls.classKey);
    if (!stored || stored.members !== cls.workloads.length) continue;
    const same = cls.workloads.every((m) => {
      const w = before.get(`${m.namespace}/${m.name}`);
      const n = now.get(`${m.namespace}/${m.name}`);
      return w?.proxyClass === cls.classKey && n !== undefined && sameList(w.ips, n.ips);
    });
    if (same) out.set(cls.classKey, stored);
  }
  return out;
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
