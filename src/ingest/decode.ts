// Decoding an upload into Kubernetes objects, each with where it came from. Pure: text in,
// objects and problems out. Encodings are detected from the body (the Content-Type only
// breaks the tie for a body that could be either): multi-document YAML, a JSON object, a
// JSON array, and Kubernetes Lists (nested ones flattened).
import {
  Document,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  LineCounter,
  parseAllDocuments,
  parseDocument,
  Scalar,
  visit,
  type Node,
  type YAMLError,
} from 'yaml';
import type { IngestProblem } from '../model/snapshot.js';

export interface SourcePosition {
  line: number;
  column: number;
}

export interface DecodedObject {
  /** 0-based: the nth object or undecodable document of the upload, List items flattened. */
  document: number;
  line?: number;
  column?: number;
  object: Record<string, unknown>;
  /**
   * Where a JSON path inside the object is written: the key of the deepest member of the path
   * that exists (so a missing field points at its parent), undefined without a source node.
   */
  locate(path: readonly PathSegment[]): SourcePosition | undefined;
  /** The position of a 1-based line and column of the string at `path`, for text embedded in a block scalar. */
  locateInside(path: readonly PathSegment[], inner: SourcePosition): SourcePosition | undefined;
}

export type PathSegment = string | number;

export interface DecodeResult {
  objects: DecodedObject[];
  problems: IngestProblem[];
}

/**
 * yaml's own guard against exponential alias expansion ("billion laughs"): it aborts toJS when
 * an anchor is referenced too often relative to its size. Generous: `<<: *defaults` is legit.
 */
const MAX_ALIAS_COUNT = 1000;
/**
 * A second, size-based guard: without aliases, every value costs at least one character of
 * source, so an upload cannot legitimately expand to more values than it has characters.
 * Aliases may repeat content, up to this floor.
 */
const MIN_VALUE_BUDGET = 200_000;

export function decodeManifests(text: string, contentType?: string): DecodeResult {
  const decoder = new Decoder(text);
  if (looksLikeJson(text, contentType)) {
    const json = parseJson(text);
    if ('value' in json) {
      decoder.decodeJson(json.value);
      return decoder.result();
    }
    // A YAML flow mapping also starts with `{`; only an explicit JSON type rules YAML out.
    if (isJsonType(contentType) || !parsesAsYaml(text)) {
      return { objects: [], problems: [json.problem] };
    }
  }
  decoder.decodeYaml();
  return decoder.result();
}

function isJsonType(contentType: string | undefined): boolean {
  return contentType !== undefined && /json/i.test(contentType);
}

