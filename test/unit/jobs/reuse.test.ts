import { describe, expect, it } from 'vitest';
import type { LoadParams } from '../../../src/generator/protocol.js';
import type { StoredClass, StoredWorkload } from '../../../src/database/snapshot-lists.js';
import type { ProxyInfo } from '../../../src/model/proxy.js';
import type { Workload } from '../../../src/model/snapshot.js';
import { inputChanges, inputIdentities, sameMembership } from '../../../src/jobs/reuse.js';
import type { MemberClass } from '../../../src/jobs/proxy-classes.js';

const input = (
  kubernetes: Record<string, unknown>[],
  istio: Record<string, unknown>[] = [],
  extra: Partial<LoadParams> = {},
): LoadParams => ({
  kubernetes,
  istio,
  analysis: [],
  meshConfig: '',
  proxyTypes: {},
  kinds: {},
  ...extra,
});
const pod = (name: string, labels: Record<string, string>) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'shop', labels },
});
const vs = (name: string, weight: number) => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'VirtualService',
  metadata: { name, namespace: 'shop' },
  spec: { weight },
});

describe('inputChanges', () => {
  it('names the objects added, removed and changed, by identity, sorted; equal inputs have none', () => {
    const before = input([pod('web-1', { app: 'web' }), pod('web-2', { app: 'web' })], [vs('web', 90), vs('old', 1)]);
    const after = input([pod('web-1', { app: 'web', version: 'v2' }), pod('web-2', { app: 'web' })], [vs('web', 90), vs('new', 1)]);
    expect(inputChanges(inputIdentities(before), inputIdentities(after))).toEqual({
      meshConfig: false,
      changed: [
        { apiVersion: 'v1', kind: 'Pod', namespace: 'shop', name: 'web-1' },
        { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', namespace: 'shop', name: 'new' },
        { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', namespace: 'shop', name: 'old' },
      ],
    });
    expect(inputChanges(inputIdentities(before), inputIdentities(before))).toEqual({ meshConfig: false, changed: [] });
  });

  it("counts a pod's proxy type as part of the pod, and the mesh config on its own", () => {
    const objects = [pod('web-1', { app: 'web' })];
    const changes = inputChanges(
      inputIdentities(input(objects)),
      inputIdentities(input(objects, [], { proxyTypes: { 'shop/web-1': 'NONE' }, meshConfig: 'x: 1' })),
    );
    expect(changes.meshConfig).toBe(true);
    expect(changes.changed.map((c) => c.name)).toEqual(['web-1']);
  });
});

describe('sameMembership', () => {
  const member = (name: string, ip: string) => ({ namespace: 'shop', name, proxy: { ips: [ip] } as unknown as ProxyInfo });
  const workload = (name: string, ip: string, proxyClass: string | null) =>
    ({ namespace: 'shop', name, kind: 'Pod', ips: [ip], proxyClass }) as unknown as StoredWorkload;
  const stored = (classKey: string, members: number): StoredClass => ({
    classKey,
    configHash: `c-${classKey}`,
    proxyInfoHash: 'p',
    members,
  });
  const cls = (classKey: string, ...workloads: ReturnType<typeof member>[]) =>
    ({ classKey, proxyType: 'SIDECAR', workloads }) as MemberClass;
  const now = (...ws: [string, string][]) => ws.map(([name, ip]) => ({ namespace: 'shop', name, ips: [ip] }) as unknown as Workload);

  it('keeps a class of the same key with exactly the same members at the same addresses', () => {
    const base = {
      workloads: [
        workload('a-1', '10.0.0.1', 'A'),
        workload('a-2', '10.0.0.2', 'A'),
        workload('b-1', '10.0.0.3', 'B'),
        workload('c-1', '10.0.0.4', 'C'),
      ],
      classes: new Map([
        ['A', stored('A', 2)],
        ['B', stored('B', 1)],
        ['C', stored('C', 1)],
      ]),
    };
    const classes = [
      cls('A', member('a-1', '10.0.0.1'), member('a-2', '10.0.0.2')),
      // B gained a member, C's member moved
      cls('B', member('b-1', '10.0.0.3'), member('b-2', '10.0.0.5')),
      cls('C', member('c-1', '10.0.0.9')),
      // new class
      cls('D', member('d-1', '10.0.0.6')),
    ];
    const workloads = now(
      ['a-1', '10.0.0.1'],
      ['a-2', '10.0.0.2'],
      ['b-1', '10.0.0.3'],
      ['b-2', '10.0.0.5'],
      ['c-1', '10.0.0.9'],
      ['d-1', '10.0.0.6'],
    );
    expect([...sameMembership(classes, workloads, base).keys()]).toEqual(['A']);
  });

  it('never keeps a class that was split member by member', () => {
    const base = {
      workloads: [workload('a-1', '10.0.0.1', 'A-a-1'), workload('a-2', '10.0.0.2', 'A-a-2')],
      classes: new Map([
        ['A-a-1', stored('A-a-1', 1)],
        ['A-a-2', stored('A-a-2', 1)],
      ]),
    };
    const classes = [cls('A', member('a-1', '10.0.0.1'), member('a-2', '10.0.0.2'))];
    expect(sameMembership(classes, now(['a-1', '10.0.0.1'], ['a-2', '10.0.0.2']), base).size).toBe(0);
  });
});
