/**
 * parseManifest: one file's text to values, or why not (tables). The fast
 * path (js-yaml) must give what the reference (the `yaml` package) gives, or
 * leave the text to it; the few differences left are pinned at the end.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { parseManifest, type ParsedManifest } from '../../controller/sources/manifest-parse.js';
import { parseManifestWithYaml } from '../../controller/sources/manifest-parse-yaml.js';

// A spy that calls through: which texts the reference had to read.
vi.mock(import('../../controller/sources/manifest-parse-yaml.js'), { spy: true });
const reference = vi.mocked(parseManifestWithYaml);
beforeEach(() => {
  reference.mockClear();
});

const BOMB =
  'a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n';
/** The same in block style, nine times per level. */
const BLOCK_BOMB = [
  'a: &a\n' + Array.from({ length: 9 }, () => '  - x\n').join(''),
  'b: &b\n' + Array.from({ length: 9 }, () => '  - *a\n').join(''),
  'c: &c\n' + Array.from({ length: 9 }, () => '  - *b\n').join(''),
  'd:\n' + Array.from({ length: 9 }, () => '  - *c\n').join(''),
].join('');

const parse = (text: string, maxDocuments = 100) => parseManifest(text, { maxDocuments });

type Case = {
  name: string;
  text: string;
  maxDocuments?: number;
  expected: Partial<ParsedManifest> & Record<string, unknown>;
  /** Whether the reference parser must have been asked. */
  byReference: boolean;
};

const attacks: Case[] = [
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
    byReference: true,
  },
  {
    name: 'an alias bomb in block style, after many good documents',
    text: 'kind: Service\n---\n'.repeat(300) + BLOCK_BOMB,
    maxDocuments: 1000,
    expected: { ok: false, code: 'MANIFEST_INVALID', line: 600, reason: expect.stringMatching(/alias/i) },
    byReference: true,
  },
  {
    name: 'one anchor used once is no bomb, but the reference reads it (js-yaml would share the object)',
    text: 'a: &x {k: v}\nb: *x\n',
    expected: { ok: true, values: [{ a: { k: 'v' }, b: { k: 'v' } }] },
    byReference: true,
  },
  {
    name: 'nesting 1,000 deep (flow) is refused, not a crash',
    text: 'a: ' + '['.repeat(1000) + ']'.repeat(1000) + '\n',
    expected: { ok: false, code: 'MANIFEST_INVALID' },
    byReference: true,
  },
  {
    name: 'a million empty documents stop at the first one too many',
    text: '---\n'.repeat(1_000_000),
    maxDocuments: 5000,
    expected: {
      ok: false,
      code: 'MANIFEST_TOO_LARGE',
      reason: 'more than 5000 documents',
      line: 5001,
      column: 1,
    },
    byReference: true,
  },
  {
    name: '--- inside an indented block scalar is text, not a new document',
    text: 'a: |\n  one\n  ---\n  two\nb: 1\n---\nc: 2\n',
    expected: { ok: true, values: [{ a: 'one\n---\ntwo\n', b: 1 }, { c: 2 }] },
    byReference: false,
  },
  {
    name: '--- at the start of a line ends a block scalar, as in YAML',
    text: 'a: |\n  one\n---\n  two\n',
    expected: { ok: true, values: [{ a: 'one\n' }, 'two'] },
    byReference: false,
  },
  {
    name: '--- at the start of a line inside a double-quoted string is an error, as in YAML',
    text: 'a: "one\n---\ntwo"\n',
    expected: { ok: false, code: 'MANIFEST_INVALID', line: 1 },
    byReference: true,
  },
  {
    name: '--- at the start of a line inside a single-quoted string is an error, as in YAML',
    text: "a: 'one\n---\ntwo'\n",
    expected: { ok: false, code: 'MANIFEST_INVALID' },
    byReference: true,
  },
  {
    name: '--- inside a flow collection is an error, as in YAML',
    text: 'a: [1,\n---\n2]\n',
    expected: { ok: false, code: 'MANIFEST_INVALID' },
    byReference: true,
  },
  {
    name: '--- inside quoted strings on one line is text',
    text: 'a: "x\\n---\\ny"\nb: \'---\'\nc: x --- y\n',
    expected: { ok: true, values: [{ a: 'x\n---\ny', b: '---', c: 'x --- y' }] },
    byReference: false,
  },
  {
    name: 'a __proto__ key is an own property and pollutes nothing',
    text: '__proto__: {polluted: true}\nspec: {__proto__: {polluted: true}}\n',
    expected: { ok: true },
    byReference: false,
  },
];

