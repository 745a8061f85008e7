// The access and mesh vocabulary: names, durations, which meshes a token reaches; when access
// control is on by default.
import { describe, expect, it } from 'vitest';
import { ConfigError, isLoopbackHost, loadConfig } from '../../src/config/config.js';
import {
  latestRefMesh,
  listingMeshes,
  meshAllowed,
  meshNameProblem,
  parseDuration,
  scratchMeshOf,
  visibleMeshes,
} from '../../src/model/access.js';
import { newToken, tokenHash } from '../../src/model/tokens.js';

describe('meshes', () => {
  it('names are DNS labels, optionally .scratch', () => {
    for (const ok of ['default', 'prod', 'eu-west-1', 'a', 'prod.scratch']) expect(meshNameProblem(ok)).toBeNull();
    for (const bad of ['', 'Prod', '-x', 'x-', 'a.b', 'a@latest', 'x'.repeat(64), 'prod.scratch.scratch', '.scratch'])
      expect(meshNameProblem(bad)).toMatch(/DNS label/);
  });

  it('MESH@latest names a mesh; anything else is not a reference', () => {
    expect(latestRefMesh('prod@latest')).toBe('prod');
    expect(latestRefMesh('3f0c0000-0000-0000-0000-000000000000')).toBeNull();
    expect(latestRefMesh('prod@newest')).toBeNull();
  });

  it('a token limited to a mesh reaches it and its scratch mesh only', () => {
    const token = { id: 't', scopes: ['read'], meshes: ['prod'] };
    expect(meshAllowed(token, 'prod')).toBe(true);
    expect(meshAllowed(token, scratchMeshOf('prod'))).toBe(true);
    expect(meshAllowed(token, 'dev')).toBe(false);
    expect(meshAllowed(token, 'dev.scratch')).toBe(false);
    expect(meshAllowed({ ...token, meshes: null }, 'dev')).toBe(true);
    expect(meshAllowed(undefined, 'dev')).toBe(true);
    expect(visibleMeshes(token)).toEqual(['prod', 'prod.scratch']);
    expect(listingMeshes(token, 'prod')).toEqual(['prod']);
    expect(listingMeshes(undefined, null)).toBeNull();
  });
});

describe('durations', () => {
  it('seconds from 90d, 12h, 30m, 3600s, 2w or a bare number', () => {
    expect([
      parseDuration('90d'),
      parseDuration('12h'),
      parseDuration('30m'),
      parseDuration('3600s'),
      parseDuration('2w'),
      parseDuration('5'),
    ]).toEqual([7776000, 43200, 1800, 3600, 1209600, 5]);
    for (const bad of ['', '0d', 'soon', '1.5d', '-1d', '3 fortnights']) expect(parseDuration(bad)).toBeNull();
  });
});

describe('tokens', () => {
  it('256 random bits, stored as a SHA-256', () => {
    const a = newToken();
    expect(a).toMatch(/^mlt_[\w-]{43}$/);
    expect(newToken()).not.toBe(a);
    expect(tokenHash(a)).toHaveLength(32);
    expect(tokenHash(a).equals(tokenHash(a))).toBe(true);
  });
});

describe('access control by default', () => {
  it('off on loopback (HOST default 127.0.0.1), tokens beyond; MESHLENS_AUTH overrides', () => {
    expect(loadConfig({}).host).toBe('127.0.0.1');
    expect(loadConfig({}).auth).toBe('off');
    expect(loadConfig({ HOST: '::1' }).auth).toBe('off');
    expect(loadConfig({ HOST: 'localhost' }).auth).toBe('off');
    expect(loadConfig({ HOST: '0.0.0.0' }).auth).toBe('tokens');
    expect(loadConfig({ HOST: '10.0.0.5' }).auth).toBe('tokens');
    expect(loadConfig({ HOST: '0.0.0.0', MESHLENS_AUTH: 'off' }).auth).toBe('off');
    expect(loadConfig({ MESHLENS_AUTH: 'tokens' }).auth).toBe('tokens');
    expect(() => loadConfig({ MESHLENS_AUTH: 'maybe' })).toThrow(ConfigError);
    expect(isLoopbackHost('127.0.0.2')).toBe(true);
    expect(isLoopbackHost('[::1]')).toBe(true);
  });

  it('retention defaults from MESHLENS_RETAIN_*', () => {
    expect(loadConfig({}).retention).toEqual({ keepLast: null, keepSeconds: null, scratchSeconds: 3600, intervalMinutes: 10 });
    expect(loadConfig({ MESHLENS_RETAIN_LAST: '20', MESHLENS_RETAIN_DAYS: '30' }).retention).toMatchObject({
      keepLast: 20,
      keepSeconds: 2592000,
    });
    expect(() => loadConfig({ MESHLENS_RETAIN_LAST: '0' })).toThrow(ConfigError);
  });
});
