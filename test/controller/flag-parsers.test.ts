/** The CLI's flag parsers: what each accepts and refuses. */
import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import {
  bindAddress,
  byteSize,
  cidrList,
  hostList,
  httpUrl,
  httpUrlList,
  namespace,
  namespacedName,
  nonNegativeInt,
  objectName,
  port,
  positiveByteSize,
  positiveInt,
  readableFile,
} from '../../cli/flag-parsers.js';

const table: [string, (value: string) => unknown, [string, unknown][], string[]][] = [
  [
    'port',
    port,
    [
      ['0', 0],
      ['8000', 8000],
      ['65535', 65535],
    ],
    ['', '-1', '65536', '80.5', '1e3', 'http', ' 80'],
  ],
  [
    'positiveInt',
    positiveInt,
    [
      ['1', 1],
      ['25000', 25000],
    ],
    ['0', '-1', '1.5', '1e3', '0x10', ''],
  ],
  [
    'nonNegativeInt',
    nonNegativeInt,
    [
      ['0', 0],
      ['60000', 60000],
    ],
    ['-1', '1.5', 'x'],
  ],
  [
    'byteSize',
    byteSize,
    [
      ['0', 0],
      ['10m', 10 * 1024 ** 2],
      ['4K', 4096],
    ],
    ['10mb', '1.5m', '-1', ''],
  ],
  [
    'positiveByteSize',
    positiveByteSize,
    [
      ['1', 1],
      ['4m', 4 * 1024 ** 2],
    ],
    ['0', '0k'],
  ],
  [
    'bindAddress',
    bindAddress,
    [
      ['0.0.0.0', '0.0.0.0'],
      ['::', '::'],
      ['127.0.0.1', '127.0.0.1'],
      ['localhost', 'localhost'],
    ],
    ['999.1.1.1', 'example.com', '', '[::1]', '127.0.0.1:80'],
  ],
  [
    'httpUrl',
    httpUrl,
    [
      ['http://127.0.0.1:8001', 'http://127.0.0.1:8001'],
      ['https://proxy.example/', 'https://proxy.example/'],
    ],
    ['127.0.0.1:8001', 'ftp://x', 'notaurl', 'file:///tmp/x'],
  ],
  [
    'namespace',
    namespace,
    [
      ['default', 'default'],
      ['team-a1', 'team-a1'],
    ],
    ['Team', 'a.b', '-a', 'a'.repeat(64), ''],
  ],
  [
    'objectName',
    objectName,
    [
      ['portcullis', 'portcullis'],
      ['a.b-c', 'a.b-c'],
    ],
    ['Portcullis', 'a_b', 'a..b', ''],
  ],
  [
    'namespacedName',
    namespacedName,
    [
      ['ns/name', 'ns/name'],
      ['name', 'name'],
      ['ns/a.b', 'ns/a.b'],
    ],
    ['a/b/c', 'a.b/c', '/x', 'x/', 'NS/x'],
  ],
  [
    'cidrList',
    cidrList,
    [
      ['10.0.0.0/8, 127.0.0.1', ['10.0.0.0/8', '127.0.0.1']],
      ['::1/128', ['::1/128']],
      ['', []],
    ],
    ['10.0.0.0/33', 'foo', '10.0.0.0/x'],
  ],
];

describe.each(table)('%s', (_name, parse, good, bad) => {
  it.each(good)('accepts %j', (value, expected) => expect(parse(value)).toEqual(expected));
  it.each(bad)('refuses %j', (value) => expect(() => parse(value)).toThrow(InvalidArgumentError));
});

describe('readableFile', () => {
  it('accepts a file and refuses a missing path or a folder', () => {
    expect(readableFile('package.json')).toBe('package.json');
    expect(() => readableFile('/nonexistent/file')).toThrow(/no such file/);
    expect(() => readableFile('test')).toThrow(/not a file/);
  });
});

describe('list flags that may be repeated', () => {
  it('add to the earlier value', () => {
    expect(httpUrlList('http://b:1', ['http://a:1'])).toEqual(['http://a:1', 'http://b:1']);
    expect(hostList('10.0.0.1, lb.example.com', undefined)).toEqual(['10.0.0.1', 'lb.example.com']);
  });
  it('refuse a bad item', () => {
    expect(() => httpUrlList('http://a:1,nope', undefined)).toThrow(InvalidArgumentError);
    expect(() => hostList('lb..example', undefined)).toThrow(InvalidArgumentError);
  });
});
