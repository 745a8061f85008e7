// Where each Envoy object sits in the generator's hashedProxyConfig answer line, found without
// parsing it: an object comes with its hash, and with its JSON only the first time the job is sent
// it; the compute job parses each object once (most recur in every class of a mesh).
import type { ConfigKey } from '../model/proxy.js';

/** Byte ranges [start, end) in the line. */
export interface LineLayout {
  proxy: [number, number] | null;
  /** each list's elements */
  elements: Partial<Record<ConfigKey, [number, number][]>>;
}

/** An element of a hashedProxyConfig list: the object's hash, and its JSON's range when the element carries it. */
export interface HashedElement {
  hash: string;
  object: [number, number] | null;
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
  const layout: LineLayout = { proxy: null, elements: {} };
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
        valueStart = -1;
        key = null;
      }
    }
  }
  if (depth !== 0 || !layout.proxy) throw new Error('not a proxyConfig answer of the generator');
  return layout;
}

const HASH_HEAD = Array.from('{"hash":"', (c) => c.charCodeAt(0));
const OBJECT_KEY = Array.from(',"object":', (c) => c.charCodeAt(0));
const HASH_LENGTH = 64;

/**
 * The hash and object of an element, `{"hash":"<64 hex>"}` or `{"hash":"<64 hex>","object":{…}}`
 * (the generator's protocol.HashedObject, fields in that order). Throws on another shape.
 */
export function hashedElement(line: Uint8Array, [start, end]: [number, number]): HashedElement {
  const at = (bytes: number[], offset: number) => bytes.every((b, i) => line[offset + i] === b);
  const hashEnd = start + HASH_HEAD.length + HASH_LENGTH;
  if (!at(HASH_HEAD, start) || line[hashEnd] !== QUOTE || line[end - 1] !== 0x7d)
    throw new Error('not a hashedProxyConfig answer of the generator: an element without its hash');
  const hash = String.fromCharCode(...line.subarray(start + HASH_HEAD.length, hashEnd));
  if (hashEnd + 2 === end) return { hash, object: null };
  if (!at(OBJECT_KEY, hashEnd + 1)) throw new Error('not a hashedProxyConfig answer of the generator: an element of another shape');
  return { hash, object: [hashEnd + 1 + OBJECT_KEY.length, end - 1] };
}

/** An answer naming an object the job was never sent: answers read out of the order they were written. */
export function unsentObject(hash: string): Error {
  return new Error(`the generator named object ${hash.slice(0, 12)}… before sending it (its answers were read out of order)`);
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
