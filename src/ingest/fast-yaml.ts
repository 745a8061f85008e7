// A reader of the block YAML that kubectl and people write for Kubernetes (block mappings and
// sequences, plain and quoted one-line scalars, literal block scalars, anchors and aliases, empty
// flow collections, comments), about 20 times faster than the yaml library's syntax tree: an
// upload is mostly this. It decides nothing of its own: a document with anything else (flow
// collections, folded or kept block scalars, tags, multi-line scalars, complex or non-string
// keys, merge keys, duplicate keys, nesting past a few dozen levels...) is `declined`, and the
// yaml library reads it; so does any document whose problems must be located (decode.ts). Each
// value it returns is the one yaml's toJS gives (test/unit/ingest/fast-yaml.test.ts compares
// them on fuzzed manifests). Iterative over lines, recursive only to a small bounded depth. Pure.

/** Offsets of a value's source: its first character, and the start of the line after it. */
export interface FastRange {
  start: number;
  end: number;
}

/** One `---` document of the text. */
export interface FastDocument {
  /** Offsets of the document's text: from its `---` line (or the text's start) to the next `---` line. */
  start: number;
  end: number;
  /** The document's value (null: empty); absent when declined. */
  value?: unknown;
  declined?: true;
  /**
   * Where the root value is when it is a mapping, and each item of its `items` sequence that is
   * a mapping (a List's objects); undefined ones are yaml's to locate.
   */
  root?: FastRange;
  items?: (FastRange | undefined)[];
}

/**
 * Nesting past this is left to the yaml library (bounded-yaml.ts bounds it): no Kubernetes
 * object comes near, and the reader's recursion stays shallow.
 */
const MAX_FAST_DEPTH = 64;
/** yaml refuses an implicit key longer than this. */
const MAX_IMPLICIT_KEY = 1024;
/** yaml's maxAliasCount, as decode.ts sets it: an anchor aliased this often is left to yaml (it refuses it). */
const MAX_ALIAS_USES = 1000;

/**
 * Characters the yaml library may read otherwise than as plain text (control characters, next
 * line, line and paragraph separators, a byte order mark) or CR line ends: a text with any is
 * read by yaml alone.
 */
// eslint-disable-next-line no-control-regex
const UNUSUAL = /[\0-\x08\x0b-\x1f\x7f-\x9f\ufeff\u2028\u2029]/;

class Declined extends Error {}
const DECLINED = new Declined();
function decline(): never {
  throw DECLINED;
}

/** A document is being built under this anchor: an alias of it is a circular value (yaml's to locate). */
const BUILDING = Symbol('building');

interface Anchor {
  value: unknown;
  uses: number;
}

/**
 * The documents of a text, each decoded or declined; undefined when the text as a whole is
 * yaml's (directives, `...` markers, content on a `---` line, unusual characters).
 */
export function fastYamlDocuments(text: string): FastDocument[] | undefined {
  if (UNUSUAL.test(text)) return undefined;
  const documents: FastDocument[] = [];
  const reader = new Reader(text);
  let start = 0;
  for (;;) {
    const end = reader.documentEnd(start);
    if (end === undefined) return undefined;
    documents.push(reader.document(start, end));
    if (end >= text.length) return documents;
    start = end;
  }
}

const SPACE = 0x20;
const TAB = 0x09;
const NEWLINE = 0x0a;
const HASH = 0x23;
const DASH = 0x2d;
const COLON = 0x3a;
const DOUBLE_QUOTE = 0x22;
const SINGLE_QUOTE = 0x27;

class Reader {
  private end = 0;
  /** The current line: its start, the offset of its first non-space character, its end (its newline or the end). */
  private lineStart = 0;
  private indent = 0;
  private lineEnd = 0;
  /** Where the next line starts (the current one's end + 1); past `end`: no current line. */
  private next = 0;
  /** False at the end of the document. */
  private atLine = false;
  private anchors = new Map<string, Anchor | typeof BUILDING>();
  /** Anchors whose value is being read: an alias meanwhile would nest aliases, which yaml counts otherwise. */
  private building = 0;

  constructor(private readonly text: string) {}

