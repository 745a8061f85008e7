// The documents of an upload read by js-yaml (CORE_SCHEMA; decode and validate of the bench
// upload take a quarter of the CPU they take with the yaml library's syntax tree): an upload is
// mostly block YAML js-yaml reads as yaml does. js-yaml's
// event stream (parseEvents) is checked before its values are built (constructFromEvents): a
// document it would read otherwise than yaml's toJS under decode.ts's options (tags, merge keys,
// non-string keys, aliases yaml counts otherwise) or refuses (duplicate or complex keys, syntax
// errors) is `declined`, and the yaml library reads it; so does any document whose problems
// must be located (decode.ts). test/unit/ingest/fast-yaml.test.ts compares the values with
// yaml's on fuzzed manifests. Pure.
import { constructFromEvents, CORE_SCHEMA, EVENT_ID, parseEvents, SCALAR_STYLE, type Event } from 'js-yaml';

/** Offsets of a value's source: its first character, and (about) where the next one starts. */
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
 * object comes near, and js-yaml's constructor recurses.
 */
const MAX_FAST_DEPTH = 64;
/** yaml's maxAliasCount, as decode.ts sets it: an anchor aliased this often is left to yaml (it refuses it). */
const MAX_ALIAS_USES = 1000;

/**
 * Characters the yaml library may read otherwise than as plain text (control characters, next
 * line, line and paragraph separators, a byte order mark) or CR line ends: a text with any is
 * read by yaml alone.
 */
// eslint-disable-next-line no-control-regex
const UNUSUAL = /[\0-\x08\x0b-\x1f\x7f-\x9f\ufeff\u2028\u2029]/;
/**
 * Directives, `...` markers, content on a `---` line, a tab in a line's indentation (YAML
 * forbids it, js-yaml takes it; in a block scalar it would be text): a text with any is yaml's
 * as a whole.
 */
const WHOLE_TEXT = /^(?:%|\.\.\.(?:[ \t]|$)|---[ \t]*[^ \t\n]| *\t)/m;
/** A `---` line: where a document starts. */
const MARKER = /^---[ \t]*$/gm;
/**
 * Plain keys the core schema may resolve to something other than a string (null, booleans,
 * numbers): yaml stringifies them otherwise than js-yaml (`~` is '' to one, 'null' to the other).
 */
const NON_STRING_KEY = /^(?:[-+.0-9~]|(?:null|Null|NULL|true|True|TRUE|false|False|FALSE)$)/;

/** Characters a plain scalar cannot start with (YAML's c-indicator, less `-?:`, which it can). */
const INDICATORS = ',[]{}#&*!|>\'"%@`';

class Declined extends Error {}
const DECLINED = new Declined();
function decline(): never {
  throw DECLINED;
}

/**
 * The documents of a text, each decoded or declined, in groups of documents of about `size`
 * characters of the text; undefined when the text as a whole is yaml's (WHOLE_TEXT, UNUSUAL, a
 * syntax error js-yaml finds: its documents are then unknown). Each group's values are built when
 * it is called, so that a caller may act on a group's objects before the next is built;
 * `documents`: how many there are in all. js-yaml reads the whole text at once: read in
 * parts, it costs a fresh thread's first upload more than a second of CPU (V8 deoptimises its
 * reader at each new part).
 */
export function fastYamlGroups(text: string, size: number): { documents: number; groups: (() => FastDocument[])[] } | undefined {
  if (UNUSUAL.test(text) || WHOLE_TEXT.test(text)) return undefined;
  let events: Event[];
  try {
    events = parseEvents(text, { maxDepth: MAX_FAST_DEPTH });
  } catch {
    return undefined;
  }
  const markers = [...text.matchAll(MARKER)].map((match) => match.index);
  const starts = markers[0] === 0 ? markers : [0, ...markers];
  // Each `---` line starts a document of js-yaml's; text before the first one is a document
  // only when it has content (its event does not start explicitly).
  const documents: UnbuiltDocument[] = [];
  let at = 0;
  for (const [index, start] of starts.entries()) {
    const end = starts[index + 1] ?? text.length;
    const event = events[at];
    if (event?.type !== EVENT_ID.DOCUMENT || event.explicitStart !== (start === markers[0] || index > 0)) {
      documents.push({ start, end });
      continue;
    }
    const after = documentEnd(events, at);
    documents.push({ start, end, events: events.slice(at, after) });
    at = after;
  }
  if (at !== events.length) return undefined;
  const groups: (() => FastDocument[])[] = [];
  for (let first = 0, next = 1; first < documents.length; next++) {
    if (next < documents.length && documents[next].start - documents[first].start < size) continue;
    const group = documents.slice(first, next);
    groups.push(() => built(text, group));
    first = next;
  }
  return { documents: documents.length, groups };
}

/** A document of the text with its events (none: an empty document js-yaml does not count), its value not built yet. */
interface UnbuiltDocument {
  start: number;
  end: number;
  events?: Event[];
}

function built(text: string, documents: UnbuiltDocument[]): FastDocument[] {
  // Built at once: a call per document costs more than building a Kubernetes object. Any error
  // of js-yaml's, and the documents are built one by one, each with its own.
  let values: unknown[] | undefined;
  try {
    values = constructFromEvents(
      documents.flatMap((document) => document.events ?? []),
      { source: text, schema: CORE_SCHEMA },
    );
  } catch {
    values = undefined;
  }
  let index = 0;
  return documents.map(({ start, end, events }) => {
    if (!events) return { start, end, value: null };
    const value = values ? { value: values[index] } : undefined;
    index++;
    return document(text, start, end, events, value);
  });
}

