import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { deriveCookieKey, parseCookies, sealJson } from '../../../../proxy/plugins/openid-connect/cookies.js';
import {
  MAX_SESSION_CHUNKS,
  SessionCookie,
  type SessionCookieOptions,
  type SessionData,
} from '../../../../proxy/plugins/openid-connect/session-cookie.js';

const T0 = 1_700_000_000;
const SECRET = 'an-example-session-secret-of-32-chars-or-more';

const OPTIONS: SessionCookieOptions = {
  secret: SECRET,
  issuer: 'https://idp.example.com/realms/a',
  clientId: 'portcullis',
  binding: 'rules-a',
  cookieName: 'session',
  path: '/',
  sameSite: 'Lax',
  httpOnly: true,
  idlingTimeout: 900,
  rollingTimeout: 3600,
  absoluteTimeout: 86400,
};

const DATA: SessionData = {
  accessToken: 'access-token',
  idToken: 'id-token',
  claims: { sub: 'alice', groups: ['a', 'b'] },
  method: 'authorization_code',
};

function codec(overrides: Partial<SessionCookieOptions> = {}): SessionCookie {
  return new SessionCookie({ ...OPTIONS, ...overrides });
}

/** The Cookie header a browser would send back after receiving `setCookies` (deletions dropped). */
function browserCookies(setCookies: string[]): string {
  return setCookies
    .map((header) => header.split(';')[0] ?? '')
    .filter((pair) => !pair.endsWith('='))
    .join('; ');
}

/** The attributes of a Set-Cookie value, keyed by lower-cased name. */
function attributesOf(setCookie: string): Map<string, string> {
  const attributes = new Map<string, string>();
  for (const part of setCookie.split('; ').slice(1)) {
    const [name = '', value = ''] = part.split('=');
    attributes.set(name.toLowerCase(), value);
  }
  return attributes;
}

async function issued(data: SessionData = DATA, sessionCodec = codec(), now = T0): Promise<string> {
  return browserCookies(await sessionCodec.issue(data, now, true));
}

describe('SessionCookie round trip', () => {
  it('reads back what it issued', async () => {
    const header = await issued();
    expect(await codec().read(header, T0 + 1)).toEqual({ data: DATA, startedAt: T0, renew: false });
  });

  it('keeps only the SessionData fields', async () => {
    const extra = { ...DATA, secret: 'x' } as SessionData;
    const read = await codec().read(await issued(extra), T0);
    expect(read?.data).toEqual(DATA);
  });

  it('round-trips without the optional fields', async () => {
    const data: SessionData = { accessToken: 'a', claims: {}, method: 'bearer' };
    expect((await codec().read(await issued(data), T0))?.data).toEqual(data);
  });

  it('finds the cookie among others', async () => {
    const header = `other=1; ${await issued()}; last=2`;
    expect((await codec().read(header, T0))?.data).toEqual(DATA);
  });

  it('does not put readable session contents in the cookie', async () => {
    const header = await issued({ ...DATA, accessToken: 'very-recognisable-token' });
    expect(header).not.toContain('very-recognisable-token');
    expect(Buffer.from(header.split('.')[3] ?? '', 'base64url').toString('latin1')).not.toContain(
      'very-recognisable-token',
    );
  });
});