describe('parseManifest: attacks', () => {
  it.each(attacks)('$name', async ({ text, maxDocuments, expected, byReference }) => {
    const parsed = await parse(text, maxDocuments);
    expect(parsed).toMatchObject(expected);
    expect(reference.mock.calls.length > 0).toBe(byReference);
  });

  // The yaml package checks unique keys pair by pair (quadratic): 40,000 keys
  // took 11.5 s in one go, between two pauses, before the check was ours.
  // Vitest's 5 s timeout is the bound; linear, this takes well under a second.
  it('many keys in one mapping, on the reference path (an anchor sends it there), are read in linear time', async () => {
    const keys = Array.from({ length: 40_000 }, (_, i) => `k${i}: v\n`).join('');
    const parsed = await parse(`x: &a 1\n${keys}`);
    expect(parsed.ok).toBe(true);
    expect(Object.keys((parsed as { values: object[] }).values[0]!)).toHaveLength(40_001);
    expect(reference).toHaveBeenCalled();
  });

  it('a duplicate among many keys on the reference path is found, at its line and column', async () => {
    const keys = Array.from({ length: 40_000 }, (_, i) => `k${i}: v\n`).join('');
    expect(await parse(`\uFEFFx: 1\n${keys}  \nk39999: again\n`)).toMatchObject({
      ok: false,
      code: 'MANIFEST_INVALID',
      reason: expect.stringMatching(/unique/),
      line: 40_003,
      column: 1,
    });
  });

  it('keys the reference does not take as duplicates still are not: 1 and "1", two .nan', async () => {
    expect(await parse('x: &a 1\n1: a\n"1": b\n')).toEqual({ ok: true, values: [{ x: 1, 1: 'b' }] });
    const nan = await parseManifestWithYaml('{.nan: a, .nan: b}\n', { maxDocuments: 1 });
    expect(nan.ok).toBe(true);
  });

  // js-yaml stops at 100 levels; the reference's recursion either copes
  // (Node 24's stack) or overflows (Node 20's), which must be a refusal.
  it('nesting 1,000 deep (block) is left to the reference, and read or refused, never a crash', async () => {
    const text = Array.from({ length: 1000 }, (_, i) => ' '.repeat(i) + 'k:').join('\n') + ' 1\n';
    const parsed = await parse(text);
    if (parsed.ok) {
      let value: unknown = parsed.values[0];
      for (let depth = 0; depth < 1000; depth++) value = (value as { k: unknown }).k;
      expect(value).toBe(1);
    } else expect(parsed).toMatchObject({ code: 'MANIFEST_INVALID', reason: expect.stringMatching(/stack/) });
    expect(reference).toHaveBeenCalled();
  });

  it('a __proto__ key is read as data', async () => {
    const parsed = await parse('__proto__: {polluted: true}\n');
    const [value] = (parsed as { values: Record<string, unknown>[] }).values;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.hasOwn(value!, '__proto__')).toBe(true);
    expect((value as { polluted?: unknown }).polluted).toBeUndefined();
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });
});

