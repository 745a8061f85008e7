// YAML (and JSON, which is YAML) parsed under bounds, and decoded values checked without
// recursion: what an upload may hold before any code that recurses over it runs. Pure.
import { Composer, Lexer, Parser, type Document, type LineCounter } from 'yaml';

/**
 * Deepest nesting of mappings and sequences accepted. The API server refuses JSON and YAML
 * nested deeper than 10000 (sigs.k8s.io/json's scanner `maxNestingDepth`, go-yaml's
 * `max_flow_level` and `max_indents`, apimachinery util/json `maxDepth`). meshlens stays well
 * under it: objects are handed to Istio inside a request (Go's encoding/json also stops at
 * 10000, counting the request's own levels) and walked by recursive code (yaml's composer,
 * Postgres's jsonb parser). Real manifests nest less than 30 levels.
 */
export const MAX_NESTING_DEPTH = 1000;
/**
 * Longest string (characters). The API server refuses a ConfigMap or Secret whose data exceeds
 * 1 MiB (`MaxSecretSize`, the ConfigMap data limit); no single value of an object is larger.
 */
export const MAX_STRING_LENGTH = 1024 * 1024;
/**
 * Largest single object, as characters of its source. The API server refuses request bodies
 * over 3 MiB (k8s.io/apiserver `MaxRequestBodyBytes`), which is one object per `kubectl apply`.
 */
export const MAX_OBJECT_LENGTH = 3 * 1024 * 1024;

export type PathSegment = string | number;

/** Nesting deeper than MAX_NESTING_DEPTH, found at `offset` of the text. */
export interface TooDeep {
  offset: number;
}

class NestingTooDeep extends Error {
  constructor(readonly offset: number) {
    super('nesting too deep');
  }
}

/** Returned by a document callback: stop parsing (the rest of the text is not read). */
export const STOP = Symbol('stop');

/**
 * parseAllDocuments, one document at a time (a document no one keeps is garbage at once), with
 * the nesting depth checked after every lexeme: yaml's lexer and parser are iterative (the
 * parser's stack holds the open collections), its composer is not. Nesting past the bound stops
 * parsing there, before the composer recurses into it; returns where.
 */
export function forEachYamlDocument(
  text: string,
  lineCounter: LineCounter,
  options: { merge?: boolean },
  onDocument: (doc: Document.Parsed) => typeof STOP | void,
): TooDeep | undefined {
  const parser = new Parser(lineCounter.addNewLine);
  // logLevel 'error': yaml would print warnings with process.emitWarning; what it warns about
  // (collection keys) is refused as a problem instead.
  const composer = new Composer({ ...options, uniqueKeys: true, logLevel: 'error' });
  lineCounter.addNewLine(0);
  function* tokens() {
    for (const lexeme of new Lexer().lex(text)) {
      yield* parser.next(lexeme);
      // The stack holds the document, then one entry per open collection.
      if (parser.stack.length > MAX_NESTING_DEPTH + 1) throw new NestingTooDeep(parser.offset);
    }
    yield* parser.end();
  }
  try {
    for (const doc of composer.compose(tokens())) if (onDocument(doc) === STOP) return undefined;
  } catch (error) {
    if (error instanceof NestingTooDeep) return { offset: error.offset };
    throw error;
  }
  return undefined;
}

/** All documents of a text (a few: a mesh config, a JSON upload's positions). */
export function yamlDocuments(text: string, lineCounter: LineCounter): { documents: Document.Parsed[]; tooDeep?: TooDeep } {
  const documents: Document.Parsed[] = [];
  const tooDeep = forEachYamlDocument(text, lineCounter, {}, (doc) => void documents.push(doc));
  return tooDeep ? { documents, tooDeep } : { documents };
}

/**
 * Where `[` and `{` outside strings first nest deeper than MAX_NESTING_DEPTH in a text that
 * looks like JSON; one linear pass, stopping there. (A YAML flow collection is the same.)
 */
export function bracketsTooDeep(text: string): TooDeep | undefined {
  let depth = 0;
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"') {
      quote = c;
    } else if (c === '[' || c === '{') {
      if (++depth > MAX_NESTING_DEPTH) return { offset: i };
    } else if (c === ']' || c === '}') {
      depth--;
    }
  }
  return undefined;
}

export interface ValueProblem {
  path: PathSegment[];
  message: string;
}

export interface Inspection {
  problems: ValueProblem[];
  /** What is left of the budget; negative: the value is larger than the upload may hold. */
  budget: number;
}

/** Problems reported per value before the rest is only counted: a body of a million bad strings is refused in a readable answer. */
export const MAX_VALUE_PROBLEMS = 100;