describe('SessionCookie rejects', () => {
  it.each([undefined, '', 'other=1', 'session=', 'session=garbage', 'session=a.b.c.d.e', 'session="x"'])(
    'an absent or malformed cookie: %j',
    async (header) => {
      await expect(codec().read(header, T0)).resolves.toBeUndefined();
    },
  );

  it.each([0, 1, 2, 3, 4])('a cookie with JWE part %i tampered with', async (index) => {
    const value = parseCookies(await issued()).get('session') ?? '';
    const parts = value.split('.');
    const part = parts[index] ?? '';
    // The encrypted-key part is empty for alg "dir": give it content instead of flipping.
    parts[index] = part === '' ? 'AAAA' : (part[0] === 'A' ? 'B' : 'A') + part.slice(1);
    expect(parts.join('.')).not.toBe(value);
    await expect(codec().read(`session=${parts.join('.')}`, T0)).resolves.toBeUndefined();
  });

  it('a cookie whose protected header was replaced by another valid one', async () => {
    const [, ...rest] = (parseCookies(await issued()).get('session') ?? '').split('.');
    const header = Buffer.from(JSON.stringify({ alg: 'dir', enc: 'A256GCM', kid: 'x' })).toString(
      'base64url',
    );
    await expect(codec().read(`session=${[header, ...rest].join('.')}`, T0)).resolves.toBeUndefined();
  });

  it.each([
    ['issuer', { issuer: 'https://other.example.com' }],
    ['client id', { clientId: 'other-client' }],
    ['acceptance rules', { binding: 'rules-b' }],
    ['secret', { secret: 'another-session-secret-of-32-chars-or-more' }],
  ])('a cookie from an instance with another %s', async (_, overrides) => {
    const header = await issued(DATA, codec(overrides));
    await expect(codec().read(header, T0)).resolves.toBeUndefined();
  });

  it('a cookie from an instance with another cookie name, presented under this name', async () => {
    const value = parseCookies(await issued(DATA, codec({ cookieName: 'other' }))).get('other');
    expect(value).toBeDefined();
    await expect(codec().read(`session=${value}`, T0)).resolves.toBeUndefined();
  });

  it.each([
    ['another iss', { iss: 'https://other.example.com', aud: OPTIONS.clientId }],
    ['another aud', { iss: OPTIONS.issuer, aud: 'other' }],
    ['no iat', { iss: OPTIONS.issuer, aud: OPTIONS.clientId, iat: undefined }],
    ['lat before iat', { iss: OPTIONS.issuer, aud: OPTIONS.clientId, iat: T0, lat: T0 - 1 }],
    ['data not an object', { iss: OPTIONS.issuer, aud: OPTIONS.clientId, data: 'x' }],
    ['claims an array', { iss: OPTIONS.issuer, aud: OPTIONS.clientId, data: { ...DATA, claims: [] } }],
    [
      'accessToken missing',
      { iss: OPTIONS.issuer, aud: OPTIONS.clientId, data: { ...DATA, accessToken: 1 } },
    ],
    [
      'tokenExpiresAt a string',
      { iss: OPTIONS.issuer, aud: OPTIONS.clientId, data: { ...DATA, tokenExpiresAt: 'x' } },
    ],
  ])('a correctly sealed payload with %s', async (_, fields) => {
    const info = `portcullis-session|${OPTIONS.issuer}|${OPTIONS.clientId}|${OPTIONS.cookieName}|${OPTIONS.binding}`;
    const payload = { iat: T0, lat: T0, data: DATA, ...fields };
    const token = await sealJson(payload, deriveCookieKey(SECRET, info));
    await expect(codec().read(`session=${token}`, T0)).resolves.toBeUndefined();
  });

  it('a correctly sealed, well-formed payload (control for the table above)', async () => {
    const info = `portcullis-session|${OPTIONS.issuer}|${OPTIONS.clientId}|${OPTIONS.cookieName}|${OPTIONS.binding}`;
    const payload = { iss: OPTIONS.issuer, aud: OPTIONS.clientId, iat: T0, lat: T0, data: DATA };
    const token = await sealJson(payload, deriveCookieKey(SECRET, info));
    expect((await codec().read(`session=${token}`, T0))?.data).toEqual(DATA);
  });
});

