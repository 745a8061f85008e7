// Route configurations' virtual hosts, content-addressed beside the whole objects (envoy_objects
// keeps every route configuration as the views read it): each route configuration's fields but its
// virtual hosts (`rest`), and the hashes of its virtual hosts in order (`hosts`), each virtual host
// stored once in envoy_virtual_hosts. A diff of two route configurations of a big mesh, a megabyte
// each and differing in a few hosts, then compares two strings of hashes and reads only the
// virtual hosts whose hashes differ, never the megabyte bodies (ProxyConfigStore.trimmedRoutePairs).
//
// Postgres derives the rows from the stored objects (hash: sha256 of a virtual host's jsonb text,
// Postgres's own normal form), so the compute job, the migration of older snapshots and a read
// that finds a route configuration not yet indexed build the very same rows.
import { HASH_BYTES } from './chunked-list.js';

interface Queryable {
  query(sql: string, parameters?: unknown[]): Promise<unknown>;
}

/**
 * Indexes the route configurations among these envoy_objects (all stored ones with `null`) that
 * have no envoy_route_hosts row yet. Every route configuration gets a row: one whose virtualHosts
 * is no array of objects with distinct string names is marked not `keyed` (never trimmed).
 * Callers hold the lock against collection (writeTransaction), or run alone (a migration).
 */
export async function indexRouteHosts(q: Queryable, routeHashes: readonly Buffer[] | null): Promise<void> {
  const routes =
    routeHashes ??
    (
      (await q.query(
        `SELECT o.hash FROM envoy_objects o WHERE o.type = 'route' AND NOT EXISTS (SELECT 1 FROM envoy_route_hosts x WHERE x.route = o.hash)`,
      )) as { hash: Buffer }[]
    ).map((r) => r.hash);
  // A statement per route configuration: its virtual hosts (a megabyte on a big mesh) stay in
  // Postgres's working memory; all of them at once spilled to disk, at twice the time.
  for (const route of routes) await q.query(INDEX_ONE, [route]);
}

// A route configuration's virtual hosts are inserted in hash order, in one pass: two transactions
// indexing one route configuration each never wait on each other in a cycle (stagingParts).
const INDEX_ONE = `
  WITH r AS (
    SELECT o.hash, o.body - 'virtualHosts' AS rest,
           CASE WHEN jsonb_typeof(o.body->'virtualHosts') = 'array' THEN o.body->'virtualHosts' END AS hosts,
           jsonb_typeof(o.body->'virtualHosts') = 'array' AS listed
    FROM envoy_objects o
    WHERE o.hash = $1 AND o.type = 'route' AND NOT EXISTS (SELECT 1 FROM envoy_route_hosts x WHERE x.route = o.hash)
  ), e AS (
    SELECT x.ord, x.v, sha256(convert_to(x.v::text, 'UTF8')) AS vhash
    FROM r CROSS JOIN LATERAL jsonb_array_elements(r.hosts) WITH ORDINALITY AS x(v, ord)
  ), stored AS (
    INSERT INTO envoy_virtual_hosts (hash, body) SELECT DISTINCT ON (e.vhash) e.vhash, e.v FROM e ORDER BY e.vhash ON CONFLICT (hash) DO NOTHING
  ), g AS (
    SELECT string_agg(e.vhash, ''::bytea ORDER BY e.ord) AS hosts,
           coalesce(array_agg(e.ord::int ORDER BY e.ord) FILTER (WHERE e.v->'domains' @> '"*"'), '{}') AS wildcards,
           count(DISTINCT e.v->>'name') FILTER (WHERE jsonb_typeof(e.v->'name') = 'string') = count(*) AS keyed
    FROM e
  )
  INSERT INTO envoy_route_hosts (route, rest, hosts, wildcards, keyed)
  SELECT r.hash, r.rest, coalesce(g.hosts, ''::bytea), coalesce(g.wildcards, '{}'), r.listed AND coalesce(g.keyed, true)
  FROM r, g
  ON CONFLICT (route) DO NOTHING`;

/** Postgres: the 32-byte hash at 1-based position `i` of a packed `hosts` column. */
export function hostAt(column: string, i: string): string {
  return `substring(${column} FROM (${i} - 1) * ${HASH_BYTES} + 1 FOR ${HASH_BYTES})`;
}

/** Postgres: how many hashes a packed `hosts` column holds. */
export function hostCount(column: string): string {
  return `(length(${column}) / ${HASH_BYTES})`;
}
