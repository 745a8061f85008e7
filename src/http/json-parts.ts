// A large JSON response written in parts rather than as one string: JSON.stringify of a whole diff
// (36 MB on the bench mesh) holds the event loop for hundreds of milliseconds, and one character
// beyond Latin-1 anywhere in it (a diff's "→") makes all of it a two-byte string, slow to encode.
// In parts, each is small, most stay one-byte, and other requests are served between them.
import type { Response } from 'express';

/** How many elements of an array property go into one part. */
const ITEMS_PER_PART = 500;

/**
 * The JSON text of `value` in parts whose concatenation is JSON.stringify(value): an object's
 * array properties are written ITEMS_PER_PART elements a part, anything else whole.
 */
export function* jsonParts(value: unknown, itemsPerPart = ITEMS_PER_PART): Generator<string> {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || hasToJson(value)) {
    const text = JSON.stringify(value);
    if (text !== undefined) yield text;
    return;
  }
  let separator = '{';
  for (const [key, property] of Object.entries(value)) {
    if (!Array.isArray(property) || property.length <= itemsPerPart || hasToJson(property)) {
      const text = JSON.stringify(property);
      if (text === undefined) continue; // as JSON.stringify leaves out undefined and functions
      yield `${separator}${JSON.stringify(key)}:${text}`;
    } else {
      yield `${separator}${JSON.stringify(key)}:[`;
      for (let i = 0; i < property.length; i += itemsPerPart) {
        const slice = JSON.stringify(property.slice(i, i + itemsPerPart));
        yield (i === 0 ? '' : ',') + slice.slice(1, -1);
      }
      yield ']';
    }
    separator = ',';
  }
  yield separator === '{' ? '{}' : '}';
}

function hasToJson(value: object): boolean {
  return typeof (value as { toJSON?: unknown }).toJSON === 'function';
}

/**
 * Sends `value` as an application/json response in jsonParts, waiting for the socket to drain
 * between parts (so a slow client does not make the whole text pile up in memory); stops when the
 * client goes away.
 */
export async function sendJsonInParts(res: Response, status: number, value: unknown): Promise<void> {
  res.status(status).type('application/json; charset=utf-8');
  for (const part of jsonParts(value)) {
    if (res.destroyed) return;
    if (!res.write(part)) await drainedOrClosed(res);
  }
  res.end();
}

function drainedOrClosed(res: Response): Promise<void> {
  return new Promise((resolve) => {
    const settle = () => {
      res.off('drain', settle);
      res.off('close', settle);
      resolve();
    };
    res.on('drain', settle);
    res.on('close', settle);
  });
}
