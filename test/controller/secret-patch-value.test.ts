/** configPatches values from Secrets: plain strings as they are, JSON when it looks like JSON. */
import { describe, expect, it } from 'vitest';
import { secretPatchValue } from '../../controller/translate/processors/plugins.js';

describe('secretPatchValue', () => {
  it.each([
    // What `kubectl create secret generic --from-literal=secret=…` stores.
    ['s3cr3t', 's3cr3t'],
    ['with spaces and "quotes" inside', 'with spaces and "quotes" inside'],
    // `--from-file` of an echoed file: one line break dropped, no more.
    ['s3cr3t\n', 's3cr3t'],
    ['s3cr3t\r\n', 's3cr3t'],
    ['s3cr3t\n\n', 's3cr3t\n'],
    // Numbers and booleans stay the strings a Secret holds.
    ['12345', '12345'],
    ['true', 'true'],
    ['null', 'null'],
    ['', ''],
    // JSON, as Kong's controller reads these values.
    ['"s3cr3t"', 's3cr3t'],
    ['"{starts-with-a-brace"', '{starts-with-a-brace'],
    ['["a", "b"]', ['a', 'b']],
    ['{"secret": "k", "lifetime": 3600}', { secret: 'k', lifetime: 3600 }],
    ['  ["a"]\n', ['a']],
  ])('%j is %j', (text, expected) => expect(secretPatchValue(text)).toEqual(expected));

  it.each(['[not json', '{oops', '"unterminated', '["a",]'])(
    '%j looks like JSON and is not: undefined',
    (text) => expect(secretPatchValue(text)).toBeUndefined(),
  );
});
