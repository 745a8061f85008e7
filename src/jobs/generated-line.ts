// Where each Envoy object sits in the generator's hashedProxyConfig answer line, found without
// parsing it: an object comes as its ref (its index in the job), with its name and canonical JSON
// only the first time the job is sent it (most recur in every class of a mesh); the compute job
// stores and hashes that JSON as it is, and parses only the objects it reads.
import type { ConfigKey } from '../model/proxy.js';

/** Byte ranges [start, end) in the line. */
export interface LineLayout {
  proxy: [number, number] | null;
  /** each list's elements */
  elements: Partial<Record<ConfigKey, JobElement[]>>;
}

/** An element of a hashedProxyConfig list: the object's ref, and its name's (a JSON string) and JSON's ranges when the element carries it. */
export interface JobElement {
  ref: number;
  /** null when the element carries no object, or an object without a name */
  name: [number, number] | null;
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
const REF_HEAD = Array.from('{"ref":', (c) => c.charCodeAt(0));
const NAME_KEY = Array.from(',"name":', (c) => c.charCodeAt(0));
const OBJECT_KEY = Array.from(',"object":', (c) => c.charCodeAt(0));
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;

/**
 * The layout of `{"id":…,"result":{"proxy":{…},"listeners":[{…},…],…}}` (valid JSON, as the
 * generator writes it: protocol.AppendJobAnswer), each list element `{"ref":N}` or
 * `{"ref":N,"name":"…","object":{…}}` (protocol.JobObject, fields in that order; no name when it is
 * empty). One pass: an element naming
 * its object by ref only (most, after a job's first classes) is read where it starts, without
 * walking its bytes. Throws on a line that is not of that shape.
 */
export function scanGeneratedLine(line: Uint8Array): LineLayout {
  const layout: LineLayout = { proxy: null, elements: {} };
  const bytes = Buffer.from(line.buffer, line.byteOffset, line.byteLength);
  let depth = 0;
  let key: string | null = null; // the result's key whose value is being read
  let list: JobElement[] | null = null; // that value's elements, when it is one of the lists
  let valueStart = -1;
  let element: { ref: number; name: [number, number] | null; object: number } | null = null; // an element whose object is being walked
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
        if (!startsAt(bytes, REF_HEAD, i)) throw new Error('not a hashedProxyConfig answer of the generator: an element without its ref');
        let ref = 0;
        let refEnd = i + REF_HEAD.length;
        for (; bytes[refEnd] >= DIGIT_0 && bytes[refEnd] <= DIGIT_9; refEnd++) ref = ref * 10 + bytes[refEnd] - DIGIT_0;
        if (refEnd === i + REF_HEAD.length) throw new Error('not a hashedProxyConfig answer of the generator: an element without its ref');
        if (bytes[refEnd] === CLOSE_BRACE) {
          list.push({ ref, name: null, object: null });
          i = refEnd;
          continue;
        }
        let name: [number, number] | null = null;
        let objectKey = refEnd;
        if (startsAt(bytes, NAME_KEY, refEnd)) {
          const nameStart = refEnd + NAME_KEY.length;
          if (bytes[nameStart] !== QUOTE) throw new Error('not a hashedProxyConfig answer of the generator: a name that is not a string');
          name = [nameStart, stringEnd(bytes, nameStart) + 1];
          objectKey = name[1];
        }
        if (!startsAt(bytes, OBJECT_KEY, objectKey))
          throw new Error('not a hashedProxyConfig answer of the generator: an element of another shape');
        element = { ref, name, object: objectKey + OBJECT_KEY.length };
        i = element.object - 1;
      }
      depth++;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
      if (depth === 3 && element) {
        list!.push({ ref: element.ref, name: element.name, object: [element.object, i] });
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

/**
 * An answer naming an object by a ref the job does not hold, or sending one under a ref out of
 * turn: answers read out of the order they were written.
 */
export function refOutOfOrder(ref: number, held: number): Error {
  return new Error(`the generator's answer has ref ${ref}, the job holding ${held} objects (its answers were read out of order)`);
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
