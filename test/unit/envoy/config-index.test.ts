// The walk's indexes answer what the scans they replace answered: the first object of a key, and
// Envoy's domain search order (exact, longest *.suffix, longest prefix*, then *), built once per list.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { domainIndex, firstAssignment, firstBound, firstNamed } from '../../../src/envoy/config-index.js';
import type { VirtualHost } from '../../../src/envoy/xds.js';

describe('config indexes', () => {
  it('finds the first object of a name, as a scan does, for any list', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ name: fc.constantFrom('a', 'b', 'c'), n: fc.nat() })),
        fc.constantFrom('a', 'b', 'c', 'd'),
        (list, name) => {
          expect(firstNamed(list, name)).toBe(list.find((o) => o.name === name));
        },
      ),
    );
  });

  it('finds the first load assignment of a cluster', () => {
    const list = [{ clusterName: 'x', n: 1 }, { clusterName: 'y' }, { clusterName: 'x', n: 2 }];
    expect(firstAssignment(list, 'x')).toBe(list[0]);
    expect(firstAssignment(list, 'z')).toBeUndefined();
  });

  it('finds the first listener bound to an address and port', () => {
    type Bound = { name: string; address?: { socketAddress?: { address?: string; portValue?: number } } };
    const at = (address: string, portValue?: number, name = ''): Bound => ({ name, address: { socketAddress: { address, portValue } } });
    const listeners: Bound[] = [
      at('0.0.0.0', 80, 'first'),
      at('10.0.0.1', 80),
      at('0.0.0.0', 80, 'second'),
      at('0.0.0.0'),
      { name: 'no address' },
    ];
    expect(firstBound(listeners, '0.0.0.0', 80)?.name).toBe('first');
    expect(firstBound(listeners, '10.0.0.1', 80)).toBe(listeners[1]);
    expect(firstBound(listeners, '0.0.0.0', 0)).toBe(listeners[3]);
    expect(firstBound(listeners, '0.0.0.0', 8080)).toBeUndefined();
  });

  it('indexes virtual hosts by domain in the order Envoy searches them', () => {
    const hosts: VirtualHost[] = [
      { name: 'one', domains: ['Reviews', '*.example.com'] },
      { name: 'two', domains: ['reviews', 'api*', '*'] },
      { name: 'three', domains: ['*'] },
    ];
    const index = domainIndex(hosts);
    expect(index.exact.get('reviews')?.name).toBe('one');
    expect(index.suffix.map((s) => s.domain)).toEqual(['*.example.com']);
    expect(index.prefix.map((s) => s.domain)).toEqual(['api*']);
    expect(index.any?.name).toBe('two');
    // Built once per list: the same object on the next question.
    expect(domainIndex(hosts)).toBe(index);
  });
});