describe('SessionCookie timeouts', () => {
  it.each([
    { name: 'idle: at the limit', options: { idlingTimeout: 900 }, readAt: T0 + 900, valid: true },
    { name: 'idle: past the limit', options: { idlingTimeout: 900 }, readAt: T0 + 901, valid: false },
    {
      name: 'rolling: at the limit',
      options: { idlingTimeout: 0, rollingTimeout: 3600 },
      readAt: T0 + 3600,
      valid: true,
    },
    {
      name: 'rolling: past the limit',
      options: { idlingTimeout: 0, rollingTimeout: 3600 },
      readAt: T0 + 3601,
      valid: false,
    },
    {
      name: 'absolute: at the limit',
      options: { idlingTimeout: 0, rollingTimeout: 0, absoluteTimeout: 86400 },
      readAt: T0 + 86400,
      valid: true,
    },
    {
      name: 'absolute: past the limit',
      options: { idlingTimeout: 0, rollingTimeout: 0, absoluteTimeout: 86400 },
      readAt: T0 + 86401,
      valid: false,
    },
    {
      name: 'all off: years later',
      options: { idlingTimeout: 0, rollingTimeout: 0, absoluteTimeout: 0 },
      readAt: T0 + 10 ** 8,
      valid: true,
    },
  ])('$name', async ({ options, readAt, valid }) => {
    const sessionCodec = codec(options);
    const read = await sessionCodec.read(await issued(DATA, sessionCodec), readAt);
    expect(read !== undefined).toBe(valid);
  });

  it.each([
    { readAt: T0 + 99, valid: true },
    { readAt: T0 + 100, valid: false },
    { readAt: T0 + 101, valid: false },
  ])('token expiry at T0+100: read at $readAt valid=$valid', async ({ readAt, valid }) => {
    const sessionCodec = codec({ idlingTimeout: 0, rollingTimeout: 0, absoluteTimeout: 0 });
    const header = await issued({ ...DATA, tokenExpiresAt: T0 + 100 }, sessionCodec);
    expect((await sessionCodec.read(header, readAt)) !== undefined).toBe(valid);
  });

  it('applies the current timeouts, not the ones the cookie was issued under', async () => {
    const header = await issued(DATA, codec({ idlingTimeout: 900 }));
    await expect(codec({ idlingTimeout: 60 }).read(header, T0 + 61)).resolves.toBeUndefined();
  });

  it('renewal slides the idle timeout but keeps the absolute timeout', async () => {
    const sessionCodec = codec({ idlingTimeout: 900, rollingTimeout: 0, absoluteTimeout: 2000 });
    let header = await issued(DATA, sessionCodec);
    for (const now of [T0 + 800, T0 + 1600]) {
      const read = await sessionCodec.read(header, now);
      expect(read).toMatchObject({ startedAt: T0, renew: true });
      header = browserCookies(await sessionCodec.issue(DATA, now, true, read?.startedAt));
    }
    // Idle for only 400 s, but 2001 s since the session started.
    expect(await sessionCodec.read(header, T0 + 2000)).toMatchObject({ startedAt: T0 });
    await expect(sessionCodec.read(header, T0 + 2001)).resolves.toBeUndefined();
  });
});

describe('SessionCookie renew flag', () => {
  it.each([
    { name: 'fresh', options: {}, readAt: T0 + 59, renew: false },
    { name: 'a minute old', options: {}, readAt: T0 + 60, renew: true },
    { name: 'only rolling on', options: { idlingTimeout: 0 }, readAt: T0 + 60, renew: true },
    {
      name: 'no sliding timeout',
      options: { idlingTimeout: 0, rollingTimeout: 0 },
      readAt: T0 + 3000,
      renew: false,
    },
    { name: 'short idle timeout: under half', options: { idlingTimeout: 30 }, readAt: T0 + 14, renew: false },
    { name: 'short idle timeout: at half', options: { idlingTimeout: 30 }, readAt: T0 + 15, renew: true },
  ])('$name', async ({ options, readAt, renew }) => {
    const sessionCodec = codec(options);
    const read = await sessionCodec.read(await issued(DATA, sessionCodec), readAt);
    expect(read?.renew).toBe(renew);
  });
});

