// Where the values of a JSON text are written, without building a syntax tree: a JSON upload is
// decoded by JSON.parse, and this finds the offset of a path's value in the text only when a
// problem needs one. Each container's members are scanned once, on the first question about it,
// and kept (offsets only); nothing recurses, whatever the nesting. Pure.
import type { PathSegment } from './bounded-yaml.js';

/** A container's members: the value offset of each item, or of each key and its value. */
interface Members {
  items?: number[];
  keys?: Map<string, { key: number; value: number }>;
  /** The offset just past the container's closing bracket. */
  end: number;
}

/** A text JSON.parse accepted: every question below assumes valid JSON. */
export class JsonSource {
  private readonly members = new Map<number, Members>();

  constructor(readonly text: string) {}

  /** The offset of the text's top-level value. */
  root(): number {
    return this.skipSpace(0);
  }

  /** The offset just past the value that starts at `offset`. */
  end(offset: number): number {
    const c = this.text[offset];
    if (c === '{' || c === '[') return this.members.get(offset)?.end ?? this.skipContainer(offset);
    if (c === '"') return this.skipString(offset);
    LITERAL.lastIndex = offset;
    return LITERAL.test(this.text) ? LITERAL.lastIndex : offset + 1;
  }

  /** The value offset of a member of the container at `offset`; undefined when there is none. */
  child(offset: number, segment: PathSegment): number | undefined {
    const members = this.membersOf(offset);
    if (!members) return undefined;
    if (members.items) return typeof segment === 'number' || /^\d+$/.test(segment) ? members.items[Number(segment)] : undefined;
    return members.keys?.get(String(segment))?.value;
  }

  /** Where the deepest member of path below `offset` that exists is written: its key in an object, its value in an array. */
  locate(offset: number, path: readonly PathSegment[]): number {
    let at = offset;
    let node = offset;
    for (const segment of path) {
      const members = this.membersOf(node);
      if (!members) break;
      if (members.items) {
        const item = typeof segment === 'number' || /^\d+$/.test(segment) ? members.items[Number(segment)] : undefined;
        if (item === undefined) break;
        at = node = item;
      } else {
        const member = members.keys?.get(String(segment));
        if (!member) break;
        at = member.key;
        node = member.value;
      }
    }
    return at;
  }

  /**
   * The offsets of the keys that repeat an earlier key of the same object (JSON.parse keeps the
   * last silently; the API server's strict decoding refuses them): one pass over the text, a set
   * of keys per object open at the time; it stops at the `max`th.
   */
  duplicateKeys(max = Infinity): number[] {
    const found: number[] = [];
    const text = this.text;
    // One entry per open container: the keys of an object (created at its first key), null for an array.
    const open: (Set<string> | null | undefined)[] = [];
    let expectKey = false;
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (c === '"') {
        const end = this.skipString(i);
        if (expectKey) {
          const keys = (open[open.length - 1] ??= new Set());
          const key = this.stringAt(i, end);
          if (keys.has(key)) {
            if (found.push(i) >= max) return found;
          } else {
            keys.add(key);
          }
          expectKey = false;
        }
        i = end - 1;
      } else if (c === '{') {
        open.push(undefined);
        expectKey = true;
      } else if (c === '[') {
        open.push(null);
        expectKey = false;
      } else if (c === '}' || c === ']') {
        open.pop();
        expectKey = false;
      } else if (c === ',') {
        expectKey = open[open.length - 1] !== null;
      }
    }
    return found;
  }

  private membersOf(offset: number): Members | undefined {
    const c = this.text[offset];
    if (c !== '{' && c !== '[') return undefined;
    let members = this.members.get(offset);
    if (!members) {
      members = c === '[' ? this.scanArray(offset) : this.scanObject(offset);
      this.members.set(offset, members);
    }
    return members;
  }

  private scanArray(offset: number): Members {
    const items: number[] = [];
    let i = this.skipSpace(offset + 1);
    while (this.text[i] !== ']') {
      items.push(i);
      i = this.skipSpace(this.end(i));
      if (this.text[i] === ',') i = this.skipSpace(i + 1);
    }
    return { items, end: i + 1 };
  }

  private scanObject(offset: number): Members {
    const keys = new Map<string, { key: number; value: number }>();
    let i = this.skipSpace(offset + 1);
    while (this.text[i] === '"') {
      const keyEnd = this.skipString(i);
      const value = this.skipSpace(this.skipSpace(keyEnd) + 1);
      // A repeated key: JSON.parse keeps the last value, so does this.
      keys.set(this.stringAt(i, keyEnd), { key: i, value });
      i = this.skipSpace(this.end(value));
      if (this.text[i] === ',') i = this.skipSpace(i + 1);
    }
    return { keys, end: i + 1 };
  }

  /** Past a container, counting brackets outside strings: no member is kept. */
  private skipContainer(offset: number): number {
    const text = this.text;
    let depth = 0;
    for (let i = offset; i < text.length; i++) {
      const c = text[i];
      if (c === '"') i = this.skipString(i) - 1;
      else if (c === '{' || c === '[') depth++;
      else if ((c === '}' || c === ']') && --depth === 0) return i + 1;
    }
    return text.length;
  }

  /** Past the string that starts at `offset` (its opening quote). */
  private skipString(offset: number): number {
    const text = this.text;
    for (let i = offset + 1; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) return i + 1;
    }
    return text.length;
  }

  private stringAt(start: number, end: number): string {
    const raw = this.text.slice(start + 1, end - 1);
    return raw.includes('\\') ? (JSON.parse(this.text.slice(start, end)) as string) : raw;
  }

  private skipSpace(offset: number): number {
    let i = offset;
    while (i < this.text.length && SPACE.has(this.text[i])) i++;
    return i;
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const SPACE = new Set([' ', '\t', '\n', '\r']);
/** A number, true, false or null. */
const LITERAL = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null/y;
