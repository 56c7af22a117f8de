/** toYaml: JSON data as block YAML that reads back as the same data (tables, then random data). */
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { toYaml } from '../../common/yaml-writer.js';

/** What a reader must get back: the data as JSON sees it. */
const asJson = (value: unknown): unknown => JSON.parse(JSON.stringify(value) ?? 'null');

function expectRoundTrip(value: unknown): void {
  const text = toYaml(value);
  expect(parse(text), text).toEqual(asJson(value));
  expect(load(text), text).toEqual(asJson(value));
  // A YAML 1.1 reader (yes/no booleans, base-60 numbers, timestamps) reads the same.
  expect(parse(text, { version: '1.1' }), text).toEqual(asJson(value));
}

const STRINGS = [
  ...[
    '',
    ' ',
    'a',
    'a b',
    'a  b',
    ' a',
    'a ',
    'web',
    '/api',
    '/api/v1/*',
    'app-0.example.com',
    'team-0/svc-0',
  ],
  ...[
    'null',
    'Null',
    'NULL',
    '~',
    'true',
    'False',
    'yes',
    'No',
    'on',
    'OFF',
    'y',
    'N',
    '<<',
    '=',
    '-',
    '--',
    '---',
    '...',
  ],
  ...[
    '0',
    '12',
    '-1',
    '+1',
    '1.5',
    '.5',
    '1e3',
    '0x1f',
    '0o17',
    '0b101',
    '012',
    '1_000',
    '1:20',
    '.inf',
    '-.inf',
    '.nan',
  ],
  ...[
    '2001-12-14',
    '2001-12-14T21:59:43Z',
    'a: b',
    'a:b',
    'a #b',
    'a#b',
    '#a',
    '- a',
    '-a',
    '*a',
    '&a',
    '!a',
    '%a',
    '@a',
    '`a',
  ],
  ...[
    '"a',
    "'a",
    '[a',
    ']a',
    '{a',
    '}a',
    '|a',
    '>a',
    '? a',
    '?a',
    ',a',
    'a,',
    'a,b',
    'a:',
    'a\\b',
    'a"b',
    "a'b",
  ],
  ...[
    'a\nb',
    'a\nb\n',
    'a\nb\n\n',
    '\na',
    'a\n\nb',
    ' a\nb',
    'a \nb',
    'a\n b',
    'a\r\nb',
    'a\tb',
    '\ta\nb',
    'a\n#b',
    'a\n---\nb',
  ],
  ...[
    'a\n...\nb',
    'é',
    '日本',
    '😀',
    '\u2028',
    '\u0085',
    '\ufeffa',
    '\u0000',
    '\u0007',
    '\u001b[0m',
    '\ud800',
    'a\udc00',
  ],
  'x'.repeat(2000),
];

describe('toYaml', () => {
  it.each(STRINGS.map((s) => [JSON.stringify(s), s]))(
    'the string %s, as a value and as a key',
    (_name, s) => {
      expectRoundTrip({ value: s, list: [s], [s]: 1 });
    },
  );

  it.each([
    ['numbers', { a: 0, b: -0, c: 1.5, d: 1e21, e: 1e-7, f: -12, g: Number.MAX_SAFE_INTEGER, h: 5e-324 }],
    ['not-finite numbers become null, as in JSON', { a: NaN, b: Infinity, c: [-Infinity] }],
    ['booleans and null', { a: true, b: false, c: null, d: [null, true] }],
    ['empty collections', { a: [], b: {}, c: [[], {}], d: [[[]]] }],
    ['nested lists and maps', { a: [[1, [2, { b: [3] }]], { c: { d: [] } }], e: [{ f: 1, g: [{ h: 2 }] }] }],
    ['undefined members are left out, undefined items are null', { a: undefined, b: [undefined, 1] }],
    ['a map of undefined members only', { a: { b: undefined } }],
    ['toJSON is applied', { at: new Date(0), list: [new Date(0)] }],
    ['a top-level list', [1, 'a', { b: 2 }]],
    ['a top-level scalar', 'plain'],
    ['a top-level empty map', {}],
  ])('%s', (_name, value) => {
    expectRoundTrip(value);
  });

  it('writes plain words plainly and indents as people expect', () => {
    expect(
      toYaml({
        config: { hosts: [{ host: 'a.example.com', paths: ['/', '/api'] }], count: 1 },
        problems: [],
      }),
    ).toBe(
      'config:\n  hosts:\n    - host: a.example.com\n      paths:\n        - /\n        - /api\n  count: 1\nproblems: []\n',
    );
    expect(toYaml({ pem: '-----BEGIN X-----\nAAAA\n-----END X-----\n' })).toBe(
      'pem: |\n  -----BEGIN X-----\n  AAAA\n  -----END X-----\n',
    );
  });

  it('reads back random data (seeded)', () => {
    let seed = 42;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const alphabet = [
      'a',
      'Z',
      '0',
      '9',
      ' ',
      ' ',
      '-',
      '.',
      ':',
      '#',
      '"',
      "'",
      '\n',
      '\t',
      '\\',
      '/',
      '*',
      '&',
      '!',
      '|',
      '>',
      '[',
      '{',
      ',',
      '?',
      '%',
      '@',
      'é',
      '\r',
    ];
    const text = () => Array.from({ length: random(8) }, () => alphabet[random(alphabet.length)]).join('');
    const value = (depth: number): unknown => {
      const kind = random(depth > 3 ? 4 : 6);
      if (kind === 0) return text();
      if (kind === 1) return random(3) === 0 ? null : random(2) === 0;
      if (kind === 2) return random(1000) - 500 + (random(2) ? 0.25 : 0);
      if (kind === 3) return STRINGS[random(STRINGS.length)];
      if (kind === 4) return Array.from({ length: random(4) }, () => value(depth + 1));
      return Object.fromEntries(Array.from({ length: random(4) }, () => [text(), value(depth + 1)]));
    };
    for (let i = 0; i < 500; i++) expectRoundTrip(value(0));
  });
});
