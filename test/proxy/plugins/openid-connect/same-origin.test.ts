import { describe, expect, it } from 'vitest';
import { isSameOriginRequest, requestOrigin } from '../../../../proxy/plugins/openid-connect/same-origin.js';

const OWN = 'https://app.example.com';

describe('isSameOriginRequest', () => {
  it.each([
    // Fetch Metadata, when sent, decides.
    [{ 'sec-fetch-site': 'same-origin' }, true],
    [{ 'sec-fetch-site': 'none' }, true],
    [{ 'sec-fetch-site': 'SAME-ORIGIN' }, true],
    [{ 'sec-fetch-site': 'same-site' }, false],
    [{ 'sec-fetch-site': 'cross-site' }, false],
    [{ 'sec-fetch-site': '' }, false],
    [{ 'sec-fetch-site': 'same-origin, cross-site' }, false],
    [{ 'sec-fetch-site': ['same-origin', 'same-origin'] }, false],
    [{ 'sec-fetch-site': 'cross-site', origin: OWN }, false],
    // Behind a TLS-terminating balancer the proxy sees http: the browser's verdict still holds.
    [{ 'sec-fetch-site': 'same-origin', origin: OWN }, true],
    // Without Fetch Metadata (Safari before 16.4): Origin must be ours exactly.
    [{ origin: OWN }, true],
    [{ origin: 'https://evil.example' }, false],
    [{ origin: 'null' }, false],
    [{ origin: '' }, false],
    [{ origin: 'http://app.example.com' }, false],
    [{ origin: 'https://app.example.com:8443' }, false],
    [{ origin: 'https://sub.app.example.com' }, false],
    [{ origin: 'https://app.example.com.evil.example' }, false],
    [{ origin: `${OWN}, https://evil.example` }, false],
    [{ origin: [OWN, OWN] }, false],
    // Neither header: not a browser, so not forgeable by another site.
    [{}, true],
  ])('%j → %s', (headers, expected) => {
    expect(isSameOriginRequest(headers, () => OWN)).toBe(expected);
  });

  it('refuses any Origin when the own origin is unknown', () => {
    expect(isSameOriginRequest({ origin: OWN }, () => undefined)).toBe(false);
    expect(isSameOriginRequest({}, () => undefined)).toBe(true);
  });

  it('builds the own origin only when Origin is what decides', () => {
    let built = 0;
    const own = () => (built++, OWN);
    isSameOriginRequest({ 'sec-fetch-site': 'same-origin', origin: OWN }, own);
    isSameOriginRequest({}, own);
    expect(built).toBe(0);
    isSameOriginRequest({ origin: OWN }, own);
    expect(built).toBe(1);
  });
});

describe('requestOrigin', () => {
  it.each([
    ['https', 'app.example.com', 'https://app.example.com'],
    ['https', 'App.Example.COM', 'https://app.example.com'],
    ['https', 'app.example.com:443', 'https://app.example.com'],
    ['http', 'app.example.com:80', 'http://app.example.com'],
    ['http', 'app.example.com:443', 'http://app.example.com:443'],
    ['http', '127.0.0.1:8000', 'http://127.0.0.1:8000'],
    ['http', '[::1]:8000', 'http://[::1]:8000'],
    ['https', undefined, undefined],
    ['https', '', undefined],
    ['https', 'evil.example/app.example.com', undefined],
    ['https', 'user@app.example.com', undefined],
    ['https', 'app.example.com?x', undefined],
    ['https', 'app.example.com:99999', undefined],
  ] as const)('%s %s → %s', (proto, host, expected) => {
    expect(requestOrigin(proto, host)).toBe(expected);
  });
});
