// A JSON request body (GraphQL, journey) decoded under bounds, off the event loop for a large one
// (the ingest threads run it): JSON.parse of a body of millions of tiny values takes seconds, and
// handing those values back to the event loop would take as long again. Pure.
import { bracketsTooDeep, MAX_NESTING_DEPTH } from './bounded-yaml.js';

/**
 * Most values (containers, numbers, strings, ...) a JSON request body may hold: a GraphQL query's
 * variables or a journey request are a few hundred; a manifest upload through GraphQL is one
 * string, however long.
 */
export const MAX_JSON_BODY_VALUES = 100_000;

export type JsonBody = { value: unknown } | { error: string };

export function parseJsonBody(text: string): JsonBody {
  if (bracketsTooDeep(text)) return { error: `JSON body nested deeper than ${MAX_NESTING_DEPTH} levels` };
  // Counted in the text before JSON.parse, which would build every value first.
  if (valuesOver(text, MAX_JSON_BODY_VALUES)) return { error: `JSON body holds more than ${MAX_JSON_BODY_VALUES} values` };
  try {
    return { value: JSON.parse(text) as unknown };
  } catch (error) {
    // V8 may quote the text around the error: it could be a secret, drop it.
    const message = (error as Error).message.replace(/ in JSON at position \d+.*$/s, '').replace(/, ".*" is not valid JSON$/s, '');
    return { error: `JSON syntax error: ${message}` };
  }
}

/** Whether a JSON text holds more than `max` values (valueOverflowAt). */
function valuesOver(text: string, max: number): boolean {
  return valueOverflowAt(text, max) !== undefined;
}

/**
 * The offset at which a JSON text comes to hold more than `max` values, undefined when it holds
 * no more: each value but the first follows a `,`, a `[` or a `:` outside strings (a `[` counts
 * one too many for an empty array: an upper bound). One pass, no allocation.
 */
export function valueOverflowAt(text: string, max: number): number | undefined {
  let count = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      for (i++; i < text.length && text.charCodeAt(i) !== QUOTE; i++) if (text.charCodeAt(i) === BACKSLASH) i++;
    } else if ((c === COMMA || c === OPEN_BRACKET || c === COLON) && ++count > max) {
      return i;
    }
  }
  return undefined;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_BRACKET = 0x5b;
const COLON = 0x3a;
