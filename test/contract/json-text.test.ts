/**
 * Checks on a config's text that JSON.parse does not make: duplicate keys
 * (it keeps the last), nesting depth, and UTF-8 (decoding replaces bad bytes).
 */
import { describe, expect, it } from 'vitest';
import { MAX_JSON_DEPTH, jsonTextProblem, utf8Problem } from '../../contract/json-text.js';

const duplicate = (path: string, key: string) => ({ path, message: `duplicate key ${JSON.stringify(key)}` });
const tooDeep = (path: string, depth: number) => ({
  path,
  message: `nested deeper than ${depth} objects and arrays`,
});
const manyKeys = Array.from({ length: 40 }, (_, i) => `"k${i}":${i}`).join(',');

describe('jsonTextProblem', () => {
  const accepted: [string, string][] = [
    ['an empty object', '{}'],
    ['an empty array', '[]'],
    ['a scalar', '"x"'],
    ['the same key in nested objects', '{"a":1,"b":{"a":2}}'],
    ['the same key in sibling objects', '[{"a":1},{"a":2}]'],
    ['the same key after an object closes', '{"a":{"b":1},"b":{"b":1}}'],
    ['key-like text inside a string value', '{"a":"\\",\\"a\\":1","b":"{[,"}'],
    ['keys that differ only by an escape', '{"a\\\\":1,"a":2,"a\\"":3}'],
    ['strings ending in escaped backslashes', '{"a":"x\\\\","b":"\\\\\\\\","c":["\\\\"]}'],
    ['whitespace everywhere', ' { "a" : [ 1 , { "b" : 2 } ] ,\n\t"b" : null } '],
    ['many distinct keys', `{${manyKeys}}`],
    ['the maximum depth', `${'['.repeat(MAX_JSON_DEPTH)}${']'.repeat(MAX_JSON_DEPTH)}`],
  ];
  it.each(accepted)('accepts %s', (_what, text) => {
    expect(jsonTextProblem(Buffer.from(text))).toBeUndefined();
  });

  const refused: [string, string, { path: string; message: string }][] = [
    ['a duplicate at the top', '{"a":1,"b":2,"a":3}', duplicate('/a', 'a')],
    ['a duplicate in a nested object', '{"a":{"b":1,"b":{}}}', duplicate('/a/b', 'b')],
    ['a duplicate inside arrays', '[0,{"x":[1,"]",{"k":1,"k":2}]}]', duplicate('/1/x/2/k', 'k')],
    ['a duplicate spelt with an escape', '{"a":1,"\\u0061":2}', duplicate('/a', 'a')],
    ['a duplicate needing pointer escapes', '{"a/b~c":1,"a/b~c":2}', duplicate('/a~1b~0c', 'a/b~c')],
    ['a duplicate among many keys', `{${manyKeys},"k3":0}`, duplicate('/k3', 'k3')],
    ['a duplicate after whitespace', '{ "a" : 1 ,\n "a" : 2 }', duplicate('/a', 'a')],
    ['the first of two duplicates', '{"x":{"a":1,"a":2},"x":3}', duplicate('/x/a', 'a')],
    ['an array one too deep', `${'['.repeat(65)}${']'.repeat(65)}`, tooDeep(`${'/0'.repeat(64)}`, 64)],
    ['objects too deep', '{"a":[{"b":{"c":{}}}]}', tooDeep('/a/0/b/c', 4)],
  ];
  it.each(refused)('refuses %s', (_what, text, problem) => {
    const depth = problem.message.includes('nested') ? Number(/than (\d+)/.exec(problem.message)![1]) : 64;
    expect(jsonTextProblem(Buffer.from(text), depth)).toEqual(problem);
  });

  it('never throws on text that is not JSON (JSON.parse reports it)', () => {
    for (const text of ['', '{', '{"a', '{"a":1,"a', ']]]', '{"\\u00zz":1,"\\u00zz":2}', '"\\']) {
      expect(() => jsonTextProblem(Buffer.from(text))).not.toThrow();
    }
  });

  it('does not overflow the stack however deep the text', () => {
    const text = `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`;
    expect(jsonTextProblem(Buffer.from(text))).toEqual(tooDeep(`${'/a'.repeat(64)}`, 64));
  });
});

describe('utf8Problem', () => {
  const bytes = (...parts: (string | number[])[]) =>
    Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));
  const at = (offset: number) => ({
    path: '/',
    message: `not UTF-8: invalid byte sequence at byte offset ${offset}`,
  });

  const cases: [string, Buffer, ReturnType<typeof at> | undefined][] = [
    ['ASCII', bytes('{"a":1}'), undefined],
    ['two, three and four byte characters', bytes('{"é€😀":"ü"}'), undefined],
    ['a byte that never starts a character', bytes('{"a":"', [0xff], '"}'), at(6)],
    ['a Latin-1 letter', bytes('{"café":"', [0xe9], '"}'), at(10)],
    ['a missing continuation byte', bytes('ab', [0xc3, 0x28]), at(2)],
    ['an overlong encoding', bytes('a', [0xc0, 0x80]), at(1)],
    ['an encoded surrogate', bytes([0xed, 0xa0, 0x80]), at(0)],
    ['a code point above U+10FFFF', bytes('x', [0xf4, 0x90, 0x80, 0x80]), at(1)],
    ['a character cut off at the end', bytes('{}', [0xe2, 0x82]), at(2)],
    ['a stray continuation byte', bytes('é', [0x80]), at(2)],
  ];
  it.each(cases)('%s', (_what, input, problem) => {
    expect(utf8Problem(input)).toEqual(problem);
  });
});