const cases: Case[] = [
  {
    name: 'one document',
    text: 'kind: Service\n',
    expected: { ok: true, values: [{ kind: 'Service' }] },
    byReference: false,
  },
  {
    name: 'several documents',
    text: 'a: 1\n---\nb: 2\n',
    expected: { ok: true, values: [{ a: 1 }, { b: 2 }] },
    byReference: false,
  },
  {
    name: 'an empty file is one empty document',
    text: '',
    expected: { ok: true, values: [null] },
    byReference: false,
  },
  {
    name: 'a file of comments is one empty document',
    text: '# nothing yet\n',
    expected: { ok: true, values: [null] },
    byReference: false,
  },
  {
    name: 'JSON',
    text: '{"kind": "List", "items": []}',
    expected: { ok: true, values: [{ kind: 'List', items: [] }] },
    byReference: false,
  },
  {
    name: 'a syntax error, with line and column',
    text: 'a: 1\n---\nmetadata: {name: [\n',
    expected: { ok: false, code: 'MANIFEST_INVALID', line: 4, column: 1 },
    byReference: true,
  },
  {
    name: 'a duplicate key is refused, with line and column',
    text: 'a: 1\n---\nkind: A\nkind: B\n',
    expected: {
      ok: false,
      code: 'MANIFEST_INVALID',
      line: 4,
      column: 1,
      reason: expect.stringMatching(/unique/),
    },
    byReference: true,
  },
  {
    name: 'a %YAML 1.1 directive is honoured (yes is true there)',
    text: '%YAML 1.1\n---\na: yes\n',
    expected: { ok: true, values: [{ a: true }] },
    byReference: true,
  },
  {
    name: 'more documents than allowed, at the first one too many',
    text: 'a: 1\n---\nb: 2\n---\nc: 3\n',
    maxDocuments: 2,
    expected: { ok: false, code: 'MANIFEST_TOO_LARGE', line: 4, reason: 'more than 2 documents' },
    byReference: true,
  },
  {
    name: 'exactly the documents allowed',
    text: 'a: 1\n---\nb: 2\n',
    maxDocuments: 2,
    expected: { ok: true },
    byReference: false,
  },
  {
    name: 'exactly the documents allowed, after a comment and a first ---',
    text: '# c\n---\na: 1\n---\nb: 2\n',
    maxDocuments: 2,
    expected: { ok: true, values: [{ a: 1 }, { b: 2 }] },
    byReference: false,
  },
];

describe('parseManifest', () => {
  it.each(cases)('$name', async ({ text, maxDocuments, expected, byReference }) => {
    expect(await parse(text, maxDocuments)).toMatchObject(expected);
    expect(reference.mock.calls.length > 0).toBe(byReference);
  });

  it('pauses during a large file, and a pause that throws abandons the parse', async () => {
    const text = Array.from({ length: 20_000 }, (_, i) => `kind: Service\nmetadata: {name: s${i}}\n`).join(
      '---\n',
    );
    let pauses = 0;
    const parsed = await parseManifest(text, {
      maxDocuments: 50_000,
      pause: async () => {
        pauses++;
        await new Promise((resolve) => setImmediate(resolve));
      },
    });
    expect(parsed.ok).toBe(true);
    expect(pauses).toBeGreaterThan(0);
    expect(reference).not.toHaveBeenCalled();
    await expect(
      parseManifest(text, { maxDocuments: 50_000, pause: () => Promise.reject(new Error('stopped')) }),
    ).rejects.toThrow('stopped');
  });
});

