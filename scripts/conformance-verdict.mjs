#!/usr/bin/env node
// Reads the conformance runner's --json results and conformance/disputed.yaml; prints the verdict and
// a closing "N passed, N failed" line. A result fails unless it passed, or it is disputed and fails
// exactly with the disputed problem. A disputed result that passes, or fails otherwise, fails too.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';

const [resultsFile] = process.argv.slice(2);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const disputed = YAML.parse(readFileSync(join(root, 'conformance', 'disputed.yaml'), 'utf8')) ?? [];
const { results } = JSON.parse(readFileSync(resultsFile, 'utf8'));

const basename = (p) => p.split('/').pop();
const key = (file, kase, call) => `${basename(file)} ${kase} call#${call}`;
const disputes = new Map(disputed.map((d) => [key(d.file, d.case, d.call), d]));
const seen = new Set();
let passed = 0;
let failed = 0;
for (const r of results) {
  const call = /^call#(\d+)/.exec(r.what)?.[1];
  const k = call === undefined ? null : key(r.file, r.case, call);
  const d = k ? disputes.get(k) : undefined;
  if (!d) {
    if (r.ok) passed++;
    else failed++;
    continue;
  }
  seen.add(k);
  const problems = r.problems.join('; ');
  if (!r.ok && problems.includes(d.problem)) {
    console.log(`DISPUTED ${k}: ${problems} (conformance/disputed.yaml)`);
  } else {
    failed++;
    console.log(
      `FAIL ${k}: disputed as "${d.problem}" but ${r.ok ? 'it passes now: remove it from conformance/disputed.yaml' : `it fails otherwise: ${problems}`}`,
    );
  }
}
for (const k of disputes.keys()) {
  if (!seen.has(k)) {
    failed++;
    console.log(`FAIL ${k}: disputed in conformance/disputed.yaml but not in the corpus any more`);
  }
}
console.log(`conformance: ${seen.size} disputed (see conformance/disputed.yaml)`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 ? 0 : 1);
