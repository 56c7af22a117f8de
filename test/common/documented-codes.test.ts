/**
 * Every code a user can meet is explained in docs/troubleshooting.md: each
 * code of the two catalogs (errors, translate problems) has a table row of
 * its own there, with its meaning and what to do, and every code a row names
 * is one the catalogs still have.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERRORS } from '../../common/errors.js';
import { PROBLEM_CODES } from '../../controller/translate/problem-codes.js';

const DOC = readFileSync(join(import.meta.dirname, '..', '..', 'docs', 'troubleshooting.md'), 'utf8');

/** Table rows as cells, keyed by the code in backticks that the row is about (its first code cell). */
function rowsByCode(markdown: string): Map<string, string[]> {
  const rows = new Map<string, string[]>();
  for (const line of markdown.split('\n')) {
    if (!line.startsWith('|') || /^\|[\s-|]+\|$/.test(line)) continue;
    const cells = line
      .slice(1, -1)
      .split('|')
      .map((c) => c.trim());
    const index = cells.findIndex((c) => /^`[A-Z][A-Z0-9_]+`$/.test(c));
    if (index >= 0) rows.set(cells[index]!.slice(1, -1), cells.slice(index + 1));
  }
  return rows;
}

const rows = rowsByCode(DOC);
const catalog = [...Object.keys(ERRORS), ...Object.keys(PROBLEM_CODES)];

describe('docs/troubleshooting.md', () => {
  it.each(catalog)('explains %s: a row with its meaning and what to do', (code) => {
    const cells = rows.get(code);
    expect(cells, `add a row for \`${code}\` to docs/troubleshooting.md`).toBeDefined();
    // Meaning and fix: at least two cells of words after the code (an Effect column may sit between).
    expect(cells!.filter((c) => c.split(/\s+/).length >= 3).length, code).toBeGreaterThanOrEqual(2);
  });

  it('names no code that the catalogs do not have', () => {
    expect([...rows.keys()].filter((code) => !catalog.includes(code))).toEqual([]);
  });
});

describe('the row finder', () => {
  it('sees a code row, skips separators and rows without a code', () => {
    const found = rowsByCode(
      '| Code | Meaning | Fix |\n| --- | --- | --- |\n| `A_B` | what it means here | what to do then |\n| x | `lower` | y |\n',
    );
    expect([...found.entries()]).toEqual([['A_B', ['what it means here', 'what to do then']]]);
  });
});
