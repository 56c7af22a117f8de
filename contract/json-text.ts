/**
 * Checks on a config's JSON text that JSON.parse does not make, run before
 * it: JSON.parse keeps the last of duplicate keys (one appended
 * `"virtualHosts":[]` would drop every route), decoding replaces bytes that
 * are not UTF-8 (so the text hashed would not be the bytes received), and
 * the recursive walks after it (schema check, clone) overflow the stack on
 * deep nesting. Each check is one pass, with no recursion.
 */
import { isUtf8 } from 'node:buffer';
import type { Problem } from './validate.js';

/**
 * Deepest nesting of objects and arrays in a config, the top-level object
 * counting as 1. Compiled configs nest about 7 deep (a plugin's config sits
 * at 4), so 64 leaves any plugin config ample room, and stays far below the
 * thousands of levels at which the recursive validation overflows.
 */
export const MAX_JSON_DEPTH = 64;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
/** 32-bit FNV-1a over a key's bytes: keys are compared by hash, and by text only when hashes meet. */
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
/** Objects with more keys than this also get a Set of their key hashes; fewer are searched linearly. */
const LINEAR_KEYS = 32;
/** Keys longer than this are cut short in messages (the pointer keeps them whole). */
const KEY_SHOWN = 100;

function fnv(bytes: Uint8Array): number {
  let hash = FNV_OFFSET;
  for (let i = 0; i < bytes.length; i++) hash = Math.imul(hash ^ bytes[i]!, FNV_PRIME);
  return hash;
}

/** One JSON pointer segment (RFC 6901). */
const segment = (part: string | number) => `/${String(part).replace(/~/g, '~0').replace(/\//g, '~1')}`;

const shown = (key: string) => JSON.stringify(key.length > KEY_SHOWN ? `${key.slice(0, KEY_SHOWN)}…` : key);

/**
 * The keys of every open object, on one stack: an object's keys sit above
 * its parent's, and go when it closes. Typed arrays, so a key costs no
 * allocation; an object with many keys also gets a Set of their hashes.
 */
class KeyStack {
  hashes = new Int32Array(1024);
  starts = new Int32Array(1024);
  ends = new Int32Array(1024);
  top = 0;

  push(hash: number, start: number, end: number): void {
    if (this.top === this.hashes.length) {
      const grow = (old: Int32Array) => {
        const next = new Int32Array(old.length * 2);
        next.set(old);
        return next;
      };
      this.hashes = grow(this.hashes);
      this.starts = grow(this.starts);
      this.ends = grow(this.ends);
    }
    this.hashes[this.top] = hash;
    this.starts[this.top] = start;
    this.ends[this.top] = end;
    this.top++;
  }
}

/**
 * The first duplicate key, or the first object or array nested deeper than
 * `maxDepth`, in a JSON text given as UTF-8 bytes (checked by utf8Problem
 * first): a problem whose path is the JSON pointer of the second occurrence
 * of the key, or of the container too deep. Text that is not JSON is not
 * judged here (undefined, or a problem found before the syntax error):
 * JSON.parse reports it.
 *
 * It walks bytes, not a string: a byte loop with no call per string keeps
 * it at a few milliseconds per megabyte. UTF-8 never puts a quote or a
 * backslash byte inside another character, so the walk needs no decoding;
 * only keys with escapes are decoded (to compare `"a"` and `"\u0061"`).
 */
