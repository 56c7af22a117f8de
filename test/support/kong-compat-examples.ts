/**
 * Kong's openid-connect example configurations (test/fixtures/kong-compat/)
 * and the outcome docs/kong-compatibility.md promises for each, read from
 * its table "Kong's example configurations". Shared by the translate check
 * (test/controller/) and the end-to-end runs (test/e2e/).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { KongPlugin } from '../../controller/translate/k8s-types.js';

export const EXAMPLES_DIR = join(import.meta.dirname, '../fixtures/kong-compat/openid-connect');
export const COMPAT_DOC = readFileSync(join(import.meta.dirname, '../../docs/kong-compatibility.md'), 'utf8');

export type Expected = { translates: true } | { translates: false; fields: string[] };

/** The example files, by name. */
export function exampleFiles(): string[] {
  return readdirSync(EXAMPLES_DIR).filter((f) => f.endsWith('.yaml'));
}

/** The table's rows: file name → outcome. */
export function exampleTable(): Map<string, Expected> {
  const section = COMPAT_DOC.split("### Kong's example configurations")[1]?.split('\n## ')[0] ?? '';
  const rows = new Map<string, Expected>();
  for (const line of section.split('\n')) {
    const match = /^\| `([a-z0-9-]+\.yaml)` +\| ([^|]+)\|/.exec(line);
    if (!match) continue;
    const outcome = match[2]!.trim();
    rows.set(
      match[1]!,
      outcome === 'translates'
        ? { translates: true }
        : { translates: false, fields: [...outcome.matchAll(/`([a-z_0-9]+)`/g)].map((m) => m[1]!) },
    );
  }
  return rows;
}

/** The example's KongPlugin, as Kong wrote it. */
export function loadExample(file: string): KongPlugin {
  return parseAllDocuments(readFileSync(join(EXAMPLES_DIR, file), 'utf8'))[0]!.toJS() as KongPlugin;
}

/** Every string in `value` passed through `fn` (objects and arrays copied). */
export function mapStrings(
  value: unknown,
  fn: (s: string, key: string | undefined) => string,
  key?: string,
): unknown {
  if (typeof value === 'string') return fn(value, key);
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, fn, key));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v, fn, k)]));
  }
  return value;
}
