// Envoy's path normalisation, checked on the cases of Envoy's own tests
// (test/common/http/path_utility_test.cc, conn_manager_utility_test.cc), then in the walk.
import { describe, expect, it } from 'vitest';
import { canonicalPath, mergeSlashes, normalizePath, unescapeSlashes } from '../../../src/envoy/path.js';
import { resolveRoute } from '../../../src/routing/resolve.js';
import { call, config, inlineHcm, route, socket, to } from '../../support/envoy-fixtures.js';

describe("normalize_path (RFC 3986, Chromium's path canonicaliser)", () => {
  it.each([
    ['/xyz', '/xyz'],
    ['/a/b/../c', '/a/c'],
    ['/a/b/./c', '/a/b/c'],
    ['a/b/../c', '/a/c'],
    ['/a/b/../../../../c', '/c'],
    ['/a/..\\c', '/c'],
    ['/%c0%af', '/%c0%af'],
    ['/%5c%25', '/%5c%25'],
    ['/a/b/%2E%2E/c', '/a/c'],
    ['/a/b/%2e%2e/c', '/a/c'],
    ['/a/b/%2E./c', '/a/c'],
    ['/a/b/%2E/c', '/a/b/c'],
    ['..', '/'],
    ['/../a/b', '/a/b'],
    ['/./a/b', '/a/b'],
    ['/A/B/C', '/A/B/C'],
    ['/a/%2F%2f/c', '/a/%2F%2f/c'],
    ['/xyz/..;foo=bar/abc', '/abc'],
    ['/..;foo=bar/abc', '/abc'],
    ['/xyz/..;foo=bar', '/'],
    ['/xyz/.;foo=bar/abc', '/xyz/abc'],
    ['/..;foo=bar/abc/.;mmm', '/abc/'],
    ['/xyz/..;foo=bar/.;fff=zzz?blah=woops', '/?blah=woops'],
    ['/xyz/..;foo=bar/.;fff=zzz/remain;blah-bluh?query', '/remain;blah-bluh?query'],
    // Unreserved characters are unescaped, the rest escaped; the query is left alone.
    ['/%41%7e%2d', '/A~-'],
    ['/a b/é', '/a%20b/%C3%A9'],
    ['/a/../b?x=/../y', '/b?x=/../y'],
  ])('%s → %s', (path, want) => {
    expect(canonicalPath(path)).toBe(want);
  });

  it.each(['/xyz/.%00../abc', '/xyz/%00.%00./abc', '/xyz/AAAAA%%0000/abc'])('refuses %s', (path) => {
    expect(canonicalPath(path)).toBeNull();
  });
});

describe('merge_slashes and escaped slashes', () => {
  it.each([
    ['', ''],
    ['a//b/c', 'a/b/c'],
    ['/a//b/c/', '/a/b/c/'],
    ['/a', '/a'],
    ['//a/b/c', '/a/b/c'],
    ['/a/b/c//', '/a/b/c/'],
    ['/a////b/c', '/a/b/c'],
    ['/a//b?a=///c', '/a/b?a=///c'],
    ['//a/?b', '/a/?b'],
  ])('merge_slashes: %s → %s', (path, want) => {
    expect(mergeSlashes(path)).toBe(want);
  });

  it.each([
    ['%2f%2F', '//'],
    ['/a%2Fb%2fc/', '/a/b/c/'],
    ['%2b', '%2b'],
    ['%%2fa/', '%/a/'],
    ['%5c%5C', '\\\\'],
    ['/x/%2E%2e/z%2f%2Fabc%5C../def', '/x/%2E%2e/z//abc\\../def'],
    ['%2fa%5Cb%2fc%5c?%2fabcd%5C%%2f%', '/a\\b/c\\?%2fabcd%5C%%2f%'],
  ])('unescape: %s → %s', (path, want) => {
    expect(unescapeSlashes(path)).toBe(want);
  });

  it("applies the steps in Envoy's order: fragment, escaped slashes, normalisation, merging", () => {
    const all = { normalizePath: true, mergeSlashes: true, pathWithEscapedSlashesAction: 'UNESCAPE_AND_FORWARD' };
    expect(normalizePath('/a%2F..//b#frag', all)).toMatchObject({ outcome: 'forward', path: '/b' });
    expect(normalizePath('/a%2Fb', { ...all, pathWithEscapedSlashesAction: 'UNESCAPE_AND_REDIRECT' })).toMatchObject({
      outcome: 'redirect',
      path: '/a/b',
    });
    expect(normalizePath('/a%2Fb', { ...all, pathWithEscapedSlashesAction: 'REJECT_REQUEST' }).outcome).toBe('reject');
    expect(normalizePath('/a%2Fb', { ...all, pathWithEscapedSlashesAction: 'KEEP_UNCHANGED' })).toMatchObject({
      outcome: 'forward',
      path: '/a%2Fb',
    });
    // Istio's mesh config pathNormalization NONE: the path reaches the routes as sent, fragment aside.
    expect(normalizePath('/a/../b//c#x', {})).toMatchObject({ outcome: 'forward', path: '/a/../b//c' });
  });
});

