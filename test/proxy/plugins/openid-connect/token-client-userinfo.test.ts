import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { PortcullisError } from '../../../../common/errors.js';
import { UNLIMITED } from '../../../../proxy/plugins/openid-connect/idp-call-limiter.js';
import { OidcMetrics } from '../../../../proxy/plugins/openid-connect/metrics.js';
import type { Provider } from '../../../../proxy/plugins/openid-connect/provider.js';
import { TokenClient } from '../../../../proxy/plugins/openid-connect/token-client.js';

type Answer = { ok: true; json: unknown } | { ok: false; status: number } | Error;

/** A TokenClient over a provider whose userinfo endpoint gives `answers` in turn. */
function client(answers: Answer[], metadata: Record<string, unknown> = {}) {
  const seen: Record<string, string>[] = [];
  const provider = {
    metadata: async () => ({
      issuer: 'https://idp.test',
      userinfo_endpoint: 'https://idp.test/userinfo',
      ...metadata,
    }),
    http: {
      getJsonAnswer: async (_url: string, _endpoint: string, headers: Record<string, string>) => {
        seen.push(headers);
        const answer = answers.shift();
        if (!answer) throw new Error('no more answers');
        if (answer instanceof Error) throw answer;
        return answer;
      },
    },
  } as unknown as Provider;
  return { tokens: new TokenClient(provider, new OidcMetrics(new Registry())), seen };
}

const unavailable = (promise: Promise<unknown>) =>
  expect(promise).rejects.toSatisfy((e) => e instanceof PortcullisError && e.code === 'PCS_IDP_UNAVAILABLE');

describe('TokenClient.userinfo', () => {
  it('sends the token as a bearer token and takes an object with a subject', async () => {
    const { tokens, seen } = client([{ ok: true, json: { sub: 'alice', email: 'a@x' } }]);
    expect(await tokens.userinfo('tok', 60, true, UNLIMITED)).toEqual({
      ok: true,
      value: { sub: 'alice', email: 'a@x' },
    });
    expect(seen[0]).toEqual({ authorization: 'Bearer tok' });
  });

  it.each([401, 403])('refuses the token when the IdP answers %i', async (status) => {
    const { tokens } = client([{ ok: false, status }]);
    expect(await tokens.userinfo('tok', 60, true, UNLIMITED)).toEqual({ ok: false, reason: 'inactive' });
  });

  it.each<[string, Answer]>([
    ['a 500', { ok: false, status: 500 }],
    ['a 400', { ok: false, status: 400 }],
    ['a redirect', { ok: false, status: 302 }],
    ['an answer without sub', { ok: true, json: { email: 'a@x' } }],
    ['a sub that is no string', { ok: true, json: { sub: 42 } }],
    ['an array', { ok: true, json: [{ sub: 'alice' }] }],
    ['null', { ok: true, json: null }],
    ['an unreachable IdP', new PortcullisError('PCS_IDP_UNAVAILABLE', 'userinfo unreachable')],
  ])('fails closed (PCS_IDP_UNAVAILABLE) on %s, never lets it in', async (_name, answer) => {
    const { tokens } = client([answer]);
    await unavailable(tokens.userinfo('tok', 60, true, UNLIMITED));
  });

  it('fails closed when the IdP has no userinfo endpoint', async () => {
    const { tokens } = client([], { userinfo_endpoint: undefined });
    await unavailable(tokens.userinfo('tok', 60, true, UNLIMITED));
  });

  it('caches a success only when caching is on, and a refusal always', async () => {
    const on = client([{ ok: true, json: { sub: 'a' } }]);
    await on.tokens.userinfo('tok', 60, true, UNLIMITED);
    expect((await on.tokens.userinfo('tok', 60, true, UNLIMITED)).ok).toBe(true);
    expect(on.seen).toHaveLength(1);

    const off = client([
      { ok: true, json: { sub: 'a' } },
      { ok: false, status: 401 },
    ]);
    await off.tokens.userinfo('tok', 60, false, UNLIMITED);
    expect((await off.tokens.userinfo('tok', 60, false, UNLIMITED)).ok).toBe(false);
    expect((await off.tokens.userinfo('tok', 60, false, UNLIMITED)).ok).toBe(false);
    expect(off.seen).toHaveLength(2);
  });

  it("never caches past a JWT token's exp", async () => {
    const exp = Math.floor(Date.now() / 1000) - 1;
    const jwt = [{ alg: 'none' }, { exp }, {}]
      .map((part) => Buffer.from(JSON.stringify(part)).toString('base64url'))
      .join('.');
    const { tokens, seen } = client([
      { ok: true, json: { sub: 'a' } },
      { ok: true, json: { sub: 'a' } },
    ]);
    await tokens.userinfo(jwt, 3600, true, UNLIMITED);
    await tokens.userinfo(jwt, 3600, true, UNLIMITED);
    expect(seen).toHaveLength(2);
  });
});
