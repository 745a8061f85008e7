// The floor of a snapshot's compute (issue 13, item 1): Istio's own LDS, RDS, CDS and EDS
// generators, as istiod's push runs them, for one proxy of each class the worker computes, without
// meshlens's JSON marshalling or storage: generator/internal/session/floor_test.go (BenchmarkFloor),
// fed the bench mesh as the worker loads it and the worker's class representatives. Beside it, its
// sub-benchmark `compute`: the generator's own least work for a compute job (the same generation
// and the job's JSON answers, class after class in one goroutine), what the 2x goal competes with.
// BENCH_FLOOR_CLASSES (passed on as MESHLENS_FLOOR_CLASSES) times only the first N classes; the
// floor is then their time per class times the mesh's classes. BENCH_FLOOR_BENCHTIME (1x).
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Generator } from './generator.mjs';
import { admit } from './admit.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ms = (start) => Number(process.hrtime.bigint() - start) / 1e6;

/** The snapshot as the worker loads it, and the first member of each of its proxy classes, written to `file`. */
export async function writeFloorInput(yaml, file) {
  const { ingest } = await import('../dist/src/ingest/ingest.js');
  const { normaliseSnapshot } = await import('../dist/src/ingest/normalise.js');
  const { loadParams } = await import('../dist/src/generator/protocol.js');
  const { groupIntoClasses } = await import('../dist/src/jobs/proxy-classes.js');
  const parsed = await ingest(yaml, 'application/yaml', admit);
  if (!parsed.ok) throw new Error(`bench snapshot invalid: ${JSON.stringify(parsed.problems.slice(0, 3))}`);
  // The bench mesh has no Gateway API Gateways: normaliseWithIstiod would deploy nothing.
  const normalised = normaliseSnapshot(parsed.resources);
  const params = loadParams(normalised);
  const gen = new Generator(process.env.MESHLENS_GENERATOR_BIN || path.join(root, 'generator', 'bin', 'generator'));
  try {
    await gen.ask('load', params);
    const proxies = await gen.ask('proxies', {});
    const pods = new Map();
    for (const o of params.kubernetes) if (o.kind === 'Pod') pods.set(`${o.metadata.namespace}/${o.metadata.name}`, o);
    const classes = groupIntoClasses(proxies, pods);
    const reps = classes.map((c) => ({ namespace: c.workloads[0].namespace, name: c.workloads[0].name }));
    writeFileSync(file, JSON.stringify({ load: params, proxies: reps }));
    return { classes: classes.length, proxies: classes.reduce((n, c) => n + c.workloads.length, 0) };
  } finally {
    gen.close();
  }
}

/**
 * Runs BenchmarkFloor on the file (go test, compiled from generator/ with the Go build cache) and
 * returns its results: ms per op (every class once) for all four types and each alone.
 */
export function runFloor(file, { benchtime = process.env.BENCH_FLOOR_BENCHTIME ?? '1x' } = {}) {
  const t = process.hrtime.bigint();
  const run = spawnSync('go', ['test', '-run', '^$', '-bench', '^BenchmarkFloor$', '-benchtime', benchtime, './internal/session/'], {
    cwd: path.join(root, 'generator'),
    encoding: 'utf8',
    env: {
      ...process.env,
      MESHLENS_FLOOR_INPUT: file,
      ...(process.env.BENCH_FLOOR_CLASSES ? { MESHLENS_FLOOR_CLASSES: process.env.BENCH_FLOOR_CLASSES } : {}),
    },
    maxBuffer: 16 * 1024 * 1024,
    timeout: Number(process.env.BENCH_FLOOR_TIMEOUT_SECONDS ?? 1800) * 1000,
  });
  if (run.status !== 0)
    throw new Error(`BenchmarkFloor failed (${run.status ?? run.signal}): ${(run.stdout + run.stderr).split('\n').slice(-8).join('\n')}`);
  const results = {};
  for (const line of run.stdout.split('\n')) {
    const m = /^BenchmarkFloor\/(\w+)(?:-\d+)?\s+(\d+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const metrics = {};
    for (const [, value, unit] of m[3].matchAll(/([\d.e+]+) (\S+)/g)) metrics[unit] = Number(value);
    results[m[1]] = {
      ms: metrics['ns/op'] / 1e6,
      classes: metrics.classes,
      msPerClass: metrics['ms/class'],
      resources: metrics['resources/op'],
    };
  }
  if (!results.all) throw new Error(`BenchmarkFloor printed no result:\n${run.stdout.slice(-2000)}`);
  return { results, wallMs: ms(t) };
}

/** Both: the input written to the OS temp folder, then the benchmark. */
export async function benchFloor(yaml, { log = console.log } = {}) {
  const file = path.join(os.tmpdir(), `meshlens-floor-${process.pid}.json`);
  const written = await writeFloorInput(yaml, file);
  log(`  floor input: ${written.proxies} proxies in ${written.classes} classes (${file})`);
  const run = runFloor(file);
  // MESHLENS_FLOOR_CLASSES times fewer classes than the mesh has: the whole floor is per class x classes.
  const totalMs = run.results.all.msPerClass * written.classes;
  const computeMs = run.results.compute ? run.results.compute.msPerClass * written.classes : undefined;
  return { ...written, ...run, totalMs, computeMs };
}