/** Plain scalars: the YAML 1.2 core schema's edges (yaml-core-schema.ts). */
const SCALARS = [
  ...['0', '-0', '+0', '00', '012', '-012', '+12', '12345678901234567890', '1_000', '1,000', '1 000'],
  ...['0o17', '0o8', '0O17', '0x1F', '0x1f', '0X1F', '-0x1F', '0x', '0o', '0b101', '0x_1'],
  ...['1.', '1.0', '1.50', '.5', '+.5', '-.5', '0.', '-0.0', '1e3', '1E3', '1e+3', '1e-3', '1.e3', '.5e3'],
  ...['1e400', '-1e400', '1e', 'e3', '1.2.3', '.5.'],
  ...['.inf', '-.inf', '+.inf', '.Inf', '.INF', '.NaN', '.nan', '-.nan', 'nan', 'inf'],
  ...['true', 'True', 'TRUE', 'tRue', 'false', 'yes', 'no', 'on', 'off', 'y', 'n', 'Y'],
  ...['~', 'null', 'Null', 'NULL', 'nULL', ''],
  ...['2001-12-14', '2001-12-14T21:59:43.10-05:00', '1:20', '12:30:45', '190:20:30', '<<', '=', '-', '.'],
  ...['"1"', "'1'", '"a\\x41"', "'it''s'", '"\\u00e9"', '"\\/"', '"\\N\\_\\L\\P"', '"\u2028"'],
  ...['!!str 1', '!!int "12"', '!!int 0x10', '!!float 1', '!!float 1.5', '!!bool true', '!!null ""'],
  ...[
    '!!str',
    '!foo bar',
    '!!binary aGVsbG8=',
    '!!timestamp 2001-12-14',
    '!!set {a, b}',
    '!<tag:yaml.org,2002:str> 1',
  ],
  ...['x #c', 'x#c', '"x"y', '[1] x', "'x' #c", '@x', '`x', '%x', '\u0085x'],
];

/** Documents and their markers, keys, styles, line breaks, and errors. */
const STRUCTURES = [
  ...[
    '',
    ' ',
    '\n',
    '\n\n',
    '# c',
    '# c\n',
    '---',
    '---\n',
    '--- \n',
    '---\n---\n',
    'a: 1\n---',
    'a: 1\n---\n',
  ],
  ...[
    'a: 1\n---\nb: 2',
    '--- a\n--- b\n',
    '--- {a: 1}\n--- [1]\n',
    '--- |\n  text\n---\nb: 1\n',
    '--- |\nfoo\n---\nbar\n',
  ],
  ...[
    '---#\n',
    '----\n',
    '--- # c\na: 1\n',
    '---\ta: 1\n',
    'a: 1\r\n---\r\nb: 2\r\n',
    'a: 1\r---\rb: 2\r',
    'a: |\r\n  x\r\n',
  ],
  ...[
    '...\n',
    'a: 1\n...\n',
    'a: 1\n...\nb: 2\n',
    '...x\n',
    '%YAML 1.2\n---\na: 1\n',
    '%TAG ! tag:x,2000:\n---\na: 1\n',
  ],
  ...[
    '\uFEFFa: 1\n',
    '\uFEFF---\na: 1\n',
    'a:\tb\n',
    '\ta: b\n',
    'a: b\t\n',
    'a: x\u2028---\u2028b\n',
    'a\0: 1\n',
  ],
  ...[
    'a: {__proto__: 1}\n',
    'constructor: 1\n',
    'toString: 1\n',
    '<<: {a: 1}\nb: 2\n',
    'a: 1\na: 2\n',
    '1: a\n"1": b\n',
  ],
  ...[
    '{"a": 1, "a": 2}',
    '{"a":1}',
    '{a:1}',
    '{a: 1, b}',
    '[a, b, ]',
    '{a: 1,}',
    '{\n"a": {\n"b": 1\n}\n}\n',
  ],
  ...[
    'a: &x 1\nb: *x\n',
    'a: *x\n',
    '&a a: b\n',
    '? a\n: b\n',
    'true: x\n',
    '1: x\n',
    '1.0: x\n',
    '0x10: x\n',
  ],
  ...[
    '.inf: x\n',
    '"a": 1\n',
    'a:b\n',
    'a : b\n',
    '- a\n- b\n',
    '- - a\n  - b\n',
    '- a: 1\n  b: 2\n',
    'a:\n- 1\n- 2\n',
  ],
  ...[
    'a:\n  - 1\n - 2\n',
    'a: b: c\n',
    'a: - b\n',
    '"a\nb": 1\n',
    'k: v\n#c\n  more\n',
    'a: > \n  folded\n  text\n',
  ],
  ...[
    'a: |-\n  x\n',
    'a: |+\n  x\n\n',
    'a: >2\n   x\n',
    'a: !!str\n',
    'a: !! x\n',
    'a:\n\n\n  b: 1\n',
    '  a: 1\n',
  ],
  ...[
    '  a: 1\n b: 2\n',
    'a: 1\n  b: 2\n',
    'a: "\\z"\n',
    'a: "\\x"\n',
    'a: x\n y\n',
    'a: "x\n  y"\n',
    'a: \x01\n',
  ],
  // A review's differentials (issue 15): each read otherwise by js-yaml, so left to the reference.
  ...[
    'a: !!str\n  true\n',
    'a: !!str\n  123\n',
    '!!str\n.5\n',
    '!!str\n.NaN\n',
    'a: !!str # why\n  null\n',
    'spec:\n  enabled: !\n',
    'a: ! \n',
    '- !\n',
    '!\n',
    '{a: !\n}\n',
  ],
  ...[
    'null: x\n',
    '~: x\n',
    'Null: x\n',
    '? \n: x\n',
    ': x\n',
    '~: a\n"": b\n',
    '- ~: a\n  "": b\n',
    '{~: a, "": b}\n',
    '[a, b]: c\n',
    '{a: 1}: c\n',
    '? - a\n: b\n',
    '? [a, b]\n: c\n',
    '? {a: 1}\n: c\n',
    '- ? a\n  : b\n',
    '{? a: b}\n',
    '{: x}\n',
    '[: x]\n',
    'a: [b, {~: c}]\n',
  ],
  ...[
    'a: "b"#c\n',
    "a: 'b'#c\n",
    '[a]#c\n',
    '{a: 1}#c\n',
    '--- a: 1\n',
    '--- - a\n',
    '--- "a": 1\n',
    'x: 1\n--- {a: 1}\n',
    'a: "\\U00110000"\n',
    'a: "\\U0001F600"\n',
  ],
];

