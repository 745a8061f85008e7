// Where each Envoy object sits in the generator's proxyConfig answer line, found without parsing
// it: the compute thread hashes each object's bytes and parses only objects it has not seen in
// the job (most recur in every class of a mesh). Pure functions, no I/O.
import type { ConfigKey } from '../model/proxy.js';

/** Byte ranges [start, end) in the line. */
export interface LineLayout {
  proxy: [number, number] | null;
  /** each list's whole array, `[…]` */
  lists: Partial<Record<ConfigKey, [number, number]>>;
  /** each list's elements */
  elements: Partial<Record<ConfigKey, [number, number][]>>;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const OPEN = new Set([0x7b, 0x5b]); // { [
const CLOSE = new Set([0x7d, 0x5d]); // } ]
const LISTS = new Set<string>(['listeners', 'routes', 'clusters', 'endpoints']);

/**
 * The layout of `{"id":…,"result":{"proxy":{…},"listeners":[{…},…],…}}` (valid JSON, as the
 * generator's encoder writes it, compact). Throws on a line that is not of that shape.
 */
export function scanGeneratedLine(line: Uint8Array): LineLayout {
  const layout: LineLayout = { proxy: null, lists: {}, elements: {} };
  const decoder = new TextDecoder();
  let depth = 0;
  let key: string | null = null; // the result's key whose value is being read
  let valueStart = -1;
  let elementStart = -1;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === QUOTE) {
      const end = stringEnd(line, i);
      // a key of the result object
      if (depth === 2 && line[end + 1] === COLON) key = decoder.decode(line.subarray(i + 1, end));
      i = end;
    } else if (OPEN.has(c)) {
      if (depth === 2 && key !== null) valueStart = i;
      if (depth === 3 && key !== null && LISTS.has(key)) elementStart = i;
      depth++;
    } else if (CLOSE.has(c)) {
      depth--;
      if (depth === 3 && key !== null && LISTS.has(key) && elementStart >= 0) {
        (layout.elements[key as ConfigKey] ??= []).push([elementStart, i + 1]);
        elementStart = -1;
      }
      if (depth === 2 && key !== null && valueStart >= 0) {
        if (key === 'proxy') layout.proxy = [valueStart, i + 1];
        else if (LISTS.has(key)) layout.lists[key as ConfigKey] = [valueStart, i + 1];
        valueStart = -1;
        key = null;
      }
    }
  }
  if (depth !== 0 || !layout.proxy) throw new Error('not a proxyConfig answer of the generator');
  return layout;
}

/** The index of the quote that closes the string opened at `start`. */
function stringEnd(line: Uint8Array, start: number): number {
  for (let i = line.indexOf(QUOTE, start + 1); i >= 0; i = line.indexOf(QUOTE, i + 1)) {
    let backslashes = 0;
    while (line[i - 1 - backslashes] === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return i;
  }
  throw new Error('an unterminated string in the generator answer');
}
