import { createHash } from 'node:crypto';
import { stringify } from 'safe-stable-stringify';
import type { CompiledConfig } from './compiled-config.js';

/** sha256 over a key-sorted serialisation: equal configs hash equally, whatever their key order. */
export function configHash(config: CompiledConfig): string {
  return createHash('sha256').update(canonicalJson(config)).digest('hex');
}

export function canonicalJson(value: unknown): string {
  const text = stringify(value);
  if (text === undefined) throw new TypeError('value has no JSON form');
  return text;
}