describe('parseManifest gives what the reference gives', () => {
  const texts = [
    ...SCALARS.flatMap((s) => [`v: ${s}\n`, `- ${s}\n`, `{v: ${s}}\n`]),
    ...SCALARS.filter((s) => !s.startsWith('!')).map((s) => `${s}\n`),
    ...STRUCTURES,
  ];
  it.each(texts.map((text) => [JSON.stringify(text), text]))('%s', async (_name, text) => {
    const expected = await parseManifestWithYaml(text, { maxDocuments: 100 });
    expect(await parse(text)).toEqual(expected);
  });
});

/**
 * Where js-yaml reads otherwise and nothing cheap in the text tells: a few
 * layouts the YAML spec refuses are accepted. Pinned, with what the reference does, so a change
 * in either package shows; docs/controller.md lists them for users.
 */
const differences: { name: string; text: string; values: unknown[] }[] = [
  { name: 'a top-level block scalar with an indentation indicator', text: '>2\n   x\n', values: ['  x\n'] },
  {
    name: 'a flow sequence whose next line is not indented (was refused)',
    text: 'args: [--a,\n--b]\n',
    values: [{ args: ['--a', '--b'] }],
  },
  {
    name: 'a flow mapping whose next line is not indented (was refused)',
    text: 'a: {b: 1,\nc: 2}\n',
    values: [{ a: { b: 1, c: 2 } }],
  },
  {
    name: 'a quoted string whose next line is not indented (was refused)',
    text: 'a: "x\ny"\n',
    values: [{ a: 'x y' }],
  },
  {
    name: 'an implicit key longer than 1024 characters (was refused)',
    text: `${'k'.repeat(1025)}: 1\n`,
    values: [{ ['k'.repeat(1025)]: 1 }],
  },
];

describe('parseManifest: differences from the reference, pinned', () => {
  it.each(differences)('$name', async ({ text, values }) => {
    expect(await parse(text)).toEqual({ ok: true, values });
    expect(reference).not.toHaveBeenCalled();
    expect(await parseManifestWithYaml(text, { maxDocuments: 100 })).not.toEqual({ ok: true, values });
  });
});
