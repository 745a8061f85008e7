// Where each Envoy object sits in the generator's hashedProxyConfig answer line, found without
// parsing it: an object comes with its hash, and with its JSON only the first time the job is sent
// it; the compute job parses each object once (most recur in every class of a mesh).
import type { ConfigKey } from '../model/proxy.js';

/** Byte ranges [start, end) in the line. */
export interface LineLayout {
  proxy: [number, number] | null;
  /** each list's elements */
  elements: Partial<Record<ConfigKey, HashedElement[]>>;
}

/** An element of a hashedProxyConfig list: the object's hash, and its JSON's range when the element carries it. */
export interface HashedElement {
  hash: string;
  object: [number, number] | null;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const LISTS = new Set<string>(['listeners', 'routes', 'clusters', 'endpoints']);
const HASH_HEAD = Array.from('{"hash":"', (c) => c.charCodeAt(0));
const OBJECT_KEY = Array.from(',"object":', (c) => c.charCodeAt(0));
const HASH_LENGTH = 64;

/**
 * The layout of `{"id":…,"result":{"proxy":{…},"listeners":[{…},…],…}}` (valid JSON, as the
 * generator's encoder writes it, compact), each list element `{"hash":"<64 hex>"}` or
 * `{"hash":"<64 hex>","object":{…}}` (the generator's protocol.HashedObject, fields in that order).
 * One pass: an element naming its object by hash only (most, after a job's first classes) is
 * read where it starts, without walking its bytes. Throws on a line that is not of that shape.
 */
export function scanGeneratedLine(line: Uint8Array): LineLayout {
  const layout: LineLayout = { proxy: null, elements: {} };
  const bytes = Buffer.from(line.buffer, line.byteOffset, line.byteLength);
  let depth = 0;
  let key: string | null = null; // the result's key whose value is being read
  let list: HashedElement[] | null = null; // that value's elements, when it is one of the lists
  let valueStart = -1;
  let element: { hash: string; object: number } | null = null; // an element whose object is being walked
  for (let i = 0; i < bytes.length; i++) {
    const c = bytes[i];
    if (c === QUOTE) {
      const end = stringEnd(bytes, i);
      // a key of the result object
      if (depth === 2 && bytes[end + 1] === COLON) key = bytes.toString('utf8', i + 1, end);
      i = end;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (depth === 2 && key !== null) {
        valueStart = i;
        list = LISTS.has(key) ? (layout.elements[key as ConfigKey] ??= []) : null;
      } else if (depth === 3 && list) {
        const hashEnd = i + HASH_HEAD.length + HASH_LENGTH;
        if (!startsAt(bytes, HASH_HEAD, i) || bytes[hashEnd] !== QUOTE)
          throw new Error('not a hashedProxyConfig answer of the generator: an element without its hash');
        const hash = bytes.toString('latin1', i + HASH_HEAD.length, hashEnd);
        if (bytes[hashEnd + 1] === CLOSE_BRACE) {
          list.push({ hash, object: null });
          i = hashEnd + 1;
          continue;
        }
        if (!startsAt(bytes, OBJECT_KEY, hashEnd + 1))
          throw new Error('not a hashedProxyConfig answer of the generator: an element of another shape');
        element = { hash, object: hashEnd + 1 + OBJECT_KEY.length };
        i = element.object - 1;
      }
      depth++;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
      if (depth === 3 && element) {
        list!.push({ hash: element.hash, object: [element.object, i] });
        element = null;
      } else if (depth === 2 && key !== null && valueStart >= 0) {
        if (key === 'proxy') layout.proxy = [valueStart, i + 1];
        valueStart = -1;
        key = null;
        list = null;
      }
    }
  }
  if (depth !== 0 || !layout.proxy) throw new Error('not a proxyConfig answer of the generator');
  return layout;
}

/** An answer naming an object the job was never sent: answers read out of the order they were written. */
export function unsentObject(hash: string): Error {
  return new Error(`the generator named object ${hash.slice(0, 12)}… before sending it (its answers were read out of order)`);
}

function startsAt(line: Uint8Array, bytes: number[], offset: number): boolean {
  for (let i = 0; i < bytes.length; i++) if (line[offset + i] !== bytes[i]) return false;
  return true;
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