function looksLikeJson(text: string, contentType: string | undefined): boolean {
  return isJsonType(contentType) || /^\s*[[{]/.test(text);
}

function parsesAsYaml(text: string): boolean {
  return parseAllDocuments(text).every((doc) => doc.errors.length === 0);
}

/** JSON.parse's verdict; a syntax error with a line and column (V8 reports a character offset). */
function parseJson(text: string): { value: unknown } | { problem: IngestProblem } {
  try {
    return { value: JSON.parse(text) as unknown };
  } catch (error) {
    const message = (error as Error).message;
    const offset = /end of JSON input/.test(message) ? text.length : Number(/at position (\d+)/.exec(message)?.[1]);
    return {
      problem: {
        document: 0,
        ...(Number.isNaN(offset) ? {} : lineAndColumn(text, offset)),
        // V8 sometimes quotes the text around the error: it could be a Secret's value, drop it.
        message: `JSON syntax error: ${message.replace(/ in JSON at position \d+.*$/s, '').replace(/, ".*" is not valid JSON$/s, '')}`,
      },
    };
  }
}

function lineAndColumn(text: string, offset: number): SourcePosition {
  const before = text.slice(0, offset);
  return { line: before.split('\n').length, column: offset - before.lastIndexOf('\n') };
}

class Decoder {
  private readonly lineCounter = new LineCounter();
  private readonly objects: DecodedObject[] = [];
  private readonly problems: IngestProblem[] = [];
  /** Duplicate keys do not stop decoding; they are attributed to the object that holds them. */
  private readonly duplicateKeys: YAMLError[] = [];
  private readonly ranges: { document: number; start: number; end: number }[] = [];
  private nextDocument = 0;
  private valueBudget: number;

  constructor(private readonly text: string) {
    this.valueBudget = Math.max(MIN_VALUE_BUDGET, text.length);
  }

  result(): DecodeResult {
    this.attributeDuplicateKeys();
    return { objects: this.objects, problems: this.problems };
  }

  /** The value is JSON.parse's; the same text parsed as YAML (JSON is YAML) gives the positions. */
  decodeJson(value: unknown): void {
    const doc = parseDocument(this.text, { lineCounter: this.lineCounter, uniqueKeys: true });
    this.duplicateKeys.push(...doc.errors.filter((error) => error.code === 'DUPLICATE_KEY'));
    if (Array.isArray(value)) {
      const items = isSeq(doc.contents) ? doc.contents.items : [];
      value.forEach((item, index) => this.collect(item, doc, nodeAt(doc, items[index])));
    } else {
      this.collect(value, doc, nodeAt(doc, doc.contents));
    }
  }

  decodeYaml(): void {
    const docs = parseAllDocuments(this.text, { lineCounter: this.lineCounter, merge: true, uniqueKeys: true });
    for (const doc of docs) this.decodeYamlDocument(doc);
  }

  private decodeYamlDocument(doc: Document.Parsed): void {
    const fatal = doc.errors.filter((error) => error.code !== 'DUPLICATE_KEY');
    if (fatal.length > 0) {
      const document = this.nextDocument++;
      for (const error of fatal) this.problems.push(yamlProblem(error, document));
      return;
    }
    this.duplicateKeys.push(...doc.errors);
    const value = this.toJS(doc);
    // undefined: refused (reported); null: an empty document (`---` at start or end, comments only)
    if (value === undefined || value === null) return;
    if (Array.isArray(value)) {
      this.problem(doc.contents, 'a YAML document must be one object (a mapping with apiVersion and kind), not a list; use kind: List with items');
      return;
    }
    this.collect(value, doc, doc.contents ?? undefined);
  }

  /** doc.toJS with both expansion guards; undefined (problem reported) when refused. */
  private toJS(doc: Document.Parsed): unknown {
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (error) {
      this.problem(this.aliasNode(doc, error as Error) ?? doc.contents, aliasMessage(error as Error));
      return undefined;
    }
    this.valueBudget = spendValues(value, this.valueBudget);
    if (this.valueBudget < 0) {
      this.problem(doc.contents, 'document expands (through aliases) to more values than the upload may hold; refusing it');
      return undefined;
    }
    return value;
  }

  /** The alias toJS choked on, for its line: yaml throws without a position. */
  private aliasNode(doc: Document.Parsed, error: Error): Node | undefined {
    const name = /Unresolved alias.*: (.+)$/.exec(error.message)?.[1];
    let found: Node | undefined;
    visit(doc, {
      Alias(_, alias) {
        if (alias.source === name) {
          found = alias;
          return visit.BREAK;
        }
        return undefined;
      },
    });
    return found;
  }

  private collect(value: unknown, doc: Document, node: Node | undefined, listDefaults?: Record<string, string>): void {
    if (!isPlainObject(value)) {
      this.problem(node, `expected a Kubernetes object (a mapping with apiVersion and kind), got ${describe(value)}`);
      return;
    }
    if (value.kind === 'List' && !Array.isArray(value.items)) {
      this.problem(node, 'a List must have an items array', '/items');
      return;
    }
    if (isList(value)) {
      const itemNodes = node && isMap(node) ? seqItems(doc, node.get('items', true)) : [];
      const defaults = typedListDefaults(value);
      value.items.forEach((item, index) => this.collect(item, doc, nodeAt(doc, itemNodes[index]), defaults));
      return;
    }
    this.emit(listDefaults ? { ...listDefaults, ...value } : value, doc, node);
  }

  private emit(object: Record<string, unknown>, doc: Document, node: Node | undefined): void {
    const document = this.nextDocument++;
    const start = node ? this.position(node.range?.[0]) : undefined;
    this.remember(document, node);
    this.objects.push({
      document,
      ...start,
      object,
      locate: (path) => this.position(locateOffset(doc, node, path)),
      locateInside: (path, inner) => this.positionInside(doc, node, path, inner),
    });
  }

  private problem(node: Node | null | undefined, message: string, path?: string): void {
    const document = this.nextDocument++;
    this.remember(document, node ?? undefined);
    this.problems.push({ document, ...this.position(node?.range?.[0]), ...(path ? { path } : {}), message });
  }

  private remember(document: number, node: Node | undefined): void {
    if (node?.range) this.ranges.push({ document, start: node.range[0], end: node.range[2] });
  }

  private attributeDuplicateKeys(): void {
    for (const error of this.duplicateKeys) {
      const owner = this.ranges.find((range) => range.start <= error.pos[0] && error.pos[0] <= range.end);
      this.problems.push(yamlProblem(error, owner?.document ?? 0));
    }
    this.problems.sort((a, b) => a.document - b.document || (a.line ?? 0) - (b.line ?? 0));
  }

  private position(offset: number | undefined): SourcePosition | undefined {
    if (offset === undefined) return undefined;
    const { line, col } = this.lineCounter.linePos(offset);
    return { line, column: col };
  }

  private positionInside(doc: Document, root: Node | undefined, path: readonly PathSegment[], inner: SourcePosition): SourcePosition | undefined {
    const node = nodeAtPath(doc, root, path);
    const block = isScalar(node) && (node.type === Scalar.BLOCK_LITERAL || node.type === Scalar.BLOCK_FOLDED);
    if (!block || !node.range) return this.position(locateOffset(doc, root, path));
    // A block scalar's text starts on the line after its `|`/`>` indicator, indented.
    const line = this.lineCounter.linePos(node.range[0]).line + inner.line;
    const lineStart = this.lineCounter.lineStarts[line - 1] ?? 0;
    const indent = /^ */.exec(this.text.slice(lineStart))?.[0].length ?? 0;
    return { line, column: indent + inner.column };
  }
}

function yamlProblem(error: YAMLError, document: number): IngestProblem {
  // yaml appends " at line L, column C:" and a copy of the source line; the copy could quote a
  // Secret's value, so only the description is kept.
  const description = error.message.replace(/ at line \d+, column \d+:[\s\S]*$/, '');
  const position = error.linePos?.[0];
  return {
    document,
    ...(position ? { line: position.line, column: position.col } : {}),
    message: `YAML ${error.code}: ${description}`,
  };
}

function aliasMessage(error: Error): string {
  if (/Excessive alias count/.test(error.message)) {
    return 'YAML aliases expand exponentially (resource exhaustion attack, "billion laughs"); refusing the document';
  }
  if (/Unresolved alias/.test(error.message)) {
    return `YAML ${error.message}; anchors only reach within their own --- document`;
  }
  return `YAML ${error.message}`;
}

/** Counts the values of a decoded tree against a budget, stopping as soon as it is spent. */
function spendValues(value: unknown, budget: number): number {
  let remaining = budget - 1;
  if (value !== null && typeof value === 'object') {
    for (const member of Object.values(value)) {
      if (remaining < 0) break;
      remaining = spendValues(member, remaining);
    }
  }
  return remaining;
}

type KubernetesList = Record<string, unknown> & { kind: string; items: unknown[] };

function isList(value: Record<string, unknown>): value is KubernetesList {
  return typeof value.kind === 'string' && value.kind.endsWith('List') && Array.isArray(value.items);
}

/** Items of a typed list (`ServiceList` from the API) may omit their apiVersion and kind. */
function typedListDefaults(list: KubernetesList): Record<string, string> | undefined {
  if (list.kind === 'List') return undefined;
  const defaults: Record<string, string> = { kind: list.kind.slice(0, -'List'.length) };
  if (typeof list.apiVersion === 'string') defaults.apiVersion = list.apiVersion;
  return defaults;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return `a ${typeof value} (${JSON.stringify(value).slice(0, 40)})`;
}

function nodeAt(doc: Document, node: unknown): Node | undefined {
  if (isAlias(node)) return (node.resolve(doc)) ?? node;
  return (node as Node | null | undefined) ?? undefined;
}

function seqItems(doc: Document, node: unknown): unknown[] {
  const resolved = nodeAt(doc, node);
  return isSeq(resolved) ? resolved.items : [];
}

/** The node at a path below root (aliases followed), undefined when the path leaves the source. */
function nodeAtPath(doc: Document, root: Node | undefined, path: readonly PathSegment[]): Node | undefined {
  let node = nodeAt(doc, root);
  for (const segment of path) {
    if (isMap(node)) node = nodeAt(doc, node.items.find((pair) => keyOf(pair.key) === String(segment))?.value);
    else if (isSeq(node)) node = nodeAt(doc, node.items[Number(segment)]);
    else return undefined;
  }
  return node;
}

/** Offset of the deepest member of path that exists: its key in a mapping, its item in a sequence. */
function locateOffset(doc: Document, root: Node | undefined, path: readonly PathSegment[]): number | undefined {
  let node = nodeAt(doc, root);
  let offset = node?.range?.[0];
  for (const segment of path) {
    if (isMap(node)) {
      const pair = node.items.find((item) => keyOf(item.key) === String(segment));
      if (!pair) break;
      offset = (pair.key as Node | null)?.range?.[0] ?? offset;
      node = nodeAt(doc, pair.value);
    } else if (isSeq(node)) {
      const item = nodeAt(doc, node.items[Number(segment)]);
      if (!item) break;
      offset = item.range?.[0] ?? offset;
      node = item;
    } else {
      break;
    }
  }
  return offset;
}

function keyOf(key: unknown): string | undefined {
  return isScalar(key) ? String(key.value) : undefined;
}
