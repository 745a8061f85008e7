// Decoding an upload into Kubernetes objects, each with where it came from. Pure: text in,
// objects and problems out. Encodings are detected from the body (the Content-Type only
// breaks the tie for a body that could be either): multi-document YAML, a JSON object, a
// JSON array, and Kubernetes Lists (nested ones flattened).
import { Document, isAlias, isCollection, isMap, isScalar, isSeq, LineCounter, Scalar, visit, type Node, type YAMLError } from 'yaml';
import type { IngestProblem } from '../model/snapshot.js';
import {
  bracketsTooDeep,
  forEachYamlDocument,
  inspectValue,
  MAX_NESTING_DEPTH,
  MAX_OBJECT_LENGTH,
  STOP,
  type PathSegment,
  type TooDeep,
} from './bounded-yaml.js';
import { fastYamlGroups, type FastDocument, type FastRange } from './fast-yaml.js';
import { valueOverflowAt } from './json-body.js';
import { JsonSource } from './json-source.js';

export type { PathSegment } from './bounded-yaml.js';

/** RFC 6901 JSON pointer of a path. */
export function pointerOf(path: readonly PathSegment[]): string {
  return path.map((segment) => `/${String(segment).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

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

export interface DecodeResult {
  objects: DecodedObject[];
  problems: IngestProblem[];
  /** The problems `check` found of the objects, each object's as it was decoded. */
  checked: IngestProblem[];
}

/** Problems of one decoded object (validation), found as soon as it is decoded. */
export type ObjectCheck = (decoded: DecodedObject) => IngestProblem[];

/**
 * yaml's own guard against exponential alias expansion ("billion laughs"): it aborts toJS when
 * an anchor is referenced too often relative to its size. Generous: `<<: *defaults` is legit.
 */
const MAX_ALIAS_COUNT = 1000;
/**
 * A second, size-based guard: without aliases, every value and every character of a string
 * costs at least one character of source (a number may print a few times longer than it is
 * written: 1e20), so an upload cannot legitimately expand to much more than it has characters.
 * Aliases may repeat content, up to this floor.
 */
const MIN_VALUE_BUDGET = 1_000_000;
/** Problems after which decoding stops; an answer lists at most this many. */
export const MAX_PROBLEMS = 1000;
const BUDGET_PER_CHARACTER = 4;
/**
 * Most values (mappings, sequences, scalars, counted in the text before JSON.parse builds them)
 * a JSON upload may hold. JSON.parse spends about 80 bytes and 1.5 µs per value, so a 32 MiB
 * body of `[{},{},...]` (11 million values) would take a GiB and 15 s just to be parsed; this
 * keeps a maximal body's values under about 8 times its size. Real manifests hold a value per
 * 15 to 40 characters of JSON (about a million in 32 MiB), kubectl's indented output fewer.
 */
export const MAX_UPLOAD_VALUES = 2_000_000;

/**
 * `check` runs on each object as soon as it is decoded, so that decoding stops once MAX_PROBLEMS
 * problems are found, whichever finds them (a body of millions of empty objects is refused after
 * the first few hundred, not after all of them are decoded and validated). `fastYaml: false`
 * leaves every YAML document to the yaml library (tests compare the two readers).
 */
export function decodeManifests(text: string, contentType?: string, check?: ObjectCheck, { fastYaml = true } = {}): DecodeResult {
  const steps = decoding(text, contentType, check, fastYaml);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/**
 * decodeManifests, telling `decoded` the objects of each group of documents of a block YAML upload (and their
 * problems from `check`) as soon as they are decoded, the event loop let run between groups: an
 * upload's Istio objects go to the generator's admission while the rest is still decoded. A
 * step's objects may not be the result's (the fast reader given up, yaml's decoding them again).
 */
export async function decodeManifestsInSteps(
  text: string,
  contentType: string | undefined,
  check: ObjectCheck,
  decoded: (step: DecodeStep) => void,
): Promise<DecodeResult> {
  const steps = decoding(text, contentType, check, true);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    decoded(step.value);
    await new Promise(setImmediate);
  }
}

/** Objects decoded in one step, with the problems `check` found of them. */
export interface DecodeStep {
  objects: DecodedObject[];
  checked: IngestProblem[];
}

/**
 * The documents of block YAML read by js-yaml are built and checked in groups of about this many
 * characters of the text (fast-yaml.ts): a step of decodeManifestsInSteps each, some 50 Istio
 * objects of the bench upload's 2.8 MiB.
 */
const FAST_YAML_GROUP = 256 * 1024;

function* decoding(
  text: string,
  contentType: string | undefined,
  check: ObjectCheck | undefined,
  fastYaml: boolean,
): Generator<DecodeStep, DecodeResult> {
  const decoder = new Decoder(text, check);
  // Nothing to decode, whatever the type says (JSON.parse would call it a syntax error).
  if (text.trim() === '') return decoder.result();
  if (looksLikeJson(text, contentType)) {
    // Before JSON.parse, which would build (and then drop) all of a hostile body's nesting.
    const tooDeep = bracketsTooDeep(text);
    if (tooDeep) return decoder.refuseTooDeep(tooDeep);
    const overflow = valueOverflowAt(text, MAX_UPLOAD_VALUES);
    if (overflow !== undefined) return decoder.refuseTooMany(overflow);
    const json = parseJson(text);
    if ('value' in json) {
      decoder.decodeJson(json.value);
      return decoder.result();
    }
    // A YAML flow mapping also starts with `{`; only an explicit JSON type rules YAML out.
    if (isJsonType(contentType) || !parsesAsYaml(text)) {
      return { objects: [], problems: [json.problem], checked: [] };
    }
  }
  // Most uploads are block YAML js-yaml decodes (fast-yaml.ts); any other is decoded by yaml's syntax
  // tree from the start (a fast decoding given up is thrown away: `check` is pure).
  const fast = fastYaml ? new Decoder(text, check) : undefined;
  if (fast && (yield* fast.decodeFastYaml())) return fast.result();
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
  let valid = true;
  const tooDeep = forEachYamlDocument(text, new LineCounter(), {}, (doc) => {
    valid = doc.errors.length === 0;
    return valid ? undefined : STOP;
  });
  return valid && !tooDeep;
}

/** JSON.parse's verdict; a syntax error with a line and column (V8 reports a character offset). */
function parseJson(text: string): { value: unknown } | { problem: IngestProblem } {
  try {
    return { value: JSON.parse(text) as unknown };
  } catch (error) {
    const message = (error as Error).message;
    return {
      problem: {
        document: 0,
        // V8 words some errors without a position ("Unexpected token"): found again by a scan.
        ...lineAndColumn(text, jsonErrorOffset(text)),
        // V8 sometimes quotes the text around the error: it could be a Secret's value, drop it.
        message: `JSON syntax error: ${message.replace(/ in JSON at position \d+.*$/s, '').replace(/, ".*" is not valid JSON$/s, '')}`,
      },
    };
  }
}

const JSON_NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
// JSON's grammar: a string holds no raw control character.
// eslint-disable-next-line no-control-regex
const JSON_STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;

/**
 * The offset of the first JSON syntax error of a text JSON.parse refused: a scan of JSON's
 * grammar with an explicit stack (no recursion, whatever the nesting).
 */
export function jsonErrorOffset(text: string): number {
  const open: string[] = [];
  let i = 0;
  let state: 'value' | 'key' | 'after' = 'value';
  const skipSpace = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };
  const match = (pattern: RegExp) => {
    pattern.lastIndex = i;
    if (!pattern.test(text)) return false;
    i = pattern.lastIndex;
    return true;
  };
  for (;;) {
    skipSpace();
    const c = text[i];
    if (state === 'value') {
      if (c === '{' || c === '[') {
        i++;
        skipSpace();
        if (text[i] === (c === '{' ? '}' : ']')) {
          i++;
          state = 'after';
        } else {
          open.push(c);
          state = c === '{' ? 'key' : 'value';
        }
        continue;
      }
      const literal = ['true', 'false', 'null'].find((word) => text.startsWith(word, i));
      if (literal) i += literal.length;
      else if (!match(JSON_STRING) && !match(JSON_NUMBER)) return i;
      state = 'after';
    } else if (state === 'key') {
      if (!match(JSON_STRING)) return i;
      skipSpace();
      if (text[i] !== ':') return i;
      i++;
      state = 'value';
    } else {
      const container = open.at(-1);
      if (container === undefined) return i;
      if (c === ',') {
        i++;
        state = container === '{' ? 'key' : 'value';
      } else if (c === (container === '{' ? '}' : ']')) {
        i++;
        open.pop();
      } else {
        return i;
      }
    }
  }
}

function lineAndColumn(text: string, offset: number): SourcePosition {
  const before = text.slice(0, offset);
  return { line: before.split('\n').length, column: offset - before.lastIndexOf('\n') };
}

/**
 * A value of the upload's source: a node of yaml's syntax tree, or a place in a JSON text
 * (json-source.ts: a JSON body is never parsed a second time as YAML, which for a body of a
 * million small values took tens of seconds and hundreds of MiB).
 */
interface SourceNode {
  /** Offsets of the value's first character and just past its last. */
  readonly range: { start: number; end: number } | undefined;
  child(segment: PathSegment): SourceNode | undefined;
  /** Offset of the deepest member of path that exists: its key in a mapping, its item in a sequence. */
  locate(path: readonly PathSegment[]): number | undefined;
  /** The offset of the block scalar (`|`, `>`) at path, whose text starts on its next line; undefined for any other value. */
  blockScalar(path: readonly PathSegment[]): number | undefined;
}

function yamlNode(doc: Document, node: unknown): SourceNode | undefined {
  const resolved = nodeAt(doc, node);
  if (!resolved) return undefined;
  return {
    range: resolved.range ? { start: resolved.range[0], end: resolved.range[2] } : undefined,
    child(segment) {
      if (isMap(resolved)) return yamlNode(doc, resolved.items.find((pair) => keyOf(pair.key) === String(segment))?.value);
      if (isSeq(resolved)) return yamlNode(doc, resolved.items[Number(segment)]);
      return undefined;
    },
    locate: (path) => locateOffset(doc, resolved, path),
    blockScalar(path) {
      const inner = nodeAtPath(doc, resolved, path);
      const block = isScalar(inner) && (inner.type === Scalar.BLOCK_LITERAL || inner.type === Scalar.BLOCK_FOLDED);
      return block ? inner.range?.[0] : undefined;
    },
  };
}

function jsonNode(source: JsonSource, offset: number | undefined): SourceNode | undefined {
  if (offset === undefined) return undefined;
  let range: { start: number; end: number } | undefined;
  return {
    get range() {
      return (range ??= { start: offset, end: source.end(offset) });
    },
    child: (segment) => jsonNode(source, source.child(offset, segment)),
    locate: (path) => source.locate(offset, path),
    blockScalar: () => undefined,
  };
}

class Decoder {
  private readonly lineCounter = new LineCounter();
  private readonly objects: DecodedObject[] = [];
  private readonly problems: IngestProblem[] = [];
  /** Duplicate keys do not stop decoding; they are attributed to the object that holds them. */
  private readonly duplicateKeys: YAMLError[] = [];
  /** Those of a JSON text, by offset. */
  private duplicateKeyOffsets: number[] = [];
  private readonly ranges: { document: number; start: number; end: number }[] = [];
  private readonly checked: IngestProblem[] = [];
  private nextDocument = 0;
  private valueBudget: number;
  /** Set when decoding stopped at MAX_PROBLEMS: the offset past the last object decoded. */
  private stoppedAt: number | undefined;

  constructor(
    private readonly text: string,
    private readonly check?: ObjectCheck,
  ) {
    this.valueBudget = Math.max(MIN_VALUE_BUDGET, BUDGET_PER_CHARACTER * text.length);
  }

  /** Enough problems to refuse the upload and show what is wrong: decoding the rest would only cost memory. */
  private full(): boolean {
    const full = this.problems.length + this.checked.length > MAX_PROBLEMS;
    if (full && this.stoppedAt === undefined) this.stoppedAt = Math.max(0, ...this.ranges.slice(-1).map((range) => range.end));
    return full;
  }

  result(): DecodeResult {
    this.attributeDuplicateKeys();
    return { objects: this.objects, problems: this.problems, checked: this.checked };
  }

  /** Found before any parse: the position is counted from the text. */
  refuseTooMany(offset: number): DecodeResult {
    this.problems.push({
      document: this.nextDocument++,
      ...lineAndColumn(this.text, offset),
      message: `JSON upload holds more than ${MAX_UPLOAD_VALUES} values (mappings, sequences and scalars); refusing it from here`,
    });
    return this.result();
  }

  /**
   * The value is JSON.parse's; its positions are found in the text only where a problem is
   * (json-source.ts), and the duplicate keys JSON.parse dropped by one pass over it.
   */
  decodeJson(value: unknown): void {
    const source = new JsonSource(this.text);
    this.lineCounter.addNewLine(0);
    for (let newline = this.text.indexOf('\n'); newline >= 0; newline = this.text.indexOf('\n', newline + 1)) {
      this.lineCounter.addNewLine(newline + 1);
    }
    // Only the first ones are ever listed (attributeDuplicateKeys).
    this.duplicateKeyOffsets = source.duplicateKeys(MAX_PROBLEMS);
    const root = jsonNode(source, source.root());
    // `null` is an empty document, as in YAML.
    if (value === null || !this.inspect(value, root)) return;
    if (Array.isArray(value)) {
      for (let index = 0; index < value.length && !this.full(); index++) this.collect(value[index], root?.child(index));
    } else {
      this.collect(value, root);
    }
  }

  /**
   * The documents js-yaml decodes (fast-yaml.ts); one it declines is read by yaml alone.
   * Positions are looked up in yaml's syntax tree of a document only when a problem of it is
   * reported. False (nothing to keep) when yaml finds an error in a document, whose problems
   * are then told as decodeYaml tells them.
   */
  *decodeFastYaml(): Generator<DecodeStep, boolean> {
    const fast = fastYamlGroups(this.text, FAST_YAML_GROUP);
    if (!fast) return false;
    this.lineCounter.addNewLine(0);
    for (let newline = this.text.indexOf('\n'); newline >= 0; newline = this.text.indexOf('\n', newline + 1)) {
      this.lineCounter.addNewLine(newline + 1);
    }
    for (const group of fast.groups) {
      if (this.full()) break;
      const decoded = this.objects.length;
      const checked = this.checked.length;
      if (!this.decodeFastDocuments(group(), fast.documents === 1)) return false;
      yield { objects: this.objects.slice(decoded), checked: this.checked.slice(checked) };
    }
    return true;
  }

  /** False when a document declined by js-yaml is not worth yaml's reading (`alone`: the text's only one) or yaml finds an error in it. */
  private decodeFastDocuments(documents: FastDocument[], alone: boolean): boolean {
    for (const document of documents) {
      if (this.full()) break;
      const syntax = once(() => this.syntaxOf(document));
      let value = document.value;
      let root: SourceNode | undefined;
      if (document.declined) {
        // Not worth reading twice: a large declined document goes to decodeYaml straight away.
        if (alone || document.end - document.start > MAX_DECLINED_DOCUMENT) return false;
        const parsed = syntax();
        if (!parsed) return false;
        ({ value } = parsed);
        root = parsed.root;
      } else {
        root = fastNode(
          () => syntax()?.root,
          document.root,
          document.items && listChildren(document.items, () => syntax()?.root?.child('items')),
        );
      }
      // An empty document (comments only, `---` at the start or the end).
      if (value === null) continue;
      if (!this.inspect(value, root)) continue;
      if (Array.isArray(value)) {
        this.problem(root, NOT_A_LIST);
        continue;
      }
      this.collect(value, root);
    }
    return true;
  }

  /**
   * yaml's syntax tree of one document of the text, its nodes' offsets those of the text;
   * undefined when yaml finds an error in it (or a key decodeYaml refuses, or aliases it refuses).
   */
  private syntaxOf({ start, end }: FastDocument): { value: unknown; root: SourceNode | undefined } | undefined {
    const documents: Document.Parsed[] = [];
    const tooDeep = forEachYamlDocument(this.text.slice(start, end), new LineCounter(), { merge: true }, (doc) => void documents.push(doc));
    const [doc] = documents;
    if (tooDeep || documents.length !== 1 || doc.errors.length > 0 || complexKeys(doc).length > 0) return undefined;
    try {
      const value: unknown = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
      return { value: value ?? null, root: shifted(yamlNode(doc, doc.contents), start) };
    } catch {
      return undefined;
    }
  }

  decodeYaml(): void {
    const tooDeep = forEachYamlDocument(this.text, this.lineCounter, { merge: true }, (doc) => {
      this.decodeYamlDocument(doc);
      return this.full() ? STOP : undefined;
    });
    if (tooDeep) this.tooDeep(this.position(tooDeep.offset));
  }

  /** Found before any parse (the line counter knows no line yet): the position is counted from the text. */
  refuseTooDeep({ offset }: TooDeep): DecodeResult {
    this.tooDeep(lineAndColumn(this.text, offset));
    return this.result();
  }

  /** Parsing stopped there: the rest of the upload is not read. */
  private tooDeep(position: SourcePosition | undefined): void {
    this.problems.push({
      document: this.nextDocument++,
      ...position,
      message: `mappings and sequences nested deeper than ${MAX_NESTING_DEPTH} levels (the API server stops at 10000, meshlens at ${MAX_NESTING_DEPTH}); refusing the upload from here`,
    });
  }

  private decodeYamlDocument(doc: Document.Parsed): void {
    const fatal = doc.errors.filter((error) => error.code !== 'DUPLICATE_KEY');
    if (fatal.length > 0) {
      const document = this.nextDocument++;
      for (const error of fatal) this.problems.push(this.yamlProblem(error, document));
      return;
    }
    this.duplicateKeys.push(...doc.errors);
    if (!this.checkKeys(doc)) return;
    const value = this.toJS(doc);
    // undefined: refused (reported); null: an empty document (`---` at start or end, comments only)
    if (value === undefined || value === null) return;
    if (Array.isArray(value)) {
      this.problem(yamlNode(doc, doc.contents), NOT_A_LIST);
      return;
    }
    this.collect(value, yamlNode(doc, doc.contents));
  }

  /** doc.toJS with both expansion guards; undefined (problem reported) when refused. */
  private toJS(doc: Document.Parsed): unknown {
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
    } catch (error) {
      this.problem(yamlNode(doc, this.aliasNode(doc, error as Error) ?? doc.contents), aliasMessage(error as Error));
      return undefined;
    }
    return this.inspect(value, yamlNode(doc, doc.contents)) ? value : undefined;
  }

  /**
   * A decoded document's values, checked before anything recurses over them (bounded-yaml.ts).
   * Its problems share one document index, each located by its path from the document's root.
   */
  private inspect(value: unknown, root: SourceNode | undefined): boolean {
    const { problems, budget } = inspectValue(value, this.valueBudget);
    this.valueBudget = budget;
    if (budget < 0) {
      this.problem(root, 'document expands (through aliases) to more values than the upload may hold; refusing it');
      return false;
    }
    if (problems.length === 0) return true;
    const document = this.nextDocument++;
    this.remember(document, root);
    for (const { path, message } of problems) {
      this.problems.push({
        document,
        ...this.position(root?.locate(path)),
        path: pointerOf(path),
        message,
      });
    }
    return false;
  }

  /**
   * Kubernetes objects have string keys: a mapping or sequence as a key (`? [a, b]`) would be
   * stringified by yaml, an object no API server would have stored.
   */
  private checkKeys(doc: Document.Parsed): boolean {
    const keys = complexKeys(doc);
    if (keys.length === 0) return true;
    const document = this.nextDocument++;
    this.remember(document, yamlNode(doc, doc.contents));
    for (const key of keys) {
      this.problems.push({
        document,
        ...this.position(key.range?.[0]),
        message: 'YAML complex key (a mapping or sequence used as a key): Kubernetes objects only have string keys',
      });
    }
    return false;
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

  private collect(value: unknown, node: SourceNode | undefined, listDefaults?: Record<string, string>): void {
    if (!isPlainObject(value)) {
      this.problem(node, `expected a Kubernetes object (a mapping with apiVersion and kind), got ${describe(value)}`);
      return;
    }
    if (value.kind === 'List' && !Array.isArray(value.items)) {
      this.problem(node, 'a List must have an items array', '/items');
      return;
    }
    if (isList(value)) {
      const items = node?.child('items');
      const defaults = typedListDefaults(value);
      for (let index = 0; index < value.items.length && !this.full(); index++) {
        this.collect(value.items[index], items?.child(index), defaults);
      }
      return;
    }
    this.emit(listDefaults ? { ...listDefaults, ...value } : value, node);
  }

  private emit(object: Record<string, unknown>, node: SourceNode | undefined): void {
    const range = node?.range;
    if (range && range.end - range.start > MAX_OBJECT_LENGTH) {
      const length = range.end - range.start;
      this.problem(
        node,
        `object of ${length} characters, over the limit of ${MAX_OBJECT_LENGTH} (the API server's request body limit is 3 MiB)`,
      );
      return;
    }
    const document = this.nextDocument++;
    const start = node ? this.position(range?.start) : undefined;
    this.remember(document, node);
    const decoded: DecodedObject = {
      document,
      ...start,
      object,
      locate: (path) => this.position(node?.locate(path)),
      locateInside: (path, inner) => this.positionInside(node, path, inner),
    };
    this.objects.push(decoded);
    if (this.check) this.checked.push(...this.check(decoded));
  }

  private problem(node: SourceNode | undefined, message: string, path?: string): void {
    const document = this.nextDocument++;
    this.remember(document, node);
    this.problems.push({ document, ...this.position(node?.range?.start), ...(path ? { path } : {}), message });
  }

  private remember(document: number, node: SourceNode | undefined): void {
    const range = node?.range;
    if (range) this.ranges.push({ document, ...range });
  }

  private yamlProblem(error: YAMLError, document: number): IngestProblem {
    // yaml appends " at line L, column C:" and a copy of the source line to pretty errors; the
    // copy could quote a Secret's value, so only the description is kept.
    const description = error.message.replace(/ at line \d+, column \d+:[\s\S]*$/, '');
    return { document, ...this.position(error.pos[0]), message: `YAML ${error.code}: ${description}` };
  }

  private attributeDuplicateKeys(): void {
    const owner = (offset: number) => this.ranges.find((range) => range.start <= offset && offset <= range.end)?.document ?? 0;
    for (const error of this.duplicateKeys) this.problems.push(this.yamlProblem(error, owner(error.pos[0])));
    // The words yaml uses for the same problem in YAML (JSON is YAML).
    // Past where decoding stopped, a key belongs to no object decoded, and its problem would
    // come after the first MAX_PROBLEMS anyway.
    const stoppedAt = this.stoppedAt ?? Infinity;
    for (const offset of this.duplicateKeyOffsets.slice(0, MAX_PROBLEMS).filter((at) => at <= stoppedAt)) {
      this.problems.push({ document: owner(offset), ...this.position(offset), message: 'YAML DUPLICATE_KEY: Map keys must be unique' });
    }
    this.problems.sort((a, b) => a.document - b.document || (a.line ?? 0) - (b.line ?? 0));
  }

  private position(offset: number | undefined): SourcePosition | undefined {
    if (offset === undefined) return undefined;
    const { line, col } = this.lineCounter.linePos(offset);
    return { line, column: col };
  }

  private positionInside(root: SourceNode | undefined, path: readonly PathSegment[], inner: SourcePosition): SourcePosition | undefined {
    const block = root?.blockScalar(path);
    if (block === undefined) return this.position(root?.locate(path));
    // A block scalar's text starts on the line after its `|`/`>` indicator, indented.
    const line = this.lineCounter.linePos(block).line + inner.line;
    const lineStart = this.lineCounter.lineStarts[line - 1] ?? 0;
    const indent = /^ */.exec(this.text.slice(lineStart))?.[0].length ?? 0;
    return { line, column: indent + inner.column };
  }
}

