// The entries of a snapshot's stored lists (chunked-list.ts): how each list's entry is written into
// a chunk and read back, and what keys it. Tuples, not objects, and content hashes in base64 (43
// characters, not 64): a chunk is stored as JSON, and key names and hex digits repeated in every
// entry would be most of its bytes. Pure functions, no I/O.
import type { IndexedProxyClass } from '../model/proxy-class.js';
import type { ProxyType } from '../model/proxy.js';
import type { Workload } from '../model/snapshot.js';
import { compareStrings } from '../model/compare.js';
import type { ConfigRef } from '../model/config-ref.js';
import type { ConnectionGroup, ConnectionTls, ConnectivityVerdict as Verdict, SenderEntry } from '../model/connectivity.js';
import type { ListName } from './chunked-list.js';

/** A resource of a snapshot: its identity and the hash of its body (resource_bodies). */
export interface ResourceEntry {
  apiVersion: string;
  kind: string;
  namespace: string | null;
  name: string;
  evaluated: boolean;
  bodyHash: string;
}

/** A workload as the compute job derived it, with its proxy class (null without a proxy). */
export interface StoredWorkload extends Workload {
  proxyClass: string | null;
}

/** A proxy class of a snapshot: its config (the root of its Envoy object tree), ProxyInfo and size. */
export interface StoredClass extends Pick<IndexedProxyClass, 'classKey' | 'configHash'> {
  proxyInfoHash: string;
  members: number;
}

type ResourceTuple = [string, string, string | null, string, boolean, string];
type WorkloadTuple = [
  string,
  string,
  string,
  ProxyType,
  Record<string, string>,
  Record<string, string>,
  string[],
  string,
  string[],
  string | null,
];
type ClassTuple = [string, string, string, number];

/** A content hash (sha256 hex) as stored in an entry: unpadded base64. */
export function compactHash(hex: string): string {
  return Buffer.from(hex, 'hex').toString('base64').replace(/=+$/, '');
}

/** A content hash as the rest of meshlens names it: hex. */
export function expandHash(compact: string): string {
  return Buffer.from(compact, 'base64').toString('hex');
}

/** SQL for the 32 bytes of a compactHash held by the text expression `text`. */
export function compactHashBytesSql(text: string): string {
  return `decode(${text} || '=', 'base64')`;
}

/** Index of the body hash in a stored resource entry: the garbage collector reads it in SQL. */
export const RESOURCE_BODY_HASH_INDEX = 5;
/** Indexes of the config hash and ProxyInfo hash in a stored class entry, for the same reason. */
export const CLASS_CONFIG_HASH_INDEX = 1;
export const CLASS_PROXY_INFO_INDEX = 2;

export const resourceListCodec = {
  name: 'resources' as const,
  key: (r: ResourceEntry) => `${r.kind}/${r.namespace ?? ''}/${r.name}`,
  encode: (r: ResourceEntry): ResourceTuple => [r.apiVersion, r.kind, r.namespace, r.name, r.evaluated, compactHash(r.bodyHash)],
  decode: (t: ResourceTuple): ResourceEntry => ({
    apiVersion: t[0],
    kind: t[1],
    namespace: t[2],
    name: t[3],
    evaluated: t[4],
    bodyHash: expandHash(t[5]),
  }),
};

export const workloadListCodec = {
  name: 'workloads' as const,
  key: (w: StoredWorkload) => `${w.namespace}/${w.name}/${w.kind}`,
  encode: (w: StoredWorkload): WorkloadTuple => [
    w.namespace,
    w.name,
    w.kind,
    w.proxyType,
    w.labels,
    w.annotations,
    w.ips,
    w.serviceAccount,
    w.services,
    w.proxyClass,
  ],
  decode: (t: WorkloadTuple): StoredWorkload => ({
    namespace: t[0],
    name: t[1],
    kind: t[2],
    proxyType: t[3],
    labels: t[4],
    annotations: t[5],
    ips: t[6],
    serviceAccount: t[7],
    services: t[8],
    proxyClass: t[9],
  }),
};

export const classListCodec = {
  name: 'classes' as const,
  key: (c: StoredClass) => c.classKey,
  encode: (c: StoredClass): ClassTuple => [c.classKey, compactHash(c.configHash), compactHash(c.proxyInfoHash), c.members],
  decode: (t: ClassTuple): StoredClass => ({
    classKey: t[0],
    configHash: expandHash(t[1]),
    proxyInfoHash: expandHash(t[2]),
    members: t[3],
  }),
};

type ConnectionTuple = [string, string, string, Verdict, string[], ConnectionTls, string[], string, string[], string[]];
type SenderTuple = [string, string, string, string];

const refText = (r: ConfigRef) => `${r.kind}/${r.namespace}/${r.name}`;
const refOf = (text: string): ConfigRef => {
  const [kind, namespace, ...name] = text.split('/');
  return { kind, namespace, name: name.join('/') };
};

/** A snapshot's connectivity (connectivity/build.ts): one destination's outcome and the sender classes that have it. */
export const connectionListCodec = {
  name: 'connections' as const,
  key: (g: ConnectionGroup) => `${g.destination}|${g.verdict}|${g.senders[0] ?? ''}`,
  encode: (g: ConnectionGroup): ConnectionTuple => [
    g.namespace,
    g.service,
    g.destination,
    g.verdict,
    g.conditions,
    g.tls,
    g.policies.map(refText),
    g.reason,
    g.causes.map(refText),
    g.senders,
  ],
  decode: (t: ConnectionTuple): ConnectionGroup => ({
    namespace: t[0],
    service: t[1],
    destination: t[2],
    verdict: t[3],
    conditions: t[4],
    tls: t[5],
    policies: t[6].map(refOf),
    reason: t[7],
    causes: t[8].map(refOf),
    senders: t[9],
  }),
};

/** Each sending workload's connectivity class. */
export const senderListCodec = {
  name: 'senders' as const,
  key: (s: SenderEntry) => `${s.namespace}/${s.name}/${s.kind}`,
  encode: (s: SenderEntry): SenderTuple => [s.namespace, s.name, s.kind, s.senderClass],
  decode: (t: SenderTuple): SenderEntry => ({ namespace: t[0], name: t[1], kind: t[2], senderClass: t[3] }),
};

/** One of the lists above. */
export interface ListCodec<E, T> {
  name: ListName;
  key: (entry: E) => string;
  encode: (entry: E) => T;
  decode: (tuple: T) => E;
}

/** Workloads in their stored (and listed) order: namespace, name, kind. */
export function compareWorkloads(a: Workload, b: Workload): number {
  return compareStrings(a.namespace, b.namespace) || compareStrings(a.name, b.name) || compareStrings(a.kind, b.kind);
}
