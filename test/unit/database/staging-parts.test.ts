// A compute job's objects staged in parts (ProxyConfigStore.saveComputation): every object in
// exactly one part, the others in order; each route configuration alone (its virtual hosts are
// indexed in one ascending pass per transaction); the others together, a few megabytes a part; and
// objectParts, which cuts them, for statements, transactions and messages alike.
import { describe, expect, it } from 'vitest';
import { objectParts, type PreparedObject } from '../../../src/database/envoy-tree.js';
import { stagingParts } from '../../../src/database/proxy-config.store.js';

const object = (i: number, type: string, bytes: number): PreparedObject => ({
  hash: i.toString(16).padStart(64, '0'),
  type,
  name: `${type}-${i}`,
  json: JSON.stringify({ pad: 'x'.repeat(bytes) }),
});

describe('stagingParts', () => {
  it('puts each route configuration alone and groups the others by size, every object once, in order', () => {
    const types = ['cluster', 'route', 'endpoint', 'listener', 'route', 'route', 'cluster'];
    const objects = Array.from({ length: 70 }, (_, i) => object(i, types[i % types.length], 300_000 + (i % 5) * 100_000));
    const parts = stagingParts(objects);
    const flat = parts.flat();
    expect(new Set(flat).size).toBe(objects.length);
    expect([...flat].sort((a, b) => objects.indexOf(a) - objects.indexOf(b))).toEqual(objects);
    // Within the other objects' parts, the job's order (hash order: concurrent jobs lock in one order).
    const othersInOrder = flat.filter((o) => o.type !== 'route');
    expect(othersInOrder).toEqual(objects.filter((o) => o.type !== 'route'));
    for (const part of parts) {
      if (part.some((o) => o.type === 'route')) expect(part).toHaveLength(1);
      else {
        const bytes = part.reduce((n, o) => n + o.json.length, 0);
        // Full parts stay at most 4 MiB (a single larger object would stand alone).
        expect(bytes).toBeLessThanOrEqual(4 * 1024 * 1024);
      }
    }
    const others = parts.filter((p) => p[0].type !== 'route');
    expect(others.length).toBeGreaterThan(1);
    expect(others.length).toBeLessThan(objects.filter((o) => o.type !== 'route').length);
  });

  it('gives no part for no objects', () => {
    expect(stagingParts([])).toEqual([]);
  });
});

describe('objectParts', () => {
  it('cuts in order, each part within both bounds, a larger object alone', () => {
    const sizes = [10, 10, 10, 10, 50, 10, 10, 10, 10, 10, 10];
    const objects = sizes.map((bytes, i) => object(i, 'cluster', bytes));
    const json = (o: PreparedObject) => o.json.length;
    const parts = objectParts(objects, { bytes: 3 * json(objects[0]), objects: 2 });
    expect(parts.flat()).toEqual(objects);
    for (const part of parts) {
      expect(part.length).toBeGreaterThan(0);
      expect(part.length).toBeLessThanOrEqual(2);
      if (part.length > 1) expect(part.reduce((n, o) => n + json(o), 0)).toBeLessThanOrEqual(3 * json(objects[0]));
    }
    expect(parts).toContainEqual([objects[4]]);
    expect(objectParts([], { bytes: 1, objects: 1 })).toEqual([]);
  });
});