  /**
   * Where the document starting at `start` ends: the start of the next `---` line, or the end of
   * the text; undefined for a text the reader leaves to yaml as a whole.
   */
  documentEnd(start: number): number | undefined {
    const { text } = this;
    // The document's own `---` line, if it starts with one.
    let at = this.isMarker(start) ? this.lineAfter(start) : start;
    while (at < text.length) {
      const c = text.charCodeAt(at);
      if (c === DASH && text.startsWith('---', at)) {
        if (this.isMarker(at)) return at;
        const after = text.charCodeAt(at + 3);
        if (after === SPACE || after === TAB || after === NEWLINE || Number.isNaN(after)) return undefined;
      } else if (c === 0x2e /* . */ && text.startsWith('...', at)) {
        return undefined;
      } else if (c === 0x25 /* % */) {
        return undefined;
      }
      at = this.lineAfter(at);
    }
    return text.length;
  }

  /** A `---` line with nothing after the marker but spaces. */
  private isMarker(at: number): boolean {
    const { text } = this;
    if (!text.startsWith('---', at)) return false;
    let i = at + 3;
    while (text.charCodeAt(i) === SPACE) i++;
    return i >= text.length || text.charCodeAt(i) === NEWLINE;
  }

  private lineAfter(at: number): number {
    const newline = this.text.indexOf('\n', at);
    return newline < 0 ? this.text.length : newline + 1;
  }

  document(start: number, end: number): FastDocument {
    this.end = end;
    this.anchors = new Map();
    this.building = 0;
    this.next = this.isMarker(start) ? this.lineAfter(start) : start;
    try {
      if (!this.nextLine()) return { start, end, value: null };
      const rootStart = this.lineStart + this.indent;
      const items: (FastRange | undefined)[] = [];
      const value = this.block(this.indent, -1, 0, items);
      // The root ends the document: a line less indented than it is not YAML this reader takes.
      if (this.atLine) decline();
      if (!isMapping(value)) return { start, end, value };
      return { start, end, value, root: { start: rootStart, end }, ...(items.length > 0 ? { items } : {}) };
    } catch (error) {
      if (error instanceof Declined) return { start, end, declined: true };
      throw error;
    }
  }

  /**
   * Moves to the next line with content (comments and blank lines skipped); false at the end of
   * the document. Tabs in indentation, which YAML forbids, are yaml's to report.
   */
  private nextLine(): boolean {
    const { text } = this;
    while (this.next < this.end) {
      const start = this.next;
      let newline = text.indexOf('\n', start);
      if (newline < 0 || newline > this.end) newline = this.end;
      this.next = newline + 1;
      let i = start;
      while (text.charCodeAt(i) === SPACE) i++;
      const c = text.charCodeAt(i);
      if (i >= newline) continue;
      if (c === TAB) decline();
      if (c === HASH) continue;
      this.lineStart = start;
      this.indent = i - start;
      this.lineEnd = newline;
      this.atLine = true;
      return true;
    }
    this.atLine = false;
    return false;
  }

  /** A mapping or a sequence whose first character is at column `column` of the current line (which may be mid-line). */
  private block(column: number, parent: number, depth: number, items?: (FastRange | undefined)[]): unknown {
    if (depth > MAX_FAST_DEPTH) decline();
    const at = this.lineStart + column;
    if (this.isDash(at)) return this.sequence(column, depth);
    const key = this.key(at);
    if (!key) decline();
    // `parent`: the indentation the block must exceed (a mapping's own key column for a compact one).
    if (column <= parent) decline();
    return this.mapping(column, depth, key, items);
  }

  private isDash(at: number): boolean {
    if (this.text.charCodeAt(at) !== DASH) return false;
    const after = this.text.charCodeAt(at + 1);
    return after === SPACE || at + 1 >= this.lineEnd;
  }

  /** `items`: of the root mapping, where the items of its `items` sequence are. */
  private mapping(column: number, depth: number, first: Key, items?: (FastRange | undefined)[]): Record<string, unknown> {
    const object: Record<string, unknown> = {};
    let key: Key | undefined = first;
    for (;;) {
      if (Object.prototype.hasOwnProperty.call(object, key.name)) decline();
      const value = this.value(key.after, column, depth + 1, true, key.name === 'items' && depth === 0 ? items : undefined);
      object[key.name] = value;
      if (!this.atLine || this.indent < column) return object;
      if (this.indent > column) decline();
      key = this.key(this.lineStart + column);
      if (!key) decline();
    }
  }