describe('SessionCookie Max-Age', () => {
  it.each([
    { name: 'idle is the earliest', options: {}, data: DATA, startedAt: undefined, maxAge: '900' },
    {
      name: 'rolling without idle',
      options: { idlingTimeout: 0 },
      data: DATA,
      startedAt: undefined,
      maxAge: '3600',
    },
    {
      name: 'absolute alone',
      options: { idlingTimeout: 0, rollingTimeout: 0 },
      data: DATA,
      startedAt: undefined,
      maxAge: '86400',
    },
    {
      name: 'absolute, renewed late in the session',
      options: {},
      data: DATA,
      startedAt: T0 - 86300,
      maxAge: '100',
    },
    {
      name: 'token expiry first',
      options: {},
      data: { ...DATA, tokenExpiresAt: T0 + 300 },
      startedAt: undefined,
      maxAge: '300',
    },
    {
      name: 'token already expired',
      options: {},
      data: { ...DATA, tokenExpiresAt: T0 - 5 },
      startedAt: undefined,
      maxAge: '0',
    },
    {
      name: 'nothing: a browser-session cookie',
      options: { idlingTimeout: 0, rollingTimeout: 0, absoluteTimeout: 0 },
      data: DATA,
      startedAt: undefined,
      maxAge: undefined,
    },
    {
      name: 'token expiry only',
      options: { idlingTimeout: 0, rollingTimeout: 0, absoluteTimeout: 0 },
      data: { ...DATA, tokenExpiresAt: T0 + 42 },
      startedAt: undefined,
      maxAge: '42',
    },
  ])('$name', async ({ options, data, startedAt, maxAge }) => {
    const [setCookie = ''] = await codec(options).issue(data, T0, true, startedAt);
    expect(attributesOf(setCookie).get('max-age')).toBe(maxAge);
  });

  it('floors a fractional now', async () => {
    const sessionCodec = codec();
    const [setCookie = ''] = await sessionCodec.issue(DATA, T0 + 0.7, true);
    expect(attributesOf(setCookie).get('max-age')).toBe('900');
    expect(await sessionCodec.read(browserCookies([setCookie]), T0 + 0.9)).toMatchObject({ startedAt: T0 });
  });
});

describe('SessionCookie attributes', () => {
  it.each([
    { name: 'HTTPS by default', options: {}, https: true, secure: true },
    { name: 'HTTP by default', options: {}, https: false, secure: false },
    { name: 'forced on over HTTP', options: { secure: true }, https: false, secure: true },
    { name: 'forced off over HTTPS', options: { secure: false }, https: true, secure: false },
    {
      name: 'SameSite=None forces it',
      options: { secure: false, sameSite: 'None' as const },
      https: false,
      secure: true,
    },
    {
      name: '__Host- prefix forces it',
      options: { cookieName: '__Host-session' },
      https: false,
      secure: true,
    },
    { name: '__Secure- prefix forces it', options: { cookieName: '__Secure-s' }, https: false, secure: true },
  ])('Secure: $name', async ({ options, https, secure }) => {
    const sessionCodec = codec(options);
    const [setCookie = ''] = await sessionCodec.issue(DATA, T0, https);
    expect(attributesOf(setCookie).has('secure')).toBe(secure);
    for (const deleting of sessionCodec.clear(https))
      expect(attributesOf(deleting).has('secure')).toBe(secure);
  });

  it.each([
    { sameSite: 'Strict' as const, expected: 'Strict' },
    { sameSite: 'Lax' as const, expected: 'Lax' },
    { sameSite: 'None' as const, expected: 'None' },
    { sameSite: 'Default' as const, expected: undefined },
  ])('SameSite $sameSite', async ({ sameSite, expected }) => {
    const [setCookie = ''] = await codec({ sameSite }).issue(DATA, T0, true);
    expect(attributesOf(setCookie).get('samesite')).toBe(expected);
  });

  it.each([true, false])('HttpOnly %s', async (httpOnly) => {
    const [setCookie = ''] = await codec({ httpOnly }).issue(DATA, T0, true);
    expect(attributesOf(setCookie).has('httponly')).toBe(httpOnly);
  });

  it('Domain and Path, on issue and clear', async () => {
    const sessionCodec = codec({ domain: 'example.com', path: '/app' });
    const [setCookie = ''] = await sessionCodec.issue(DATA, T0, true);
    const [deleting = ''] = sessionCodec.clear(true);
    for (const header of [setCookie, deleting]) {
      expect(attributesOf(header).get('domain')).toBe('example.com');
      expect(attributesOf(header).get('path')).toBe('/app');
    }
    expect(attributesOf(setCookie).has('domain')).toBe(true);
    expect(attributesOf((await codec().issue(DATA, T0, true))[0] ?? '').has('domain')).toBe(false);
  });

  it('clear deletes with Max-Age=0 and an Expires in the past', () => {
    const [deleting = ''] = codec().clear(true, 'session=x');
    expect(deleting.startsWith('session=;')).toBe(true);
    expect(attributesOf(deleting).get('max-age')).toBe('0');
    expect(attributesOf(deleting).get('expires')).toBe('Thu, 01 Jan 1970 00:00:00 GMT');
  });

  it.each([
    ['an invalid cookie name', { cookieName: 'bad name' }],
    ['an invalid Domain', { domain: 'a.com; Path=/x' }],
    ['an invalid Path', { path: 'relative' }],
    ['an empty secret', { secret: '' }],
  ])('throws at construction on %s', (_, overrides) => {
    expect(() => codec(overrides)).toThrow(TypeError);
  });
});

