/** Body sizes as flags and annotations write them: nginx's `client_max_body_size` syntax. */
import { describe, expect, it } from 'vitest';
import { parseByteSize } from '../../common/byte-size.js';

const valid: [string, number][] = [
  ['0', 0],
  ['1', 1],
  ['1024', 1024],
  ['1k', 1024],
  ['1K', 1024],
  ['512k', 512 * 1024],
  ['1m', 1024 * 1024],
  ['10M', 10 * 1024 * 1024],
  ['2g', 2 * 1024 ** 3],
  ['1G', 1024 ** 3],
  ['007', 7],
  [' 8m ', 8 * 1024 * 1024],
];

const invalid = [
  '',
  ' ',
  'k',
  '-1',
  '1.5m',
  '1 m',
  '1mb',
  '1t',
  '1e6',
  '0x10',
  'ten',
  '1,000',
  '9'.repeat(17),
  '99999999g',
];

describe('parseByteSize', () => {
  it.each(valid)('%j is %d bytes', (text, bytes) => {
    expect(parseByteSize(text)).toBe(bytes);
  });

  it.each(invalid)('%j is refused', (text) => {
    expect(parseByteSize(text)).toBeUndefined();
  });
});
