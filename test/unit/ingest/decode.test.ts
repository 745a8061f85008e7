import { describe, expect, it } from 'vitest';
import { decodeManifests } from '../../../src/ingest/decode.js';

const service = (name: string) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name } });

describe('decodeManifests', () => {
  it('reads multi-document YAML with comments, leading and trailing ---, and empty documents', () => {
    const text = [
      '# rendered by helm',
      '---',
      '# Source: empty.yaml',
      '---',
      'apiVersion: v1',
      'kind: Service',
      'metadata: {name: a}',
      '---',
      '---',
      '  # indented comment only',
      '---',
      'apiVersion: v1',
      'kind: Service',
      'metadata:',
      '  name: b',
      '---',
      '',
    ].join('\n');
    const { objects, problems } = decodeManifests(text, 'application/yaml');
    expect(problems).toEqual([]);
    expect(objects.map((o) => [o.document, o.line, o.column, o.object])).toEqual([
      [0, 5, 1, service('a')],
      [1, 12, 1, service('b')],
    ]);
  });

  it('resolves anchors, aliases and << merge keys within a document', () => {
    const text = `apiVersion: v1
kind: Pod
metadata:
  name: p
  labels: &labels {app: web, tier: front}
  annotations:
    <<: *labels
    extra: "1"
spec:
  containers:
  - &c {name: a, image: nginx}
  - <<: *c
    name: b
`;
    const [pod] = decodeManifests(text).objects;
    expect(pod.object.metadata).toEqual({
      name: 'p',
      labels: { app: 'web', tier: 'front' },
      annotations: { app: 'web', tier: 'front', extra: '1' },
    });
    expect((pod.object.spec as { containers: unknown[] }).containers).toEqual([
      { name: 'a', image: 'nginx' },
      { name: 'b', image: 'nginx' },
    ]);
  });

  it('reads a JSON object', () => {
    const { objects, problems } = decodeManifests(JSON.stringify(service('a'), null, 2), 'application/json');
    expect(problems).toEqual([]);
    expect(objects.map((o) => [o.document, o.line, o.object])).toEqual([[0, 1, service('a')]]);
  });

  it('reads a JSON array, one document per element, detected from the body', () => {
    const text = `[\n  {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "a"}},\n  {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "b"}}\n]`;
    const { objects } = decodeManifests(text, 'text/plain');
    expect(objects.map((o) => [o.document, o.line, o.column, o.object])).toEqual([
      [0, 2, 3, service('a')],
      [1, 3, 3, service('b')],
    ]);
  });

  it('flattens kubectl -o json Lists, nested Lists included', () => {
    const list = {
      apiVersion: 'v1',
      kind: 'List',
      items: [service('a'), { apiVersion: 'v1', kind: 'List', items: [service('b'), service('c')] }, service('d')],
    };
    const { objects } = decodeManifests(JSON.stringify(list, null, 1));
    expect(objects.map((o) => [o.document, (o.object.metadata as { name: string }).name])).toEqual([
      [0, 'a'],
      [1, 'b'],
      [2, 'c'],
      [3, 'd'],
    ]);
  });

  it('reads a YAML List, and fills in the kind of typed list items (ServiceList)', () => {
    const text = `apiVersion: v1
kind: ServiceList
items:
- metadata: {name: a}
- metadata: {name: b}
`;
    const { objects } = decodeManifests(text);
    expect(objects.map((o) => [o.document, o.line, o.object])).toEqual([
      [0, 4, service('a')],
      [1, 5, service('b')],
    ]);
  });

  it('reads a YAML flow mapping that starts like JSON', () => {
    const { objects, problems } = decodeManifests('{apiVersion: v1, kind: Service, metadata: {name: a}}');
    expect(problems).toEqual([]);
    expect(objects[0].object).toEqual(service('a'));
  });

  it('locates paths: the key of the deepest existing member', () => {
    const text = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: r
spec:
  htpp:
  - route:
    - destination:
        host: r
      weight: "5"
`;
    const [vs] = decodeManifests(text).objects;
    expect(vs.locate(['spec', 'htpp'])).toEqual({ line: 6, column: 3 });
    expect(vs.locate(['spec', 'htpp', 0, 'route', 0, 'weight'])).toEqual({ line: 10, column: 7 });
    expect(vs.locate(['spec', 'hosts'])).toEqual({ line: 5, column: 1 });
  });
});
