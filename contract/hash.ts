import { createHash } from 'node:crypto';
import { stringify } from 'safe-stable-stringify';
import type { CompiledConfig } from './compiled-config.js';

/**
 * A config's hash: sha256 (hex) of its JSON text, exactly as sent. Hashing
 * the bytes instead of a key-sorted re-serialisation costs milliseconds
 * instead of most of a second on a config of 20,000 routes; the price is
 * that the same config in another key order hashes differently (one
 * redundant swap).
 */
export function configTextHash(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The hash of a config as the controller sends it: its `JSON.stringify` text. */
export function configHash(config: CompiledConfig): string {
  return configTextHash(JSON.stringify(config));
}

/** Key-sorted JSON, for comparing small values whatever their key order (objects, problems). */
export function canonicalJson(value: unknown): string {
  const text = stringify(value);
  if (text === undefined) throw new TypeError('value has no JSON form');
  return text;
}
