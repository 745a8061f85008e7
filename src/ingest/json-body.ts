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
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    // V8 may quote the text around the error: it could be a secret, drop it.
    return {
      error: `JSON syntax error: ${(error as Error).message.replace(/ in JSON at position \d+.*$/s, '').replace(/, ".*" is not valid JSON$/s, '')}`,
    };
  }
  let count = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const next = stack.pop();
    if (++count > MAX_JSON_BODY_VALUES) return { error: `JSON body holds more than ${MAX_JSON_BODY_VALUES} values` };
    if (next !== null && typeof next === 'object') stack.push(...(Array.isArray(next) ? next : Object.values(next)));
  }
  return { value };
}
