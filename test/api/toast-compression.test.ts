// Large JSON values compress with lz4 where the server has it (migrations/…-Lz4Toast.ts), and the
// migration passes on a server without it (the embedded one), whose columns keep the default.
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { expect, it } from 'vitest';
import { LZ4_COLUMNS } from '../../migrations/1796401516181-Lz4Toast.js';
import { useTestApp } from '../support/test-app.js';

const t = useTestApp();

it('compresses the large JSON columns with lz4 when the server has it, else keeps the default', async () => {
  const dataSource: DataSource = t.app.get(getDataSourceToken());
  // A server lists lz4 among default_toast_compression's values only when built with it.
  // Before Postgres 14 there is no column compression to set (nor default_toast_compression).
  const [{ version }] = await dataSource.query(`SELECT current_setting('server_version_num')::int AS version`);
  if (version < 140000) return;
  const [{ lz4 }] = await dataSource.query(`SELECT 'lz4' = ANY(enumvals) AS lz4 FROM pg_settings WHERE name = 'default_toast_compression'`);
  for (const [table, column] of LZ4_COLUMNS) {
    const [{ method }] = await dataSource.query(
      `SELECT attcompression::text AS method FROM pg_attribute WHERE attrelid = $1::regclass AND attname = $2`,
      [table, column],
    );
    expect({ table, column, method }).toEqual({ table, column, method: lz4 ? 'l' : '' });
  }
  if (!lz4) return;
  // A value too large to keep inline is stored compressed with lz4.
  const big = JSON.stringify({ virtualHosts: Array.from({ length: 2000 }, (_, i) => ({ name: `h${i}`, domains: [`h${i}.example`] })) });
  await dataSource.query(`INSERT INTO resource_bodies (hash, body) VALUES (sha256('toast-compression-test'), $1::jsonb)`, [big]);
  const [{ compression }] = await dataSource.query(
    `SELECT pg_column_compression(body) AS compression FROM resource_bodies WHERE hash = sha256('toast-compression-test')`,
  );
  await dataSource.query(`DELETE FROM resource_bodies WHERE hash = sha256('toast-compression-test')`);
  expect(compression).toBe('lz4');
});
