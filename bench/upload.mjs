// Upload to 201 against COPY, repeated (issue 13 item 5): `BENCH_ONLY=upload npm run bench`.
// BENCH_UPLOADS (3) rounds, each on a new scratch database and a server without a worker (nothing
// computes meanwhile): the bench upload to a server just started (its ingest threads' code not yet
// compiled, as in the ingest part of bench.mjs), a plain COPY of the same bodies into a bare
// jsonb table, then the same upload again once the tables it wrote are emptied (the threads
// warm, as on a server that has taken uploads). Each round's figures with the load average,
// then the medians. Needs `npm run build`.
import fs from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import copyStreams from 'pg-copy-streams';
import { withBenchApp } from './bench-app.mjs';

const ms = (start) => Number(process.hrtime.bigint() - start) / 1e6;
const load = () => fs.readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)];

/** `yaml`: the bench upload; `bodies`: its objects' canonical JSON, what COPY writes. */
export async function benchUploads(yaml, bodies, rounds = Number(process.env.BENCH_UPLOADS ?? 3)) {
  const results = [];
  for (let round = 0; round < rounds; round++) {
    const loadBefore = load();
    const result = await withBenchApp(
      async ({ base, client }) => {
        const upload = async (name) => {
          const start = process.hrtime.bigint();
          const res = await fetch(`${base}/api/v1/snapshots?name=${name}`, {
            method: 'POST',
            headers: { 'content-type': 'application/yaml' },
            body: yaml,
          });
          const took = ms(start);
          if (res.status !== 201) throw new Error(`upload: HTTP ${res.status} ${(await res.text()).slice(0, 300)}`);
          await res.json();
          return took;
        };
        const cold = await upload('cold');
        await client.query('CREATE TABLE bench_copy_floor (body jsonb NOT NULL)');
        const escape = (s) => s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t');
        const start = process.hrtime.bigint();
        await pipeline(
          Readable.from(bodies.map((b) => escape(b) + '\n')),
          client.query(copyStreams.from('COPY bench_copy_floor (body) FROM STDIN')),
        );
        const copy = ms(start);
        await client.query('TRUNCATE snapshots, resource_bodies, list_nodes CASCADE');
        const warm = await upload('warm');
        return { cold, copy, warm };
      },
      { worker: false },
    );
    results.push(result);
    console.log(
      `  round ${round + 1} (load ${loadBefore}-${load()}): upload to 201 ${result.cold.toFixed(0)} ms, warm ${result.warm.toFixed(0)} ms; COPY ${result.copy.toFixed(0)} ms: ${(result.cold / result.copy).toFixed(1)}x, warm ${(result.warm / result.copy).toFixed(1)}x`,
    );
  }
  const figures = Object.fromEntries(['cold', 'copy', 'warm'].map((key) => [key, median(results.map((r) => r[key]))]));
  console.log(
    `  medians of ${rounds}: upload to 201 ${figures.cold.toFixed(0)} ms, warm ${figures.warm.toFixed(0)} ms; COPY ${figures.copy.toFixed(0)} ms: ${(figures.cold / figures.copy).toFixed(1)}x, warm ${(figures.warm / figures.copy).toFixed(1)}x (goal <= 3x)`,
  );
  return figures;
}