describe('SessionCookie chunking', () => {
  // Random, so incompressible: about 6 KB in the cookie.
  const bigData: SessionData = { ...DATA, idToken: randomBytes(4500).toString('base64url') };

  it('does not chunk a small session', async () => {
    expect(await codec().issue(DATA, T0, true)).toHaveLength(1);
  });

  it('splits a large session into cookies browsers accept, and reassembles it', async () => {
    const setCookies = await codec().issue(bigData, T0, true);
    expect(setCookies.length).toBeGreaterThan(1);
    expect(setCookies.map((header) => header.split('=')[0])).toEqual(
      ['session', 'session_2', 'session_3'].slice(0, setCookies.length),
    );
    for (const header of setCookies) {
      expect((header.split(';')[0] ?? '').length).toBeLessThanOrEqual(4000);
      expect(attributesOf(header).get('max-age')).toBe('900');
    }
    expect((await codec().read(browserCookies(setCookies), T0))?.data).toEqual(bigData);
  });

  it('reassembles chunks in any header order', async () => {
    const pairs = browserCookies(await codec().issue(bigData, T0, true)).split('; ');
    const reversed = ['other=1', ...pairs.reverse()].join('; ');
    expect((await codec().read(reversed, T0))?.data).toEqual(bigData);
  });

  it('ignores a session with a missing chunk', async () => {
    const pairs = browserCookies(await codec().issue(bigData, T0, true)).split('; ');
    const header = pairs.filter((pair) => !pair.startsWith('session_2=')).join('; ');
    await expect(codec().read(header, T0)).resolves.toBeUndefined();
  });

  it('ignores a session with a chunk from another session', async () => {
    const first = parseCookies(browserCookies(await codec().issue(bigData, T0, true)));
    const second = parseCookies(browserCookies(await codec().issue(bigData, T0 + 1, true)));
    first.set('session_2', second.get('session_2') ?? '');
    const header = [...first].map(([name, value]) => `${name}=${value}`).join('; ');
    await expect(codec().read(header, T0)).resolves.toBeUndefined();
  });

  it('clears every chunk present', async () => {
    const header = browserCookies(await codec().issue(bigData, T0, true));
    const count = header.split('; ').length;
    const deleting = codec().clear(true, `${header}; unrelated=1`);
    expect(deleting.map((h) => h.split('=')[0])).toEqual(
      ['session', 'session_2', 'session_3'].slice(0, count),
    );
    for (const h of deleting) expect(attributesOf(h).get('max-age')).toBe('0');
  });

  it('clears every possible chunk without a Cookie header', () => {
    const deleting = codec().clear(false);
    expect(deleting.map((h) => h.split('=')[0])).toEqual(
      Array.from({ length: MAX_SESSION_CHUNKS }, (_, i) => (i === 0 ? 'session' : `session_${i + 1}`)),
    );
  });

  it('deletes stale chunks when a smaller session replaces a larger one', async () => {
    const bigHeader = browserCookies(await codec().issue(bigData, T0, true));
    const setCookies = await codec().issue(DATA, T0 + 1, true, undefined, bigHeader);
    const deleted = setCookies
      .filter((h) => attributesOf(h).get('max-age') === '0')
      .map((h) => h.split('=')[0]);
    expect(deleted).toEqual(
      bigHeader
        .split('; ')
        .slice(1)
        .map((pair) => pair.split('=')[0]),
    );
    // Even had the browser kept the stale chunks, the unchunked cookie reads on its own.
    const header = `${browserCookies(setCookies)}; ${bigHeader.split('; ').slice(1).join('; ')}`;
    expect((await codec().read(header, T0 + 1))?.data).toEqual(DATA);
  });

  it('throws on a session too large for the chunk limit', async () => {
    const hugeData = { ...DATA, idToken: randomBytes(3000 * MAX_SESSION_CHUNKS).toString('base64url') };
    await expect(codec().issue(hugeData, T0, true)).rejects.toThrow(/chunks/);
  });
});
