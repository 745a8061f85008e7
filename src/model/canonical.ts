import { createHash } from 'node:crypto';

/**
 * JSON with object keys sorted recursively and no whitespace, so that equal content always
 * serialises to equal bytes (content-addressed storage, diffs). Follows JSON.stringify for
 * everything else: undefined members are dropped, non-finite numbers become null.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    return JSON.stringify(value) ?? 'null';
  }
  if (Array.isArray(value)) {
    return `[${value.map((item) => (item === undefined ? 'null' : canonicalJson(item))).join(',')}]`;
  }
  const record = value as Record<string, unknown>;
  const members = Object.keys(record)
    .filter((key) => record[key] !== undefined)
    .sort()
    .map((key) => `${JSON.stringify(key)}:${canonicalJson(record[key])}`);
  return `{${members.join(',')}}`;
}

/** sha256 hex of the canonical JSON: the storage key of a value. */
export function contentHash(value: unknown): string {
  return jsonHash(canonicalJson(value));
}

/** contentHash of a value whose canonical JSON is already at hand. */
export function jsonHash(json: string): string {
  return createHash('sha256').update(json).digest('hex');
}
