// Reading stored connectivity through the per-snapshot index: the same rows, in the same order, as
// expanding every group (rows.ts), and paging, the source filter and the totals on top.
import { describe, expect, it } from 'vitest';
import { buildConnectivityIndex, queryConnections } from '../../../src/connectivity/read-index.js';
import { expandConnections } from '../../../src/connectivity/rows.js';
import type { ConnectionGroup, Connectivity, SenderEntry } from '../../../src/model/connectivity.js';

function group(namespace: string, service: string, port: number, verdict: ConnectionGroup['verdict'], senders: string[]): ConnectionGroup {
  return {
    destination: `${service}.${namespace}.svc.cluster.local:${port}`,
    namespace,
    service,
    verdict,
    conditions: verdict === 'CONDITIONAL' ? ['methods GET'] : [],
    tls: 'MTLS',
    policies: [],
    reason: verdict,
    causes: [],
    senders,
  };
}

/** Three namespaces' senders in two classes per namespace; every service port reached by every class. */
function mesh(): Connectivity {
  const senders: SenderEntry[] = [];
  for (const ns of ['b', 'a', 'c'])
    for (let i = 9; i >= 0; i--) senders.push({ namespace: ns, name: `w-${i}`, kind: 'Pod', senderClass: `${ns}-${i % 2}` });
  const classes = [...new Set(senders.map((s) => s.senderClass))];
  const groups: ConnectionGroup[] = [];
  for (const ns of ['c', 'a', 'b'])
    for (const svc of ['web', 'db'])
      for (const port of [80, 8080]) {
        groups.push(
          group(
            ns,
            svc,
            port,
            'DENIED',
            classes.filter((c) => !c.startsWith(ns)),
          ),
        );
        groups.push(
          group(
            ns,
            svc,
            port,
            'CONDITIONAL',
            classes.filter((c) => c.startsWith(ns)),
          ),
        );
      }
  return { groups, senders };
}

describe('connectivity read index', () => {
  const stored = mesh();
  const index = buildConnectivityIndex(stored);

  it('gives the rows expandConnections gives, in its order, for every filter', () => {
    for (const filter of [{}, { namespace: 'a' }, { namespace: 'b', service: 'web' }, { service: 'db' }, { namespace: 'nowhere' }]) {
      const { rows, total } = queryConnections(index, filter);
      expect(rows).toEqual(expandConnections(stored.groups, stored.senders, filter));
      expect(total).toBe(rows.length);
    }
    expect(queryConnections(index, { namespace: 'a' }).rows).toHaveLength(4 * 30);
  });

  it('pages: limit and offset cut the same ordered rows, total counts them all', () => {
    const all = queryConnections(index, { namespace: 'a' }).rows;
    const pages = [];
    for (let offset = 0; offset < all.length; offset += 7) {
      const page = queryConnections(index, { namespace: 'a' }, { offset, limit: 7 });
      expect(page.total).toBe(all.length);
      pages.push(...page.rows);
    }
    expect(pages).toEqual(all);
    expect(queryConnections(index, { namespace: 'a' }, { offset: all.length, limit: 5 }).rows).toEqual([]);
    expect(queryConnections(index, { namespace: 'a' }, { offset: 25 }).rows).toEqual(all.slice(25));
  });

  it('filters by sending workload, by namespace/name or by name', () => {
    const one = queryConnections(index, { source: 'b/w-3' });
    expect(one.total).toBe(12);
    expect(new Set(one.rows.map((r) => `${r.source.namespace}/${r.source.name}`))).toEqual(new Set(['b/w-3']));
    expect(one.rows.filter((r) => r.destination.endsWith('.b.svc.cluster.local:80')).map((r) => r.verdict)).toEqual([
      'CONDITIONAL',
      'CONDITIONAL',
    ]);
    const byName = queryConnections(index, { source: 'w-3', namespace: 'c', service: 'web' });
    expect(byName.rows.map((r) => `${r.source.namespace}/${r.source.name} ${r.destination}`)).toEqual([
      'a/w-3 web.c.svc.cluster.local:80',
      'b/w-3 web.c.svc.cluster.local:80',
      'c/w-3 web.c.svc.cluster.local:80',
      'a/w-3 web.c.svc.cluster.local:8080',
      'b/w-3 web.c.svc.cluster.local:8080',
      'c/w-3 web.c.svc.cluster.local:8080',
    ]);
    const paged = queryConnections(index, { source: 'w-3' }, { offset: 2, limit: 3 });
    expect(paged.total).toBe(36);
    expect(paged.rows).toEqual(queryConnections(index, { source: 'w-3' }).rows.slice(2, 5));
    expect(queryConnections(index, { source: 'a/nobody' })).toEqual({ rows: [], total: 0 });
  });
});
