import { describe, expect, it } from 'vitest';
import { classListCodec, compactHash, expandHash, resourceListCodec } from '../../../src/database/snapshot-lists.js';
import { contentHash } from '../../../src/model/canonical.js';

describe('stored list entries', () => {
  it('content hashes travel as 43 base64 characters and come back as the same hex', () => {
    const hash = contentHash({ any: 'thing' });
    expect(compactHash(hash)).toHaveLength(43);
    expect(expandHash(compactHash(hash))).toBe(hash);
  });

  it('a resource and a class round-trip through their tuples', () => {
    const resource = {
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualService',
      namespace: 'shop',
      name: 'web',
      evaluated: true,
      bodyHash: contentHash(1),
    };
    expect(resourceListCodec.decode(resourceListCodec.encode(resource))).toEqual(resource);
    const cls = { classKey: 'k', configHash: contentHash(2), proxyInfoHash: contentHash(3), members: 4 };
    expect(classListCodec.decode(classListCodec.encode(cls))).toEqual(cls);
  });
});
