import { describe, expect, it } from 'vitest';
import {
  AuthorizationStateCookie,
  type AuthorizationStateCookieOptions,
} from '../../../../proxy/plugins/openid-connect/authorization-state.js';
import { deriveCookieKey, parseCookies, sealJson } from '../../../../proxy/plugins/openid-connect/cookies.js';
import { SessionCookie } from '../../../../proxy/plugins/openid-connect/session-cookie.js';

const T0 = 1_700_000_000;
const SECRET = 'an-example-session-secret-of-32-chars-or-more';
const OPTIONS: AuthorizationStateCookieOptions = {
  secret: SECRET,
  issuer: 'https://idp.example.com',
  clientId: 'portcullis',
  binding: 'rules-a',
  cookieName: 'authorization',
};

function codec(overrides: Partial<AuthorizationStateCookieOptions> = {}): AuthorizationStateCookie {
  return new AuthorizationStateCookie({ ...OPTIONS, ...overrides });
}

/** The Cookie header a browser sends back after `setCookie`. */
function cookieHeader(setCookie: string): string {
  return setCookie.split(';')[0] ?? '';
}

describe('AuthorizationStateCookie', () => {
  it('round-trips the state', async () => {
    const { state, setCookie } = await codec().begin('/a/b?x=1', true, T0);
    expect(state.returnTo).toBe('/a/b?x=1');
    expect(await codec().read(cookieHeader(setCookie), T0 + 10)).toEqual(state);
  });

  it('stores an unsafe return path as /', async () => {
    const { state, setCookie } = await codec().begin('//evil.com', true, T0);
    expect(state.returnTo).toBe('/');
    expect((await codec().read(cookieHeader(setCookie), T0))?.returnTo).toBe('/');
  });

  it('makes fresh, long, URL-safe random values', async () => {
    const states = await Promise.all(Array.from({ length: 20 }, () => codec().begin('/', true, T0)));
    const values = states.flatMap(({ state }) => [state.state, state.nonce, state.codeVerifier]);
    expect(new Set(values).size).toBe(values.length);
    for (const { state } of states) {
      // >= 128 bits of base64url each.
      expect(state.state).toMatch(/^[A-Za-z0-9_-]{22,}$/);
      expect(state.nonce).toMatch(/^[A-Za-z0-9_-]{22,}$/);
      // RFC 7636 section 4.1.
      expect(state.codeVerifier).toMatch(/^[A-Za-z0-9\-._~]{43,128}$/);
    }
  });

  it.each([
    { readAt: T0 + 600, valid: true },
    { readAt: T0 + 601, valid: false },
  ])('expires after the default 600 s: read at $readAt valid=$valid', async ({ readAt, valid }) => {
    const { setCookie } = await codec().begin('/', true, T0);
    expect((await codec().read(cookieHeader(setCookie), readAt)) !== undefined).toBe(valid);
  });

  it('honours maxAgeSeconds', async () => {
    const short = codec({ maxAgeSeconds: 30 });
    const { setCookie } = await short.begin('/', true, T0);
    expect(setCookie).toContain('Max-Age=30');
    expect(await short.read(cookieHeader(setCookie), T0 + 30)).toBeDefined();
    await expect(short.read(cookieHeader(setCookie), T0 + 31)).resolves.toBeUndefined();
  });

  it.each([0, 1, 2, 3, 4])('ignores a cookie with JWE part %i tampered with', async (index) => {
    const { setCookie } = await codec().begin('/', true, T0);
    const parts = (parseCookies(cookieHeader(setCookie)).get('authorization') ?? '').split('.');
    const part = parts[index] ?? '';
    parts[index] = part === '' ? 'AAAA' : (part[0] === 'A' ? 'B' : 'A') + part.slice(1);
    await expect(codec().read(`authorization=${parts.join('.')}`, T0)).resolves.toBeUndefined();
  });

  it.each([undefined, '', 'authorization=', 'authorization=junk', 'other=1'])(
    'ignores an absent or malformed cookie: %j',
    async (header) => {
      await expect(codec().read(header, T0)).resolves.toBeUndefined();
    },
  );

  it.each([
    ['issuer', { issuer: 'https://other.example.com' }],
    ['client id', { clientId: 'other' }],
    ['secret', { secret: 'another-session-secret-of-32-chars-or-more' }],
    ['cookie name', { cookieName: 'other' }],
    ['set of acceptance rules', { binding: 'rules-b' }],
  ])('ignores a cookie from an instance with another %s', async (_, overrides) => {
    const { setCookie } = await codec(overrides).begin('/', true, T0);
    const value = setCookie.slice(setCookie.indexOf('=') + 1).split(';')[0];
    await expect(codec().read(`authorization=${value}`, T0)).resolves.toBeUndefined();
  });

  it('does not accept a session cookie as authorization state (separate keys)', async () => {
    const session = new SessionCookie({
      ...OPTIONS,
      binding: 'rules',
      path: '/',
      sameSite: 'Lax',
      httpOnly: true,
      idlingTimeout: 0,
      rollingTimeout: 0,
      absoluteTimeout: 0,
    });
    const [setCookie = ''] = await session.issue(
      { accessToken: 'a', claims: {}, method: 'bearer' },
      T0,
      true,
    );
    await expect(codec().read(cookieHeader(setCookie), T0)).resolves.toBeUndefined();
  });

  it.each([
    ['a short code verifier', { codeVerifier: 'short' }],
    ['an empty state', { state: '' }],
    ['a numeric nonce', { nonce: 1 }],
    ['another issuer', { iss: 'https://other.example.com' }],
    ['no iat', { iat: undefined }],
  ])('ignores a correctly sealed payload with %s', async (_, fields) => {
    const info = `portcullis-authorization|${OPTIONS.issuer}|${OPTIONS.clientId}|${OPTIONS.cookieName}`;
    const payload = {
      iss: OPTIONS.issuer,
      aud: OPTIONS.clientId,
      iat: T0,
      state: 's'.repeat(43),
      nonce: 'n'.repeat(43),
      codeVerifier: 'v'.repeat(43),
      returnTo: '/',
      ...fields,
    };
    const token = await sealJson(payload, deriveCookieKey(SECRET, info));
    await expect(codec().read(`authorization=${token}`, T0)).resolves.toBeUndefined();
  });

  it.each([
    { https: true, expected: 'HttpOnly; SameSite=Lax' },
    { https: false, expected: 'HttpOnly; SameSite=Lax' },
  ])('sets the cookie attributes (https=$https)', async ({ https, expected }) => {
    const { setCookie } = await codec().begin('/', https, T0);
    const attributes = setCookie.slice(setCookie.indexOf(';') + 2);
    expect(attributes).toBe(`Max-Age=600; Path=/; ${https ? 'Secure; ' : ''}${expected}`);
  });

  it.each([true, false])(
    'is SameSite=None and always Secure for a cross-site POST return (form_post; https=%s)',
    async (https) => {
      const cookie = codec({ crossSitePost: true });
      const { setCookie } = await cookie.begin('/', https, T0);
      expect(setCookie.slice(setCookie.indexOf(';') + 2)).toBe(
        'Max-Age=600; Path=/; Secure; HttpOnly; SameSite=None',
      );
      expect(cookie.clear(https)).toMatch(/; Path=\/; Secure; HttpOnly; SameSite=None$/);
    },
  );

  it('clears the cookie with matching attributes', () => {
    expect(codec().clear(true)).toBe(
      'authorization=; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; Secure; HttpOnly; SameSite=Lax',
    );
    expect(codec().clear(false)).not.toContain('Secure');
    expect(codec({ cookieName: '__Host-auth' }).clear(false)).toContain('Secure');
  });

  it.each([
    ['an invalid cookie name', { cookieName: 'a;b' }],
    ['a zero maxAgeSeconds', { maxAgeSeconds: 0 }],
    ['a fractional maxAgeSeconds', { maxAgeSeconds: 1.5 }],
    ['an empty secret', { secret: '' }],
  ])('throws at construction on %s', (_, overrides) => {
    expect(() => codec(overrides)).toThrow(TypeError);
  });
});