describe('the walk normalises the path as its connection manager is configured', () => {
  function walk(path: string, hcm: Record<string, unknown>, headers: { name: string; value: string }[] = []) {
    const filter = inlineHcm({
      name: 'inline',
      virtualHosts: [
        {
          name: 'vh',
          domains: ['*'],
          routes: [route('admin', { prefix: '/admin' }, to('admin')), route('public', { prefix: '/' }, to('public'))],
        },
      ],
    });
    const listener = {
      name: '0.0.0.0_80',
      address: socket('0.0.0.0', 80),
      filterChains: [{ name: 'http', filters: [{ ...filter, typedConfig: { ...filter.typedConfig, ...hcm } }] }],
    };
    return resolveRoute(config({ listeners: [listener] }), call({ port: 80, host: 'x', path, headers }));
  }

  it('routes the normalised path, and the trace says what changed', () => {
    const r = walk('/public/../admin/users', { normalizePath: true });
    expect(r).toMatchObject({ route: 'admin', error: null });
    expect(r.trace.find((t) => t.stage === 'path')?.detail).toContain('"/public/../admin/users" into "/admin/users"');
  });

  it('without normalize_path the dot segments reach the routes unchanged', () => {
    const r = walk('/public/../admin/users', {});
    expect(r).toMatchObject({ route: 'public', error: null });
    expect(r.trace.some((t) => t.stage === 'path')).toBe(false);
  });

  it('merge_slashes lets "//admin" reach the /admin route', () => {
    expect(walk('//admin', { normalizePath: true })).toMatchObject({ route: 'public' });
    expect(walk('//admin', { normalizePath: true, mergeSlashes: true })).toMatchObject({ route: 'admin' });
  });

  it('escaped slashes: kept, forwarded unescaped, redirected or refused', () => {
    expect(walk('/x%2F..%2Fadmin', { normalizePath: true, pathWithEscapedSlashesAction: 'KEEP_UNCHANGED' })).toMatchObject({
      route: 'public',
    });
    expect(walk('/x%2F..%2Fadmin', { normalizePath: true, pathWithEscapedSlashesAction: 'UNESCAPE_AND_FORWARD' })).toMatchObject({
      route: 'admin',
    });
    const redirected = walk('/x%2F..%2Fadmin', { normalizePath: true, pathWithEscapedSlashesAction: 'UNESCAPE_AND_REDIRECT' });
    expect(redirected).toMatchObject({ route: null, cluster: null, error: 'escaped slashes, sending 307' });
    expect(redirected.trace.at(-1)?.detail).toContain('Location "/admin"');
    expect(
      walk('/x%2Fy', { pathWithEscapedSlashesAction: 'UNESCAPE_AND_REDIRECT' }, [{ name: 'content-type', value: 'application/grpc' }])
        .error,
    ).toBe('invalid path, sending 400');
    expect(walk('/x%2Fy', { pathWithEscapedSlashesAction: 'REJECT_REQUEST' })).toMatchObject({
      virtualHost: null,
      error: 'invalid path, sending 400',
    });
  });

  it('a path normalisation refuses is a 400 before any virtual host', () => {
    expect(walk('/a/%00', { normalizePath: true })).toMatchObject({ virtualHost: null, route: null, error: 'invalid path, sending 400' });
  });
});
