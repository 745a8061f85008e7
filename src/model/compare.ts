/**
 * Strings in code-unit order: the same on every machine, whatever its locale (localeCompare is
 * not), so that stored lists, hashes over sorted names and the diff's markdown never depend on it.
 */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
