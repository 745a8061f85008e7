// Whether the OS user the embedded Postgres runs as (as root) can reach a folder: every folder on
// the way must let it through, as the kernel checks a path.
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { postgresBuild, reachableBy } from '../../../src/database/reachable-postgres.js';

const stranger = { uid: 4_000_001, gid: 4_000_001 };
const root = mkdtempSync(path.join(os.tmpdir(), 'meshlens-reach-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('reachableBy', () => {
  it('is false below a folder that lets others neither in nor through (a mode-700 home)', () => {
    const inside = path.join(root, 'private', 'checkout', '.meshlens');
    mkdirSync(inside, { recursive: true });
    chmodSync(root, 0o755);
    chmodSync(path.join(root, 'private'), 0o700);
    expect(reachableBy(stranger, inside)).toBe(false);
    chmodSync(path.join(root, 'private'), 0o711);
    expect(reachableBy(stranger, inside)).toBe(true);
  });

  it('checks the folders that exist of a path not created yet', () => {
    chmodSync(root, 0o700);
    expect(reachableBy(stranger, path.join(root, 'not', 'yet'))).toBe(false);
    chmodSync(root, 0o755);
    expect(reachableBy(stranger, path.join(root, 'not', 'yet'))).toBe(true);
  });
});

describe('postgresBuild', () => {
  it('names the binaries by their build, not by the checkout holding them', () => {
    const a = mkdtempSync(path.join(os.tmpdir(), 'meshlens-build-a-'));
    const b = mkdtempSync(path.join(os.tmpdir(), 'meshlens-build-b-'));
    try {
      writeFileSync(path.join(a, 'postgres'), 'build 1');
      writeFileSync(path.join(b, 'postgres'), 'build 1');
      expect(postgresBuild(a)).toBe(postgresBuild(b));
      writeFileSync(path.join(b, 'postgres'), 'build 2');
      expect(postgresBuild(a)).not.toBe(postgresBuild(b));
    } finally {
      rmSync(a, { recursive: true, force: true });
      rmSync(b, { recursive: true, force: true });
    }
  });
});
