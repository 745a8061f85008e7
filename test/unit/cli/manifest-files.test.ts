// The one manifest folder walker of `meshlens push` and `meshlens diff`.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { manifestFilesUnder } from '../../../src/cli/manifest-files.js';

const root = mkdtempSync(join(tmpdir(), 'meshlens-manifests-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
for (const file of ['b.yaml', 'a/Z.YML', 'a/c.json', 'a/notes.txt', 'B.yml', '.github/workflow.yml', 'a/.hidden.yaml']) {
  mkdirSync(join(root, file, '..'), { recursive: true });
  writeFileSync(join(root, file), 'x: 1\n');
}

describe('manifestFilesUnder', () => {
  it('every .yaml, .yml and .json file, recursively, in code-unit order of names', () => {
    expect(manifestFilesUnder(root).map((f) => relative(root, f))).toEqual([
      '.github/workflow.yml',
      'B.yml',
      'a/.hidden.yaml',
      'a/Z.YML',
      'a/c.json',
      'b.yaml',
    ]);
  });

  it('skipHidden leaves out files and folders whose name starts with a dot', () => {
    expect(manifestFilesUnder(root, { skipHidden: true }).map((f) => relative(root, f))).toEqual([
      'B.yml',
      'a/Z.YML',
      'a/c.json',
      'b.yaml',
    ]);
  });
});