  /** `items`: each item's range when it is a mapping (undefined otherwise: yaml's to locate). */
  private sequence(column: number, depth: number, items?: (FastRange | undefined)[]): unknown[] {
    const array: unknown[] = [];
    for (;;) {
      // After the `- `: a compact mapping, a value, or (nothing on the line) a block below.
      let at = this.lineStart + column + 1;
      while (this.text.charCodeAt(at) === SPACE) at++;
      if (this.isDash(at)) decline();
      let start: number | undefined;
      let value: unknown;
      if (at >= this.lineEnd || this.text.charCodeAt(at) === HASH) {
        if (!this.nextLine() || this.indent <= column) {
          value = null;
        } else {
          start = this.lineStart + this.indent;
          value = this.block(this.indent, column, depth + 1);
        }
      } else {
        const key = this.key(at);
        if (key) start = at;
        value = key ? this.mapping(at - this.lineStart, depth + 1, key) : this.value(at, column, depth + 1, false);
      }
      array.push(value);
      if (items) items.push(start !== undefined && isMapping(value) ? { start, end: this.atLine ? this.lineStart : this.end } : undefined);
      if (!this.atLine || this.indent < column) return array;
      if (this.indent > column) decline();
      if (!this.isDash(this.lineStart + column)) return array;
    }
  }

  /**
   * The value after a `key:` or a `- ` at offset `at` of the current line, whose owner is at
   * column `owner`; leaves the reader on the first content line after it.
   */
  private value(at: number, owner: number, depth: number, inMapping: boolean, items?: (FastRange | undefined)[]): unknown {
    const { text } = this;
    while (text.charCodeAt(at) === SPACE) at++;
    if (at >= this.lineEnd || text.charCodeAt(at) === HASH) return this.blockBelow(owner, depth, inMapping, items);
    const c = text.charCodeAt(at);
    if (c === 0x26 /* & */) return this.anchored(at, owner, depth, inMapping);
    if (c === 0x2a /* * */) {
      const { name, after } = this.name(at + 1);
      const anchor = this.anchors.get(name);
      if (anchor === undefined || anchor === BUILDING || this.building > 0 || ++anchor.uses >= MAX_ALIAS_USES) decline();
      this.endOfLine(after);
      return this.after(owner, anchor.value);
    }
    if (c === 0x7c /* | */) return this.literal(at, owner);
    let value: unknown;
    let after: number;
    if (c === DOUBLE_QUOTE) ({ value, after } = this.doubleQuoted(at));
    else if (c === SINGLE_QUOTE) ({ value, after } = this.singleQuoted(at));
    else if (text.startsWith('{}', at)) ({ value, after } = { value: {}, after: at + 2 });
    else if (text.startsWith('[]', at)) ({ value, after } = { value: [], after: at + 2 });
    else return this.after(owner, resolvePlain(this.plain(at)));
    this.endOfLine(after);
    return this.after(owner, value);
  }

  /** Nothing after the indicator on its line: the value is the block on the lines below, or null. */
  private blockBelow(owner: number, depth: number, inMapping: boolean, items?: (FastRange | undefined)[]): unknown {
    if (!this.nextLine()) return null;
    if (this.indent > owner) return this.block(this.indent, owner, depth, items);
    // A mapping's sequence may sit at the mapping's own indentation.
    if (inMapping && this.indent === owner && this.isDash(this.lineStart + this.indent)) return this.sequence(this.indent, depth, items);
    return null;
  }

  private anchored(at: number, owner: number, depth: number, inMapping: boolean): unknown {
    const { name, after } = this.name(at + 1);
    let rest = after;
    while (this.text.charCodeAt(rest) === SPACE) rest++;
    // An anchor before a compact mapping's first key, or a second property: yaml's.
    if (rest < this.lineEnd && this.text.charCodeAt(rest) !== HASH) {
      const c = this.text.charCodeAt(rest);
      if (c === 0x26 || c === 0x2a || c === 0x21 /* ! */ || this.key(rest)) decline();
    }
    this.anchors.set(name, BUILDING);
    this.building++;
    const value =
      rest >= this.lineEnd || this.text.charCodeAt(rest) === HASH
        ? this.anchoredBlock(owner, depth, inMapping)
        : this.value(rest, owner, depth, inMapping);
    this.building--;
    this.anchors.set(name, { value, uses: 0 });
    return value;
  }

  /** An anchor alone on its line: of the block below (an anchored null is yaml's). */
  private anchoredBlock(owner: number, depth: number, inMapping: boolean): unknown {
    if (!this.nextLine()) decline();
    if (this.indent > owner) return this.block(this.indent, owner, depth);
    if (inMapping && this.indent === owner && this.isDash(this.lineStart + this.indent)) return this.sequence(this.indent, depth);
    return decline();
  }

