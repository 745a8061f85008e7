// JSON texts passed to Postgres as one text parameter, a line each.

/**
 * The JSON texts (each written by JSON.stringify, which leaves no raw line feed in one) as one
 * statement parameter for `string_to_array($n, E'\n')`, each element then cast to jsonb:
 * Postgres parses each text once, as COPY does. A jsonb array parameter is parsed whole and then
 * taken apart again (a third more of the backend's CPU for an upload's bodies); a text[] literal
 * escapes every quote, in the driver and again in Postgres.
 */
export function jsonLines(jsons: readonly string[]): string {
  return jsons.join('\n');
}