/**
 * Walks a decoded value depth first with an explicit stack: circular values (an alias inside
 * its own anchor), nesting deeper than MAX_NESTING_DEPTH (aliases can nest an anchor inside
 * another), strings the API server could not store (NUL, lone UTF-16 surrogates: refused, never
 * altered) or longer than MAX_STRING_LENGTH, in keys and values. Every value costs 1, a string
 * its length, against `budget`; the walk stops when it is spent.
 */
export function inspectValue(root: unknown, budget: number): Inspection {
  const problems: ValueProblem[] = [];
  const report = (path: Path | undefined, message: string) => {
    if (problems.length < MAX_VALUE_PROBLEMS) problems.push({ path: segmentsOf(path), message });
  };
  // Containers on the current path (a circular value comes back to one of them).
  const open = new Set<object>();
  // A value to visit is its own path; a container's members are made one at a time by its
  // cursor (the stack holds a cursor per open container, not every member of a long array).
  const stack: (Path | Leave | Cursor)[] = [{ value: root, parent: undefined, segment: '', depth: 0 }];
  while (stack.length > 0 && budget >= 0) {
    const entry = stack.pop()!;
    if ('leave' in entry) {
      open.delete(entry.leave);
      continue;
    }
    if ('next' in entry) {
      const { container, keys, parent, depth } = entry;
      const index = entry.next++;
      if (index + 1 < (keys ?? (container as unknown[])).length) stack.push(entry);
      const segment = keys ? keys[index] : index;
      stack.push({ value: (container as Record<PathSegment, unknown>)[segment], parent, segment, depth });
      continue;
    }
    const { value } = entry;
    const path = entry.depth === 0 ? undefined : entry;
    budget -= 1;
    if (typeof value === 'string') {
      budget -= value.length;
      const problem = stringProblem(value);
      if (problem) report(path, problem);
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    if (open.has(value)) {
      report(path, 'YAML alias inside its own anchor: the value contains itself (a circular value); a Kubernetes object is a tree');
      continue;
    }
    if (entry.depth >= MAX_NESTING_DEPTH) {
      report(path, `nested deeper than ${MAX_NESTING_DEPTH} levels (aliases included); refusing the value`);
      continue;
    }
    const depth = entry.depth + 1;
    if (Array.isArray(value)) {
      if (value.length === 0) continue;
      open.add(value);
      stack.push({ leave: value }, { container: value, next: 0, parent: path, depth });
      continue;
    }
    const keys = Object.keys(value);
    if (keys.length === 0) continue;
    open.add(value);
    stack.push({ leave: value }, { container: value, keys, next: 0, parent: path, depth });
    // Keys are checked when their container is entered, last first (the order problems are listed in).
    for (let i = keys.length - 1; i >= 0; i--) {
      const key = keys[i];
      budget -= key.length;
      const problem = stringProblem(key);
      if (problem) report({ value: (value as Record<string, unknown>)[key], parent: path, segment: key, depth }, `key: ${problem}`);
    }
  }
  return { problems, budget };
}

/** A value and its path, as a linked list from the leaf: a step costs one object, not a copy of the path. */
interface Path {
  value: unknown;
  parent: Path | undefined;
  segment: PathSegment;
  /** Of the value: the root is 0. */
  depth: number;
}

/** The members of a container still to visit: the next is made when the cursor is popped. */
interface Cursor {
  container: object;
  /** An object's keys; undefined for an array. */
  keys?: string[];
  next: number;
  /** The container's path, the members' parent. */
  parent: Path | undefined;
  /** Of the members. */
  depth: number;
}

/** Visited after a container's members: it is no longer on the path. */
interface Leave {
  leave: object;
}

function segmentsOf(path: Path | undefined): PathSegment[] {
  const segments: PathSegment[] = [];
  for (let step = path; step; step = step.parent) segments.push(step.segment);
  return segments.reverse();
}

// A lone surrogate: a high one not followed by a low one, or a low one not preceded by a high one.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why a string cannot be stored (NUL, a lone surrogate) or is too long; undefined when it can. */
export function stringProblem(value: string): string | undefined {
  if (value.length > MAX_STRING_LENGTH) return `string of ${value.length} characters, over the limit of ${MAX_STRING_LENGTH}`;
  const nul = value.indexOf('\0');
  if (nul >= 0) return `string contains a NUL character (at character ${nul + 1}), which cannot be stored`;
  const surrogate = LONE_SURROGATE.exec(value);
  if (surrogate) {
    const code = surrogate[0].charCodeAt(0).toString(16).toUpperCase();
    return `string contains a lone UTF-16 surrogate \\u${code} (at character ${surrogate.index + 1}), which is not Unicode text and cannot be stored`;
  }
  return undefined;
}