  /** An anchor's or alias's name: up to a space or the end of the line; flow indicators are yaml's. */
  private name(at: number): { name: string; after: number } {
    let i = at;
    while (i < this.lineEnd && this.text.charCodeAt(i) !== SPACE) i++;
    const name = this.text.slice(at, i);
    if (name === '' || /[,[\]{}\t]/.test(name)) decline();
    return { name, after: i };
  }

  /** Only spaces and a comment may follow a value on its line. */
  private endOfLine(at: number): void {
    if (at >= this.lineEnd) return;
    const c = this.text.charCodeAt(at);
    if (c !== SPACE) decline();
    while (this.text.charCodeAt(at) === SPACE) at++;
    if (at < this.lineEnd && this.text.charCodeAt(at) !== HASH) decline();
  }

  /** After a one-line value: a line indented past its owner would continue it (a multi-line scalar: yaml's). */
  private after(owner: number, value: unknown): unknown {
    if (this.nextLine() && this.indent > owner) decline();
    return value;
  }

  /** A plain scalar's text on the current line, up to a comment. */
  private plain(at: number): string {
    const { text } = this;
    const c = text.charCodeAt(at);
    // Indicators a plain scalar cannot start with (or that start something else); `-x` is plain.
    if ('?:,[]{}#&*!|>\'"%@`'.includes(text[at]) || (c === DASH && (text.charCodeAt(at + 1) === SPACE || at + 1 >= this.lineEnd))) {
      decline();
    }
    let end = this.lineEnd;
    for (let i = at; i < this.lineEnd; i++) {
      const ch = text.charCodeAt(i);
      if (ch === HASH && (text.charCodeAt(i - 1) === SPACE || text.charCodeAt(i - 1) === TAB)) {
        end = i;
        break;
      }
      // A `: ` in a value would make it a mapping of its own (yaml refuses that).
      if (ch === COLON) {
        const after = text.charCodeAt(i + 1);
        if (after === SPACE || after === TAB || i + 1 >= this.lineEnd) decline();
      }
    }
    while (end > at && (text.charCodeAt(end - 1) === SPACE || text.charCodeAt(end - 1) === TAB)) end--;
    return text.slice(at, end);
  }

  /** A mapping key at `at` (plain or quoted, then `:` and a space or the end of the line), or undefined. */
  private key(at: number): Key | undefined {
    const { text } = this;
    const c = text.charCodeAt(at);
    if (c === DOUBLE_QUOTE || c === SINGLE_QUOTE) {
      const { value, after } = c === DOUBLE_QUOTE ? this.doubleQuoted(at) : this.singleQuoted(at);
      if (text.charCodeAt(after) !== COLON) return undefined;
      if (!this.separates(after + 1)) decline();
      if (value === '__proto__' || value === '<<' || after - at > MAX_IMPLICIT_KEY) decline();
      return { name: value, after: after + 1 };
    }
    for (let i = at; i < this.lineEnd; i++) {
      const ch = text.charCodeAt(i);
      if (ch === HASH && (text.charCodeAt(i - 1) === SPACE || text.charCodeAt(i - 1) === TAB)) return undefined;
      if (ch === COLON && this.separates(i + 1)) {
        const name = text.slice(at, i);
        // Keys yaml would read otherwise than as this string: indicators, non-string scalars
        // (numbers, booleans, null: stringified their own way), the merge key, odd spacing.
        if (
          i === at ||
          '-?:,[]{}#&*!|>\'"%@`'.includes(text[at]) ||
          i - at > MAX_IMPLICIT_KEY ||
          ch === text.charCodeAt(i - 1) ||
          text.charCodeAt(i - 1) === SPACE ||
          text.charCodeAt(i - 1) === TAB ||
          name === '<<' ||
          name === '__proto__' ||
          resolvePlain(name) !== name
        ) {
          decline();
        }
        return { name, after: i + 1 };
      }
    }
    return undefined;
  }

  /** A `:` ends a key when a space or the end of the line follows. */
  private separates(at: number): boolean {
    return at >= this.lineEnd || this.text.charCodeAt(at) === SPACE;
  }

  private doubleQuoted(at: number): { value: string; after: number } {
    const { text } = this;
    let value = '';
    let from = at + 1;
    for (let i = at + 1; i < this.lineEnd; i++) {
      const c = text.charCodeAt(i);
      if (c === DOUBLE_QUOTE) return { value: value + text.slice(from, i), after: i + 1 };
      if (c !== 0x5c /* \ */) continue;
      value += text.slice(from, i);
      const escape = text[i + 1];
      const simple = ESCAPES[escape];
      if (simple !== undefined) {
        value += simple;
        i += 1;
      } else {
        const length = escape === 'x' ? 2 : escape === 'u' ? 4 : escape === 'U' ? 8 : 0;
        const hex = text.slice(i + 2, i + 2 + length);
        if (length === 0 || hex.length !== length || !/^[0-9a-fA-F]+$/.test(hex)) decline();
        const code = parseInt(hex, 16);
        if (code > 0x10ffff) decline();
        value += String.fromCodePoint(code);
        i += 1 + length;
      }
      from = i + 1;
    }
    // Not closed on its line: a multi-line scalar (or an error), yaml's.
    return decline();
  }

