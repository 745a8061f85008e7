// DiffService over two stored snapshots, with the snapshot store and the proxy config source in
// memory (no database): what changed in the resources (only differing bodies read), in the proxies
// and in the diagnostics; a missing or unfinished side refused with what to do.
import { describe, expect, it } from 'vitest';
import { SnapshotEntity, SnapshotStatus } from '../../../src/database/entities/index.js';
import type { ResourceEntry } from '../../../src/database/snapshot-lists.js';
import type { SnapshotStore } from '../../../src/database/snapshot.store.js';
import type { ConnectivityStore } from '../../../src/database/connectivity.store.js';
import { DiffNotFoundError, DiffNotReadyError, DiffService } from '../../../src/diff/diff.service.js';
import type { ProxyClass, ProxyConfigSource } from '../../../src/diff/proxy-class.js';
import { contentHash } from '../../../src/model/canonical.js';
import type { AnalyzerMessage } from '../../../src/model/diagnostics.js';
import type { EnvoyObject } from '../../../src/model/proxy.js';
import { fake } from '../../support/fakes.js';
import { destinationRule, namespace, resources, service, virtualService, type Manifest } from '../../support/mesh.js';
import { baseConfig, message, proxyClass, route, toSubset, weighted } from './fixtures.js';

interface StoredSnapshot {
  status?: SnapshotStatus;
  manifests: Manifest[];
  classes: ProxyClass[];
  diagnostics?: AnalyzerMessage[];
}

/** Snapshots in memory, as the store and the proxy config source read them; `read` lists the bodies read. */
function inMemory(snapshots: Record<string, StoredSnapshot>, pool: Map<string, EnvoyObject>) {
  const bodies = new Map<string, Record<string, unknown>>();
  const read: string[] = [];
  const entries = (id: string): ResourceEntry[] =>
    resources(...snapshots[id]!.manifests).map(({ apiVersion, kind, namespace, name, evaluated, body }) => {
      const bodyHash = contentHash(body);
      bodies.set(bodyHash, body);
      return { apiVersion, kind, namespace, name, evaluated, bodyHash };
    });
  const store = fake<SnapshotStore>({
    status: async (id) => (snapshots[id] ? (snapshots[id].status ?? SnapshotStatus.READY) : null),
    get: async (id) => {
      const s = snapshots[id];
      if (!s) return null;
      return Object.assign(new SnapshotEntity(), {
        id,
        name: id,
        status: s.status ?? SnapshotStatus.READY,
        error: null,
        istioVersion: '1.31.0',
      });
    },
    diagnostics: async (id) => (snapshots[id] ? (snapshots[id].diagnostics ?? []) : null),
    // Every entry of both sides: a superset of the lists' difference, which the service narrows.
    resourceDifference: async (base, head) => ({ base: entries(base), head: entries(head) }),
    bodies: async (hashes) => {
      read.push(...hashes);
      return new Map(hashes.map((h) => [h, bodies.get(h)!]));
    },
  });
  const source: ProxyConfigSource = {
    classes: async (id) => snapshots[id]!.classes,
    objects: async (_id, hashes) => new Map(hashes.flatMap((h) => (pool.has(h) ? [[h, pool.get(h)!] as const] : []))),
  };
  // Snapshots stored before connectivity existed: no connections to compare.
  const connectivity = fake<ConnectivityStore>({ roots: async () => null });
  return { service: new DiffService(store, source, connectivity), read };
}

const NS = 'istioinaction';
const HOST = `catalog.${NS}.svc.cluster.local`;
const common = [namespace(NS), service(NS, 'catalog', [{ name: 'http', port: 80, targetPort: 3000 }])];
const subsets = destinationRule(NS, 'catalog', { host: HOST, subsets: [{ name: 'version-v1', labels: { version: 'v1' } }] });
const vs = (v1: number) =>
  virtualService(NS, 'catalog', {
    hosts: [HOST],
    http: [
      {
        route: [
          { destination: { host: HOST, subset: 'version-v1' }, weight: v1 },
          { destination: { host: HOST, subset: 'version-v2' }, weight: 100 - v1 },
        ],
      },
    ],
  });

function canary() {
  const pool = new Map<string, EnvoyObject>();
  const webapp = [`${NS}/webapp`];
  const snapshots: Record<string, StoredSnapshot> = {
    base: {
      manifests: [...common, subsets, vs(100)],
      classes: [proxyClass('webapp', webapp, baseConfig([route('catalog', toSubset('version-v1'))]), pool)],
    },
    head: {
      manifests: [...common, subsets, vs(90)],
      classes: [proxyClass('webapp', webapp, baseConfig([route('catalog', weighted(['version-v1', 90], ['version-v2', 10]))]), pool)],
      diagnostics: [message('IST0101', 'Error', 'catalog')],
    },
    computing: { status: SnapshotStatus.COMPUTING, manifests: common, classes: [] },
  };
  return { ...inMemory(snapshots, pool), snapshots };
}

describe('DiffService', () => {
  it('compares two stored snapshots: the changed resource, the proxies it changes, the diagnostics it brings', async () => {
    const { service, read } = canary();
    const diff = await service.diff('base', 'head');
    expect(diff.resources.map((r) => [r.change, r.kind, r.name])).toEqual([['CHANGED', 'VirtualService', 'catalog']]);
    expect(diff.proxies).toHaveLength(1);
    expect(diff.proxies[0]!.workloads).toEqual([{ namespace: NS, name: 'webapp', kind: 'Pod' }]);
    expect(diff.proxies[0]!.objects).toEqual([expect.objectContaining({ type: 'routes', name: '80', change: 'CHANGED' })]);
    expect(diff.routing.map((r) => r.sentence).join('\n')).toContain('10%');
    expect(diff.diagnostics.introduced).toEqual([expect.objectContaining({ code: 'IST0101' })]);
    expect(diff.summary).toMatchObject({ resourcesChanged: 1, workloadsAffected: 1, diagnosticsIntroduced: 1, effectiveChange: true });
    expect(diff.markdown).toContain('VirtualService');
    // Only the two versions of the VirtualService were read: the bodies both sides share never are.
    expect(read).toHaveLength(2);
  });

  it('a snapshot against itself: nothing changed, nothing read', async () => {
    const { service, read } = canary();
    const diff = await service.diff('head', 'head');
    expect(diff.resources).toEqual([]);
    expect(diff.proxies).toEqual([]);
    expect(diff.summary.effectiveChange).toBe(false);
    expect(read).toEqual([]);
  });

  it('refuses a missing side (not found) and a side still computing (conflict, retry later)', async () => {
    const { service } = canary();
    await expect(service.diff('base', 'nope')).rejects.toThrow(new DiffNotFoundError('head snapshot nope not found'));
    await expect(service.diff('gone', 'nope')).rejects.toThrow('base snapshot gone and head snapshot nope not found');
    const refused = service.diff('base', 'computing');
    await expect(refused).rejects.toBeInstanceOf(DiffNotReadyError);
    await expect(refused).rejects.toThrow(
      'cannot diff yet: head snapshot computing is COMPUTING, not READY (still being computed, retry shortly); both snapshots must be READY',
    );
  });
});
