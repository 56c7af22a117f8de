import { describe, expect, it } from 'vitest';
import { normalizeHost } from '../../../proxy/routing/host.js';
import { isValidHostHeader } from '../../../proxy/routing/host-syntax.js';

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

describe('isValidHostHeader', () => {
  it.each([
    'api.example.com',
    'API.Example.COM', // case-insensitive (RFC 3986 §3.2.2); routing lower-cases it
    'api.example.com:8443',
    'api.example.com.', // the absolute (fully qualified) form
    'api.example.com.:443',
    'localhost',
    'localhost:0',
    'localhost:65535',
    'localhost:08000', // leading zeros are digits; the value still fits
    'my_service.internal', // underscores occur in internal names; they only ever reach the catch-all host
    'xn--caf-dma.example', // internationalised names arrive as A-labels
    '10.0.0.1',
    '10.0.0.1:80',
    '255.255.255.255',
    '1.example', // a numeric label is fine when the last one is a name
    `${'a'.repeat(63)}.example`,
    `${'a.'.repeat(126)}a`, // 253 characters
    `${'a.'.repeat(126)}a.`, // ... plus the trailing dot
    '[::1]',
    '[::1]:8000',
    '[2001:DB8::1]:443',
    '[::ffff:192.0.2.1]',
    '[fe80::1:2:3:4]',
  ])('%j is valid', (header) => {
    expect(isValidHostHeader(header)).toBe(true);
  });

  it.each([
    // Authority confusion: everything after the name must be a port.
    'api.example.test:@evil.test',
    'api.example.test@evil.test',
    'user:pass@api.example.test',
    'api.example.test/evil.test',
    'api.example.test#@evil.test',
    'api.example.test?@evil.test',
    'api.example.test\\@evil.test',
    'api.example.test%2f@evil.test',
    'api.example.test%00',
    'api.example.test\u0000',
    'api.example.test evil.test',
    'api.example.test\tx',
    'api.example.test\r\nx: y',
    'api.example.test,evil.test', // RFC 3986 sub-delims: legal in a reg-name, never in a DNS name
    "api.example.test'",
    'café.example', // non-ASCII: send the A-label
    // Ports.
    'api.example.test:',
    'api.example.test:80:90',
    'api.example.test::80',
    'api.example.test:65536',
    'api.example.test:99999',
    'api.example.test:123456',
    'api.example.test:-1',
    'api.example.test:+80',
    'api.example.test:8a',
    ':80',
    // Names.
    '',
    '.',
    '.example.com',
    'api..example.com',
    'api.example.com..',
    `${'a'.repeat(64)}.example`,
    `${'a.'.repeat(127)}a`, // 255 characters
    // Numbers a URL parser reads as an IPv4 address of its own (WHATWG: octal, hex, fewer parts).
    '1.2.3.999',
    '1.2.3',
    '2130706433',
    '0x7f.1',
    '010.0.0.1',
    '1.2.3.4.5',
    'example.0x1',
    'example.123',
    // IP literals.
    '[::1',
    '[::1]x',
    '[::1]:',
    '[::1]:70000',
    '[]',
    '[1.2.3.4]',
    '[::g]',
    '[fe80::1%25eth0]', // zone ids (RFC 6874) mean nothing off the client's host
    '[fe80::1%eth0]',
    '[v1.fe80::1]', // IPvFuture
    '::1',
    '[::1]]',
    '[[::1]]',
  ])('%j is refused', (header) => {
    expect(isValidHostHeader(header)).toBe(false);
  });
});