  private singleQuoted(at: number): { value: string; after: number } {
    const { text } = this;
    let value = '';
    let from = at + 1;
    for (let i = at + 1; i < this.lineEnd; i++) {
      if (text.charCodeAt(i) !== SINGLE_QUOTE) continue;
      if (text.charCodeAt(i + 1) === SINGLE_QUOTE && i + 1 < this.lineEnd) {
        value += text.slice(from, i + 1);
        from = i + 2;
        i++;
        continue;
      }
      return { value: value + text.slice(from, i), after: i + 1 };
    }
    return decline();
  }

  /**
   * A literal block scalar (`|` or `|-`) whose indicator is at `at`: its lines, indented past
   * `owner`, without that indentation. Keep (`|+`), indentation indicators, folded scalars, and
   * the edge cases of leading or trailing more-indented blank lines are yaml's.
   */
  private literal(at: number, owner: number): string {
    const { text } = this;
    let i = at + 1;
    const strip = text.charCodeAt(i) === DASH;
    if (strip) i++;
    while (text.charCodeAt(i) === SPACE) i++;
    if (i < this.lineEnd) decline();
    const lines: string[] = [];
    let indent = -1;
    let lastContent = -1;
    let line = this.lineEnd + 1;
    let resume = this.end;
    while (line < this.end) {
      let newline = text.indexOf('\n', line);
      if (newline < 0 || newline > this.end) newline = this.end;
      let j = line;
      while (text.charCodeAt(j) === SPACE) j++;
      const spaces = j - line;
      if (j >= newline) {
        // A blank line: before any content, yaml's rules for its indentation apply.
        if (indent < 0 || spaces > indent) decline();
        lines.push('');
      } else {
        if (text.charCodeAt(j) === TAB) decline();
        if (indent < 0) {
          if (spaces <= owner) decline();
          indent = spaces;
        }
        if (spaces < indent) {
          if (spaces > owner) decline();
          resume = line;
          break;
        }
        lines.push(text.slice(line + indent, newline));
        lastContent = lines.length;
      }
      line = newline + 1;
    }
    if (indent < 0) decline();
    this.next = resume;
    this.nextLine();
    const content = lines.slice(0, lastContent).join('\n');
    return strip ? content : `${content}\n`;
  }
}

interface Key {
  name: string;
  /** Offset just past the `:`. */
  after: number;
}

/** yaml's double-quoted escapes of one character. */
const ESCAPES: Record<string, string> = {
  '0': '\0',
  a: '\x07',
  b: '\b',
  e: '\x1b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
  N: '\u0085',
  _: '\u00a0',
  L: '\u2028',
  P: '\u2029',
  ' ': ' ',
  '"': '"',
  '/': '/',
  '\\': '\\',
  '\t': '\t',
};

/** Could be other than a string in YAML 1.2's core schema (yaml's default): starts like a number, null or a boolean. */
const MAYBE_NOT_STRING = /^[-+.0-9~nNtTfF]|^$/;

/** A plain scalar as yaml's core schema resolves it (null, booleans, integers, floats; else the string). */
export function resolvePlain(source: string): unknown {
  if (!MAYBE_NOT_STRING.test(source)) return source;
  if (/^(?:~|[Nn]ull|NULL)?$/.test(source)) return null;
  if (/^(?:[Tt]rue|TRUE)$/.test(source)) return true;
  if (/^(?:[Ff]alse|FALSE)$/.test(source)) return false;
  if (/^0o[0-7]+$/.test(source)) return parseInt(source.substring(2), 8);
  if (/^[-+]?[0-9]+$/.test(source)) return parseInt(source, 10);
  if (/^0x[0-9a-fA-F]+$/.test(source)) return parseInt(source.substring(2), 16);
  if (/^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/.test(source)) {
    if (source.slice(-3).toLowerCase() === 'nan') return NaN;
    return source[0] === '-' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  }
  if (/^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/.test(source)) return parseFloat(source);
  if (/^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/.test(source)) return parseFloat(source);
  return source;
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
