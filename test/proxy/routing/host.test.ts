import { describe, expect, it } from 'vitest';
import { normalizeHost } from '../../../proxy/routing/host.js';

describe('normalizeHost', () => {
  it.each([
    [undefined, ''],
    ['', ''],
    ['api.example.com', 'api.example.com'],
    ['API.Example.COM', 'api.example.com'],
    ['api.example.com:8443', 'api.example.com'],
    ['api.example.com.', 'api.example.com'],
    ['api.example.com.:443', 'api.example.com'],
    ['api.example.com..', 'api.example.com.'], // one trailing dot only
    ['localhost:', 'localhost'],
    ['10.0.0.1:80', '10.0.0.1'],
    ['[::1]', '[::1]'],
    ['[::1]:8000', '[::1]'],
    ['[2001:DB8::1]:443', '[2001:db8::1]'],
    ['[::1', '[::1'], // malformed literal: left whole
  ])('%j → %j', (header, expected) => {
    expect(normalizeHost(header)).toBe(expected);
  });
});
