import { describe, expect, it } from 'vitest';
import { diffDiagnostics } from '../../../src/diff/diagnostics.js';
import { align, diffJson } from '../../../src/diff/json-diff.js';
import { diffResources, type ResourceInput } from '../../../src/diff/resources.js';
import { message } from './fixtures.js';

describe('diffJson', () => {
  it('names array elements by their name, so an insertion shifts nothing', () => {
    const before = {
      routes: [
        { name: 'a', w: 1 },
        { name: 'b', w: 2 },
      ],
    };
    const after = {
      routes: [
        { name: 'new', w: 0 },
        { name: 'a', w: 1 },
        { name: 'b', w: 3 },
      ],
    };
    expect(diffJson(before, after)).toEqual([
      { path: 'routes[name=new]', change: 'ADDED', after: { name: 'new', w: 0 } },
      { path: 'routes[name=b].w', change: 'CHANGED', before: 2, after: 3 },
    ]);
  });

  it('aligns unnamed elements on the equal ones (LCS) before comparing what is left', () => {
    const before = { http: [{ route: 'canary' }] };
    const after = { http: [{ match: 'cohort', route: 'v2' }, { route: 'canary' }] };
    expect(diffJson(before, after)).toEqual([{ path: 'http[0]', change: 'ADDED', after: { match: 'cohort', route: 'v2' } }]);
    expect(align(['a', 'b', 'c'], ['a', 'x', 'c', 'd'])).toEqual([{ i: 0, j: 0 }, { i: 1, j: 1 }, { i: 2, j: 2 }, { j: 3 }]);
  });

  it('compares scalar arrays as one value and quotes keys that are not identifiers', () => {
    expect(diffJson({ gateways: ['mesh'] }, { gateways: ['catalog-gateway'] })).toEqual([
      { path: 'gateways', change: 'CHANGED', before: ['mesh'], after: ['catalog-gateway'] },
    ]);
    expect(
      diffJson({ metadata: { annotations: { 'example.com/x': '1' } } }, { metadata: { annotations: { 'example.com/x': '2' } } })[0]!.path,
    ).toBe('metadata.annotations["example.com/x"]');
  });

  it('stops at the limit', () => {
    const a = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`k${i}`, i]));
    const b = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`k${i}`, i + 1]));
    expect(diffJson(a, b, { limit: 5 })).toHaveLength(5);
  });
});

describe('diffResources', () => {
  const vs = (extra: Record<string, unknown> = {}, spec: Record<string, unknown> = { hosts: ['catalog'] }): ResourceInput => ({
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    namespace: 'shop',
    name: 'catalog',
    body: {
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualService',
      metadata: { name: 'catalog', namespace: 'shop' },
      spec,
      ...extra,
    },
  });

  it('ignores status, resourceVersion, uid, generation, managedFields, creationTimestamp and last-applied', () => {
    const noisy = vs();
    noisy.body = {
      ...noisy.body,
      status: { observedGeneration: 2 },
      metadata: {
        name: 'catalog',
        namespace: 'shop',
        resourceVersion: '9',
        uid: 'u',
        generation: 2,
        managedFields: [{}],
        creationTimestamp: '2024-01-01T00:00:00Z',
        annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}' },
      },
    };
    expect(diffResources([vs()], [noisy])).toEqual({
      changes: [],
      noiseOnly: [{ kind: 'VirtualService', namespace: 'shop', name: 'catalog' }],
    });
  });

  it('lists a real annotation next to the ignored last-applied one', () => {
    const head = vs();
    head.body = {
      ...head.body,
      metadata: {
        name: 'catalog',
        namespace: 'shop',
        annotations: { owner: 'a', 'kubectl.kubernetes.io/last-applied-configuration': '{}' },
      },
    };
    const { changes } = diffResources([vs()], [head]);
    expect(changes[0]!.fields).toEqual([{ path: 'metadata.annotations', change: 'ADDED', after: { owner: 'a' } }]);
  });

  it('keys resources by group, kind, namespace and name: an apiVersion move is a change', () => {
    const old = { ...vs(), apiVersion: 'networking.istio.io/v1beta1' };
    old.body = { ...old.body, apiVersion: 'networking.istio.io/v1beta1' };
    const added = { ...vs(), name: 'reviews' };
    const { changes } = diffResources([old], [vs(), added]);
    expect(changes.map((c) => [c.change, c.name, c.fields.map((f) => f.path)])).toEqual([
      ['CHANGED', 'catalog', ['apiVersion']],
      ['ADDED', 'reviews', []],
    ]);
  });
});

describe('diffDiagnostics', () => {
  it('finds introduced and resolved messages, errors first', () => {
    const base = [message('IST0132', 'Warning', 'old')];
    const head = [message('IST0132', 'Info', 'x'), message('IST0132', 'Warning', 'y'), message('IST0101', 'Error', 'z')];
    const d = diffDiagnostics(base, head);
    expect(d.introduced.map((m) => m.level)).toEqual(['Error', 'Warning', 'Info']);
    expect(d.resolved.map((m) => m.name)).toEqual(['old']);
  });
});