/** The index past the POP event that ends the document whose event is at `at`. */
function documentEnd(events: Event[], at: number): number {
  let depth = 0;
  for (let index = at; index < events.length; index++) {
    if (events[index].type === EVENT_ID.POP) depth--;
    else if (events[index].type !== EVENT_ID.SCALAR && events[index].type !== EVENT_ID.ALIAS) depth++;
    if (depth === 0) return index + 1;
  }
  return events.length;
}

/** A document of its events, its value built already or not. */
function document(text: string, start: number, end: number, events: Event[], built?: { value: unknown }): FastDocument {
  try {
    const { items, root } = check(text, events, end);
    const [value] = built ? [built.value] : constructFromEvents(events, { source: text, schema: CORE_SCHEMA });
    return {
      start,
      end,
      value: value ?? null,
      ...(root !== undefined ? { root: { start: root, end } } : {}),
      ...(items ? { items } : {}),
    };
  } catch {
    // js-yaml's errors (duplicate keys...) are yaml's to find and locate again.
    return { start, end, declined: true };
  }
}

interface Open {
  kind: 'mapping' | 'sequence';
  /** Children so far: in a mapping, keys are the even ones. */
  children: number;
  anchored: boolean;
  /** The root mapping's `items` sequence. */
  items: boolean;
}

/**
 * Declines what js-yaml would read otherwise than yaml; finds where the root mapping and the
 * mappings of its `items` sequence start; `end`: where the document ends.
 */
function check(source: string, events: Event[], end: number): { root?: number; items?: (FastRange | undefined)[] } {
  const stack: Open[] = [];
  const uses = new Map<string, number>();
  let anchoredOpen = 0;
  let root: number | undefined;
  let items: ItemRanges | undefined;
  /** The last key of the root mapping was `items`. */
  let itemKey = false;
  for (const event of events) {
    if (event.type === EVENT_ID.DOCUMENT) continue;
    if (event.type === EVENT_ID.POP) {
      const open = stack.pop();
      if (open?.anchored) anchoredOpen--;
      if (open?.items) items?.end(end);
      continue;
    }
    const parent = stack.at(-1);
    const isKey = parent?.kind === 'mapping' && parent.children % 2 === 0;
    if (parent) parent.children++;
    if (event.type === EVENT_ID.ALIAS) {
      // yaml counts an alias inside an anchored value otherwise; an alias key is stringified.
      const name = source.slice(event.anchorStart, event.anchorEnd);
      const count = (uses.get(name) ?? 0) + 1;
      if (isKey || anchoredOpen > 0 || count >= MAX_ALIAS_USES) decline();
      uses.set(name, count);
      if (parent?.items) items?.add(event.anchorStart - 1, undefined);
      continue;
    }
    if (event.tagStart >= 0) decline();
    if (event.type === EVENT_ID.SCALAR) {
      // YAML forbids these; js-yaml reads them as text.
      if (event.style === SCALAR_STYLE.PLAIN && INDICATORS.includes(source[event.valueStart] ?? '')) decline();
      if (isKey) {
        // An anchored key (`&a key: v`): yaml's mapping starts after the anchor, js-yaml's before it.
        if (event.valueStart < 0 || event.anchorStart >= 0) decline();
        const key = source.slice(event.valueStart, event.valueEnd);
        if (key.includes('<<') || key.includes('__proto__') || (event.style === SCALAR_STYLE.PLAIN && NON_STRING_KEY.test(key))) decline();
        itemKey = stack.length === 1 && key === 'items';
      } else if (parent?.items) {
        items?.add(event.anchorStart >= 0 ? event.anchorStart : event.valueStart, undefined);
      }
      continue;
    }
    if (isKey) decline();
    const anchored = event.anchorStart >= 0;
    if (anchored) anchoredOpen++;
    const isItems = event.type === EVENT_ID.SEQUENCE && stack.length === 1 && parent?.kind === 'mapping' && itemKey;
    // An anchored mapping starts where yaml says, not always where js-yaml does: yaml's to locate.
    const mapping = event.type === EVENT_ID.MAPPING && !anchored ? event.start : undefined;
    if (parent?.items) items?.add(anchored ? event.anchorStart : event.start, mapping);
    if (stack.length === 0) root = mapping;
    if (isItems) items = new ItemRanges(source);
    stack.push({ kind: event.type === EVENT_ID.MAPPING ? 'mapping' : 'sequence', children: 0, anchored, items: isItems });
  }
  return { root, items: items?.ranges };
}

/** Where the items of a List's `items` are: a mapping's ends at the line of the next item with a known start. */
class ItemRanges {
  readonly ranges: (FastRange | undefined)[] = [];
  private unended: FastRange[] = [];

  constructor(private readonly source: string) {}

  /** An item whose first character is at `at` (-1: unknown, an empty value), a mapping starting at `mapping`. */
  add(at: number, mapping: number | undefined): void {
    if (at >= 0) this.end(this.source.lastIndexOf('\n', at) + 1);
    const range = mapping === undefined ? undefined : { start: mapping, end: -1 };
    this.ranges.push(range);
    if (range) this.unended.push(range);
  }

  end(at: number): void {
    for (const range of this.unended) range.end = at;
    this.unended = [];
  }
}
