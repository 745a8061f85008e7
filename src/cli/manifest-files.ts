// The manifest files of a folder, as `meshlens push` and `meshlens diff` read them.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { compareStrings } from '../model/compare.js';

const MANIFEST = /\.(ya?ml|json)$/i;

/** A file name meshlens reads as manifests: .yaml, .yml or .json, in any case. */
export function isManifestFile(name: string): boolean {
  return MANIFEST.test(name);
}

/**
 * The manifest files under a folder, recursively, each folder's entries in code-unit order of their
 * names (the same order on every machine). `skipHidden`: leave out files and folders whose name
 * starts with a dot (`.git`, `.github`).
 */
export function manifestFilesUnder(dir: string, options: { skipHidden?: boolean } = {}): string[] {
  const out: string[] = [];
  const walk = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true }).sort((a, b) => compareStrings(a.name, b.name))) {
      if (options.skipHidden && entry.name.startsWith('.')) continue;
      const path = join(folder, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile() && isManifestFile(entry.name)) out.push(path);
    }
  };
  walk(dir);
  return out;
}