export function jsonTextProblem(bytes: Uint8Array, maxDepth: number = MAX_JSON_DEPTH): Problem | undefined {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // Per open container, by depth - 1: whether it is an object, its keys,
  // and where the walk is in it (the index, or the key's range), for pointers.
  const isObject = new Uint8Array(maxDepth);
  const index = new Int32Array(maxDepth);
  const keyStart = new Int32Array(maxDepth);
  const keyEnd = new Int32Array(maxDepth);
  const keys = new KeyStack();
  /** Per open object: where its keys start on the stack, and the Set of their hashes once it has many. */
  const keysFrom = new Int32Array(maxDepth);
  const keySets: (Set<number> | undefined)[] = [];
  /** A key as a string; null when its escapes are not valid JSON (JSON.parse then reports it). */
  const keyText = (start: number, end: number): string | null => {
    const raw = buffer.toString('utf8', start, end);
    if (!raw.includes('\\')) return raw;
    try {
      return JSON.parse(`"${raw}"`) as string;
    } catch {
      return null;
    }
  };
  const pointer = (depth: number): string => {
    let path = '';
    for (let d = 0; d < depth; d++) {
      path += segment(isObject[d] ? (keyText(keyStart[d]!, keyEnd[d]!) ?? '') : index[d]!);
    }
    return path || '/';
  };

  /** Records the key just read in the object at depth `d` + 1: a problem when it is a duplicate. */
  const addKey = (d: number, start: number, end: number, hash: number, escaped: boolean) => {
    keyStart[d] = start;
    keyEnd[d] = end;
    if (escaped) {
      // Hashed as its unescaped spelling would be.
      const text = keyText(start, end);
      if (text === null) return null;
      hash = fnv(Buffer.from(text));
    }
    const from = keysFrom[d]!;
    const set = keySets[d];
    let seen = false;
    if (set) seen = set.has(hash);
    else for (let k = from; k < keys.top && !seen; k++) seen = keys.hashes[k] === hash;
    if (seen) {
      // Equal hashes: compare the keys themselves (a collision is not a duplicate).
      const key = keyText(start, end);
      for (let k = from; k < keys.top; k++) {
        if (keys.hashes[k] === hash && key !== null && keyText(keys.starts[k]!, keys.ends[k]!) === key) {
          return { path: pointer(d + 1), message: `duplicate key ${shown(key)}` };
        }
      }
    }
    keys.push(hash, start, end);
    if (set) set.add(hash);
    else if (keys.top - from > LINEAR_KEYS) keySets[d] = new Set(keys.hashes.subarray(from, keys.top));
    return undefined;
  };

  let depth = 0;
  let expectKey = false;
  const length = bytes.length;
  // `i` is always the next byte to read: written this way the loops run about twice as fast.
  let i = 0;
  while (i < length) {
    const c = bytes[i++]!;
    if (c === QUOTE) {
      if (!expectKey) {
        for (;;) {
          const b = bytes[i++];
          if (b === QUOTE) break;
          if (b === BACKSLASH) i++;
          if (i >= length) return undefined;
        }
        continue;
      }
      expectKey = false;
      const start = i;
      let hash = FNV_OFFSET;
      let escaped = false;
      for (;;) {
        const b = bytes[i++]!;
        if (b === QUOTE) break;
        if (b === BACKSLASH) {
          escaped = true;
          i++;
        } else hash = Math.imul(hash ^ b, FNV_PRIME);
        if (i >= length) return undefined;
      }
      const problem = addKey(depth - 1, start, i - 1, hash, escaped);
      if (problem !== undefined) return problem ?? undefined;
      continue;
    }
    if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (depth === maxDepth) {
        return { path: pointer(depth), message: `nested deeper than ${maxDepth} objects and arrays` };
      }
      const object = c === OPEN_OBJECT;
      isObject[depth] = object ? 1 : 0;
      index[depth] = 0;
      if (object) {
        keysFrom[depth] = keys.top;
        keySets[depth] = undefined;
      }
      depth++;
      expectKey = object;
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      if (depth === 0) return undefined;
      depth--;
      if (isObject[depth]) keys.top = keysFrom[depth]!;
      expectKey = false;
    } else if (c === COMMA && depth > 0) {
      if (isObject[depth - 1]) expectKey = true;
      else index[depth - 1]!++;
    }
  }
  return undefined;
}

/**
 * A problem naming the byte offset of the first sequence that is not
 * well-formed UTF-8 (Unicode table 3-7: no overlong forms, surrogates or
 * code points above U+10FFFF), or undefined. The check is native; only a
 * refused body is walked again to find the offset.
 */
export function utf8Problem(bytes: Uint8Array): Problem | undefined {
  if (isUtf8(bytes)) return undefined;
  return { path: '/', message: `not UTF-8: invalid byte sequence at byte offset ${invalidUtf8At(bytes)}` };
}

/** Offset of the first ill-formed sequence (the length when there is none). */
function invalidUtf8At(bytes: Uint8Array): number {
  const inRange = (at: number, low: number, high: number) =>
    at < bytes.length && bytes[at]! >= low && bytes[at]! <= high;
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    let size: number;
    let low = 0x80;
    let high = 0xbf;
    if (b <= 0x7f) size = 1;
    else if (b >= 0xc2 && b <= 0xdf) size = 2;
    else if (b >= 0xe0 && b <= 0xef) {
      size = 3;
      if (b === 0xe0) low = 0xa0;
      if (b === 0xed) high = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
      size = 4;
      if (b === 0xf0) low = 0x90;
      if (b === 0xf4) high = 0x8f;
    } else return i;
    // Only the second byte has a narrower range; the others are continuation bytes.
    if (size > 1 && !inRange(i + 1, low, high)) return i;
    for (let k = 2; k < size; k++) if (!inRange(i + k, 0x80, 0xbf)) return i;
    i += size;
  }
  return i;
}

/** A JSON text parsed after the checks above, or the first problem. */
export type ParsedJson = { ok: true; value: unknown } | { ok: false; problem: Problem };

/**
 * `text`, whose UTF-8 bytes are `bytes`, checked for duplicate keys and
 * depth, then parsed with `parse` (JSON.parse unless given); a parse error
 * becomes a problem at `/`.
 */
export function parseJsonText(
  bytes: Uint8Array,
  text: string,
  parse: (text: string) => unknown = JSON.parse,
): ParsedJson {
  const problem = jsonTextProblem(bytes);
  if (problem) return { ok: false, problem };
  try {
    return { ok: true, value: parse(text) };
  } catch (error) {
    return { ok: false, problem: { path: '/', message: `not JSON: ${(error as Error).message}` } };
  }
}