/** Keys that are mappings or sequences (`? [a, b]`). */
function complexKeys(doc: Document.Parsed): Node[] {
  const keys: Node[] = [];
  visit(doc, {
    Pair(_, pair) {
      const key = nodeAt(doc, pair.key);
      if (isCollection(key)) keys.push(pair.key as Node);
    },
  });
  return keys;
}

const NOT_A_LIST = 'a YAML document must be one object (a mapping with apiVersion and kind), not a list; use kind: List with items';

/**
 * A declined document larger than this ends the fast decoding at once: were yaml to find an
 * error in it, the whole upload would be parsed again (decodeYaml), and a hostile body is one
 * large document. Kubernetes objects are far smaller (the API server's 3 MiB is an outlier).
 */
const MAX_DECLINED_DOCUMENT = 256 * 1024;

function once<T>(make: () => T): () => T {
  let made: { value: T } | undefined;
  return () => (made ??= { value: make() }).value;
}

/**
 * A value js-yaml decoded: its range when fast-yaml.ts knows it (a document's root
 * mapping, a List's items), anything else from yaml's syntax tree of its document (`syntax`),
 * only parsed when asked, when a problem is located.
 */
function fastNode(
  syntax: () => SourceNode | undefined,
  range?: FastRange,
  child?: (segment: PathSegment) => SourceNode | undefined,
): SourceNode {
  return {
    get range() {
      return range ?? syntax()?.range;
    },
    child: (segment) => child?.(segment) ?? fastNode(() => syntax()?.child(segment)),
    locate: (path) => syntax()?.locate(path),
    blockScalar: (path) => syntax()?.blockScalar(path),
  };
}

/** The `items` of a List js-yaml decoded, each item's range known when it is a mapping. */
function listChildren(
  items: (FastRange | undefined)[],
  syntax: () => SourceNode | undefined,
): (segment: PathSegment) => SourceNode | undefined {
  return (segment) =>
    segment === 'items'
      ? fastNode(syntax, undefined, (index) => {
          const range = items[Number(index)];
          return range && fastNode(() => syntax()?.child(index), range);
        })
      : undefined;
}

/** A node of yaml's syntax tree of a slice of the text that starts at `by`, with the text's offsets. */
function shifted(node: SourceNode | undefined, by: number): SourceNode | undefined {
  if (!node) return undefined;
  const shift = (offset: number | undefined) => (offset === undefined ? undefined : offset + by);
  return {
    get range() {
      const range = node.range;
      return range && { start: range.start + by, end: range.end + by };
    },
    child: (segment) => shifted(node.child(segment), by),
    locate: (path) => shift(node.locate(path)),
    blockScalar: (path) => shift(node.blockScalar(path)),
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
  if (isAlias(node)) return node.resolve(doc) ?? node;
  return (node as Node | null | undefined) ?? undefined;
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
