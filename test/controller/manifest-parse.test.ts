/** parseManifest: one file's text to values, or why not (table). */
import { describe, expect, it } from 'vitest';
import { parseManifest, type ParsedManifest } from '../../controller/sources/manifest-parse.js';

const BOMB =
  'a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n';

const cases: {
  name: string;
  text: string;
  maxDocuments?: number;
  expected: Partial<ParsedManifest> & Record<string, unknown>;
}[] = [
  { name: 'one document', text: 'kind: Service\n', expected: { ok: true, values: [{ kind: 'Service' }] } },
  {
    name: 'several documents',
    text: 'a: 1\n---\nb: 2\n',
    expected: { ok: true, values: [{ a: 1 }, { b: 2 }] },
  },
  { name: 'an empty file is one empty document', text: '', expected: { ok: true, values: [null] } },
  {
    name: 'JSON',
    text: '{"kind": "List", "items": []}',
    expected: { ok: true, values: [{ kind: 'List', items: [] }] },
  },
  {
    name: 'a syntax error, with line and column',
    text: 'a: 1\n---\nmetadata: {name: [\n',
    expected: { ok: false, code: 'MANIFEST_INVALID', line: 4, column: 1 },
  },
  {
    name: 'an alias bomb, at its document (its --- line)',
    text: 'x: 1\n---\n' + BOMB,
    expected: {
      ok: false,
      code: 'MANIFEST_INVALID',
      line: 2,
      column: 1,
      reason: expect.stringMatching(/alias/i),
    },
  },
  {
    name: 'more documents than allowed, at the first one too many',
    text: 'a: 1\n---\nb: 2\n---\nc: 3\n',
    maxDocuments: 2,
    expected: { ok: false, code: 'MANIFEST_TOO_LARGE', line: 4, reason: 'more than 2 documents' },
  },
  {
    name: 'exactly the documents allowed',
    text: 'a: 1\n---\nb: 2\n',
    maxDocuments: 2,
    expected: { ok: true },
  },
];

describe('parseManifest', () => {
  it.each(cases)('$name', async ({ text, maxDocuments, expected }) => {
    expect(await parseManifest(text, { maxDocuments: maxDocuments ?? 100 })).toMatchObject(expected);
  });

  it('pauses during a large file, and a pause that throws abandons the parse', async () => {
    const text = Array.from({ length: 3000 }, (_, i) => `kind: Service\nmetadata: {name: s${i}}\n`).join(
      '---\n',
    );
    let pauses = 0;
    const parsed = await parseManifest(text, {
      maxDocuments: 5000,
      pause: async () => {
        pauses++;
        await new Promise((resolve) => setImmediate(resolve));
      },
    });
    expect(parsed.ok).toBe(true);
    expect(pauses).toBeGreaterThan(0);
    await expect(
      parseManifest(text, { maxDocuments: 5000, pause: () => Promise.reject(new Error('stopped')) }),
    ).rejects.toThrow('stopped');
  });
});
