/**
 * Attacks on bearer-token verification, each against a real proxy (two
 * workers), a real OpenID Provider and an echo upstream that records what it
 * receives. Every attack must fail closed: the expected status, the
 * `WWW-Authenticate: Bearer` challenge on a 401, and nothing upstream.
 * Each positive control differs from its attack only in the attacked
 * property, so the attack tests cannot pass by accident.
 */
import { generateKeyPairSync, randomBytes, randomUUID, X509Certificate, type KeyObject } from 'node:crypto';
import { exportJWK } from 'jose';
import { generate } from 'selfsigned';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigBuilder } from '../../support/config-builder.js';
import { http, rawHttp } from '../../support/http-client.js';
import { startProxy, type ProxyProcess } from '../../support/proxy-process.js';
import { startEcho, type EchoServer } from '../../support/upstreams.js';
import { startTestIdp, type TestIdp } from '../../../demo/idp/test-idp.js';
import {
  expectAccepted,
  expectRefused,
  probePath,
  reachedUpstream,
  startCountingServer,
  type CountingServer,
} from './attack-support.js';

const PARTNER_ISSUER = 'https://partner.example.test/oauth2/default';
const SPOOFED = {
  'x-consumer-id': 'spoofed/consumer',
  'x-consumer-custom-id': 'spoofed-custom',
  'x-consumer-username': 'spoofed-user',
  'x-credential-identifier': 'spoofed-credential',
  'x-authenticated-scope': 'admin:all',
  'x-anonymous-consumer': 'false',
};

let idp: TestIdp;
/** An IdP that is down from the start: the proxy never fetched its keys. */
let downIdp: TestIdp;
let echo: EchoServer;
let proxy: ProxyProcess;
let attacker: { privateKey: KeyObject; publicKey: KeyObject };

beforeAll(async () => {
  [idp, downIdp, echo] = await Promise.all([
    startTestIdp({ profile: 'okta' }),
    startTestIdp({ profile: 'okta' }),
    startEcho(),
  ]);
  await downIdp.setDown(true, 'http-503');
  attacker = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const base = {
    issuer: idp.issuer,
    client_id: [idp.gateway.clientId],
    client_secret: [idp.gateway.clientSecret!],
    auth_methods: ['bearer'],
    bearer_token_param_type: ['header'],
    rediscovery_lifetime: 30,
  };
  const plugins: [string, Record<string, unknown>][] = [
    ['api', base],
    ['hs', { ...base, enable_hs_signatures: true }],
    ['leeway', { ...base, leeway: 60 }],
    ['iss', { ...base, issuers_allowed: [idp.issuer, PARTNER_ISSUER] }],
    ['aud', { ...base, audience_required: [idp.resources.jwtAudience] }],
    ['forbid', { ...base, claims_forbidden: ['act'] }],
    ['domains', { ...base, domains: ['example.com'] }],
    // Kong's multi-IdP example sets verify_claims false; here claims are verified all the same.
    [
      'noclaims',
      {
        ...base,
        issuers_allowed: [idp.issuer, PARTNER_ISSUER],
        audience_required: [idp.resources.jwtAudience],
        verify_claims: false,
      },
    ],
    ['both', { ...base, bearer_token_param_type: ['header', 'query'] }],
    [
      'consumer',
      { ...base, consumer_claim: ['application_id'], consumer_by: ['custom_id'], consumer_optional: true },
    ],
    // Own providers (the timeout makes the settings differ), so their JWKS counts start from nothing.
    ['flood', { ...base, timeout: 10_001 }],
    ['flood0', { ...base, timeout: 10_002, rediscovery_lifetime: 0 }],
    ['down', { ...base, issuer: downIdp.issuer }],
  ];
  const builder = new ConfigBuilder().upstream('echo', [echo.port]);
  for (const [name, config] of plugins) {
    builder.plugin(`test/${name}`, 'openid-connect', config);
    builder.route(name, `/${name}`, 'echo', { plugins: [`test/${name}`], service: 'test/echo' });
  }
  builder.route('open', '/open', 'echo', { service: 'test/echo' });
  builder.application('billing/billing', 'app-billing');
  proxy = await startProxy({ workers: 2 });
  await proxy.pushOk(builder.build());
}, 60_000);

afterAll(async () => {
  await proxy?.stop();
  await echo?.close();
  await idp?.stop();
  await downIdp?.stop();
});

/** Claims of a valid access token for app-billing (default: now). */
function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const payload = { ...idp.accessTokenClaims('app-billing'), ...overrides };
  for (const [k, v] of Object.entries(payload)) if (v === undefined) delete payload[k];
  return payload;
}

function get(path: string, headers: Record<string, string> = {}) {
  return http({ port: proxy.httpPort, path, headers });
}

function bearer(path: string, token: string, headers: Record<string, string> = {}) {
  return get(path, { authorization: `Bearer ${token}`, ...headers });
}

/** Sends `token` to `/route` and checks the refusal. */
async function refused(route: string, token: string, status = 401): Promise<void> {
  const path = probePath(`/${route}`);
  expectRefused(echo, path, await bearer(path, token), status);
}

async function accepted(route: string, token: string): Promise<void> {
  const path = probePath(`/${route}`);
  expectAccepted(echo, path, await bearer(path, token));
}

const now = () => Math.floor(Date.now() / 1000);

describe('positive control', () => {
  it('a token forged with the IdP key and realistic claims is accepted', async () => {
    await accepted('api', idp.signJwt(claims()));
  });

  it('a real access token from the IdP is accepted', async () => {
    const token = await idp.clientCredentials('app-billing', idp.clients['app-billing']!.clientSecret!);
    await accepted('api', token.access_token!);
  });
});

describe('algorithm attacks', () => {
  it('refuses alg none with an empty signature', async () => {
    const token = idp.signJwt(claims(), { header: { alg: 'none' } });
    expect(token.endsWith('.')).toBe(true);
    await refused('api', token);
    await refused('hs', token);
  });

  it('refuses alg None / NONE spellings', async () => {
    for (const alg of ['None', 'NONE', 'nOnE'])
      await refused('api', idp.signJwt(claims(), { header: { alg } }));
  });

  it('refuses HS256 keyed with the RSA public key PEM (alg confusion)', async () => {
    const pem = idp.currentKey().publicKeyPem;
    const token = idp.signJwt(claims(), { header: { alg: 'HS256' }, key: pem });
    await refused('api', token);
    // Even where HS256 is on: the HMAC key is the client secret, never a public key.
    await refused('hs', token);
  });

  it('refuses HS256 keyed with the public JWK JSON', async () => {
    const jwk = JSON.stringify(idp.currentKey().publicJwk);
    const token = idp.signJwt(claims(), { header: { alg: 'HS256' }, key: jwk });
    await refused('api', token);
    await refused('hs', token);
  });

  it('refuses an RSA algorithm the IdP does not advertise, signed with its real key', async () => {
    for (const alg of ['RS384', 'RS512', 'PS256'])
      await refused('api', idp.signJwt(claims(), { header: { alg } }));
  });

  it('refuses ES256 signed with a foreign key', async () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    await refused('api', idp.signJwt(claims(), { header: { alg: 'ES256' }, key: ec.privateKey }));
  });

  it('refuses HS256 keyed by the client secret when enable_hs_signatures is false', async () => {
    const token = idp.signJwt(claims(), { header: { alg: 'HS256' }, key: idp.gateway.clientSecret! });
    await refused('api', token);
  });

  it('accepts the same HS256 token where enable_hs_signatures is true (control)', async () => {
    const token = idp.signJwt(claims(), { header: { alg: 'HS256' }, key: idp.gateway.clientSecret! });
    await accepted('hs', token);
  });

  it('refuses HS256 keyed by a wrong secret where enable_hs_signatures is true', async () => {
    await refused('hs', idp.signJwt(claims(), { header: { alg: 'HS256' }, key: 'not-the-client-secret' }));
  });
});

describe('key selection attacks', () => {
  it.each([
    ['path traversal', '../../etc/passwd'],
    ['SQL', "' OR '1'='1' --"],
    ['command', '$(curl evil.example)'],
    ['empty', ''],
  ])('refuses a kid with %s', async (_what, kid) => {
    await refused('api', idp.signJwt(claims(), { header: { kid }, key: attacker.privateKey }));
    await refused('api', idp.signJwt(claims(), { header: { kid } }).replace(/\.[^.]*$/, '.AAAA'));
  });

  it('refuses the kid of the real key with a signature by another key', async () => {
    await refused('api', idp.signJwt(claims(), { key: attacker.privateKey }));
  });

  it('refuses a real signature with a tampered payload', async () => {
    const [h, , s] = idp.signJwt(claims()).split('.');
    const forged = Buffer.from(JSON.stringify(claims({ sub: 'admin' }))).toString('base64url');
    await refused('api', `${h}.${forged}.${s}`);
  });

  describe('keys named by the token itself', () => {
    let jwks: CountingServer;
    let attackerJwk: Record<string, unknown>;

    beforeAll(async () => {
      attackerJwk = { ...(await exportJWK(attacker.publicKey)), kid: 'attacker-1', alg: 'RS256', use: 'sig' };
      jwks = await startCountingServer({ keys: [attackerJwk] });
    });
    afterAll(() => jwks?.close());

    it('never fetches a jku or x5u URL, and refuses the token', async () => {
      for (const header of [
        { jku: `${jwks.url}/jwks.json`, kid: 'attacker-1' },
        { x5u: `${jwks.url}/cert.pem`, kid: 'attacker-1' },
        { jku: `${jwks.url}/jwks.json`, kid: idp.currentKey().kid },
      ]) {
        await refused('api', idp.signJwt(claims(), { header, key: attacker.privateKey }));
      }
      // Give any background fetch time to arrive before counting.
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(jwks.hits).toEqual([]);
    });

    it('refuses a token signed by the key embedded in its own jwk header', async () => {
      for (const kid of [undefined, 'attacker-1', idp.currentKey().kid]) {
        const header = { jwk: attackerJwk, kid };
        await refused('api', idp.signJwt(claims(), { header, key: attacker.privateKey }));
      }
    });

    it('refuses a token signed by the key of the certificate in its own x5c header', async () => {
      const pems = await generate([{ name: 'commonName', value: 'attacker' }], {
        keyType: 'rsa',
        keySize: 2048,
        algorithm: 'sha256',
      });
      const der = new X509Certificate(pems.cert).raw.toString('base64');
      for (const kid of [undefined, idp.currentKey().kid]) {
        const header = { x5c: [der], kid };
        await refused('api', idp.signJwt(claims(), { header, key: pems.private }));
      }
    });
  });
});

describe('claim attacks', () => {
  it('refuses an expired token (leeway 0)', async () => {
    await refused('api', idp.signJwt(claims({ exp: now() - 120, iat: now() - 600 })));
  });

  it('refuses a token expired beyond the leeway', async () => {
    await refused('leeway', idp.signJwt(claims({ exp: now() - 120, iat: now() - 600 })));
  });

  it('accepts a token expired within the leeway (control)', async () => {
    await accepted('leeway', idp.signJwt(claims({ exp: now() - 30, iat: now() - 600 })));
  });

  it('refuses nbf in the future', async () => {
    await refused('api', idp.signJwt(claims({ nbf: now() + 120 })));
  });

  it('refuses iat in the future', async () => {
    await refused('api', idp.signJwt(claims({ iat: now() + 120, exp: now() + 600 })));
  });

  it('refuses a token without exp', async () => {
    await refused('api', idp.signJwt(claims({ exp: undefined })));
  });

  it('refuses an exp that is not a number', async () => {
    await refused('api', idp.signJwt(claims({ exp: String(now() + 300) })));
  });

  it('refuses a wrong iss', async () => {
    await refused('api', idp.signJwt(claims({ iss: 'https://evil.example.test/oauth2/default' })));
    await refused('api', idp.signJwt(claims({ iss: undefined })));
    await refused('api', idp.signJwt(claims({ iss: PARTNER_ISSUER })));
  });

  it('refuses an iss outside issuers_allowed', async () => {
    await refused('iss', idp.signJwt(claims({ iss: 'https://evil.example.test/oauth2/default' })));
  });

  it('accepts an iss listed in issuers_allowed (control)', async () => {
    await accepted('iss', idp.signJwt(claims({ iss: PARTNER_ISSUER })));
  });

  it('refuses a wrong aud when audience_required is set', async () => {
    await refused('aud', idp.signJwt(claims({ aud: 'api://other' })));
    await refused('aud', idp.signJwt(claims({ aud: undefined })));
  });

  it('accepts the required aud (control)', async () => {
    await accepted('aud', idp.signJwt(claims({ aud: idp.resources.jwtAudience })));
  });

  it('claims_forbidden: refuses a token carrying the claim (403), accepts one without (control)', async () => {
    await refused('forbid', idp.signJwt(claims({ act: { sub: 'someone-else' } })), 403);
    await refused('forbid', idp.signJwt(claims({ act: null })), 403);
    await accepted('forbid', idp.signJwt(claims()));
  });

  it('domains: refuses a token of another hosted domain or none, accepts a listed one (control)', async () => {
    await refused('domains', idp.signJwt(claims({ hd: 'evil.com' })));
    await refused('domains', idp.signJwt(claims()));
    await accepted('domains', idp.signJwt(claims({ hd: 'example.com' })));
  });

  it('refuses an ID token used as an access token', async () => {
    const alice = idp.users.alice!;
    const tokens = await idp.password(alice.username, alice.password, 'openid profile email');
    expect(tokens.id_token).toBeDefined();
    await refused('api', tokens.id_token!);
    // The access token issued with it is accepted: only the kind of token differs.
    await accepted('api', tokens.access_token!);
  });

  it('refuses a forged token carrying a nonce (an ID token shape)', async () => {
    await refused('api', idp.signJwt(claims({ nonce: 'n-0S6_WzA2Mj' })));
  });
});

describe('verify_claims: false still verifies every claim', () => {
  it.each([
    ['expired', { exp: now() - 120, iat: now() - 600 }],
    ['without exp', { exp: undefined }],
    ['nbf in the future', { nbf: now() + 120 }],
    ['iat in the future', { iat: now() + 120, exp: now() + 600 }],
    ['iss outside issuers_allowed', { iss: 'https://evil.example.test/oauth2/default' }],
    ['without iss', { iss: undefined }],
    ['wrong aud', { aud: 'api://other' }],
  ])('refuses a token %s', async (_what, overrides) => {
    await refused('noclaims', idp.signJwt(claims(overrides)));
  });

  it('accepts a token from either allowed issuer (control)', async () => {
    await accepted('noclaims', idp.signJwt(claims()));
    await accepted('noclaims', idp.signJwt(claims({ iss: PARTNER_ISSUER })));
  });
});

describe('malformed credentials', () => {
  it.each([
    ['two parts', 'a.b'],
    ['three parts', 'a.b.c'],
    ['empty parts', '..'],
    ['non-base64', 'ey$$.ey%%.sig!!'],
    ['JSON header not an object', `${Buffer.from('[]').toString('base64url')}.e30.AAAA`],
    ['four parts', 'a.b.c.d'],
    ['nine kilobytes', `${'a'.repeat(3000)}.${'b'.repeat(3000)}.${'c'.repeat(3216)}`],
  ])('refuses a token with %s', async (_what, token) => {
    await refused('api', token);
  });

  it('refuses a valid token padded past the size limit', async () => {
    const token = idp.signJwt(claims({ pad: 'x'.repeat(9000) }));
    await refused('api', token);
  });

  it('refuses a unicode token', async () => {
    const path = probePath('/api');
    const res = await rawHttp(
      proxy.httpPort,
      `GET ${path} HTTP/1.1\nHost: localhost\nAuthorization: Bearer ünïcødé.tøkén.✓\nConnection: close\n\n`,
    );
    expectRefused(echo, path, res, [400, 401]);
  });

  it('refuses an oversized Authorization header', async () => {
    const path = probePath('/api');
    const res = await bearer(path, 'a'.repeat(70_000)).catch((error: Error) => ({
      status: 0,
      headers: {},
      text: error.message,
    }));
    // Node's header limit answers 431 before any plugin runs (or the connection is cut).
    expectRefused(echo, path, res, [0, 400, 401, 431]);
  });

  it('refuses a bearer scheme without a token', async () => {
    for (const authorization of ['Bearer', 'Bearer ', 'Bearer    ']) {
      const path = probePath('/api');
      expectRefused(echo, path, await get(path, { authorization }), [400, 401]);
    }
  });
});

describe('where the token comes from', () => {
  it('ignores (and does not forward) a token in the query when only the header is allowed', async () => {
    const path = probePath('/api', `?access_token=${idp.signJwt(claims())}`);
    expectRefused(echo, path, await get(path), 401);
  });

  it('accepts a token in the query where the query is allowed (control)', async () => {
    const path = probePath('/both', `?access_token=${idp.signJwt(claims())}`);
    expectAccepted(echo, path, await get(path));
  });

  it('refuses a token in both the header and the query with 400 invalid_request', async () => {
    const path = probePath('/both', `?access_token=${idp.signJwt(claims())}`);
    const res = await bearer(path, idp.signJwt(claims()));
    expectRefused(echo, path, res, 400);
    expect(res.text).not.toContain('eyJ');
  });

  it('refuses two access_token query parameters', async () => {
    const token = idp.signJwt(claims());
    const path = probePath('/both', `?access_token=${token}&access_token=${token}`);
    expectRefused(echo, path, await get(path), 400);
  });

  it('refuses duplicate Authorization headers with 400', async () => {
    const [a, b] = [idp.signJwt(claims()), idp.signJwt(claims({ sub: 'someone-else' }))];
    const send = (path: string, lines: string[]) =>
      rawHttp(
        proxy.httpPort,
        `GET ${path} HTTP/1.1\nHost: localhost\n${lines.join('\n')}\nConnection: close\n\n`,
      );
    const path = probePath('/api');
    expectRefused(
      echo,
      path,
      await send(path, [`Authorization: Bearer ${a}`, `Authorization: Bearer ${b}`]),
      400,
    );
    const mixed = probePath('/api');
    expectRefused(
      echo,
      mixed,
      await send(mixed, [`Authorization: Bearer ${a}`, `authorization: Basic Zm9vOmJhcg==`]),
      400,
    );
    // The same raw request with one header goes through: only the duplicate differs.
    const single = probePath('/api');
    expectAccepted(echo, single, await send(single, [`Authorization: Bearer ${a}`]));
  });
});

describe('spoofed identity headers', () => {
  function seen(path: string) {
    const request = echo.requests.find((r) => r.url === path);
    expect(request, 'the request reached the upstream').toBeDefined();
    return request!.headers;
  }

  it('never forwards client-supplied identity headers on a route without plugins', async () => {
    const path = probePath('/open');
    expect((await get(path, SPOOFED)).status).toBe(200);
    const headers = seen(path);
    for (const name of Object.keys(SPOOFED)) expect(headers[name], name).toBeUndefined();
  });

  it('replaces or drops them on an authenticated route without a mapped consumer', async () => {
    // app-other has no Application: consumer_optional lets it through without X-Consumer-*.
    const path = probePath('/consumer');
    const token = idp.signJwt({ ...idp.accessTokenClaims('app-other'), scope: 'api:read' });
    expect((await bearer(path, token, SPOOFED)).status).toBe(200);
    const headers = seen(path);
    for (const name of [
      'x-consumer-id',
      'x-consumer-custom-id',
      'x-consumer-username',
      'x-anonymous-consumer',
    ])
      expect(headers[name], name).toBeUndefined();
    expect(headers['x-credential-identifier']).toBe('app-other');
    expect(headers['x-authenticated-scope']).toBe('api:read');
  });

  it('replaces them with the mapped consumer on an authenticated route', async () => {
    const path = probePath('/consumer');
    expect((await bearer(path, idp.signJwt(claims()), SPOOFED)).status).toBe(200);
    const headers = seen(path);
    expect(headers['x-consumer-custom-id']).toBe('app-billing');
    expect(headers['x-consumer-id']).toBe('billing/billing');
    expect(headers['x-credential-identifier']).toBe('app-billing');
    expect(headers['x-anonymous-consumer']).toBeUndefined();
  });

  it('refuses a spoofing request without credentials and sends nothing upstream', async () => {
    const path = probePath('/consumer');
    expectRefused(echo, path, await get(path, SPOOFED), 401);
  });
});

describe('availability attacks', () => {
  it('a random-kid flood refetches the JWKS at most once per worker', async () => {
    idp.resetCounts();
    const results = await Promise.all(
      Array.from({ length: 200 }, async () => {
        const path = probePath('/flood');
        const token = idp.signJwt(claims(), { header: { kid: randomBytes(12).toString('hex') } });
        const res = await bearer(path, token);
        return {
          status: res.status,
          through: reachedUpstream(echo, path),
          challenge: res.headers['www-authenticate'],
        };
      }),
    );
    expect(new Set(results.map((r) => r.status))).toEqual(new Set([401]));
    expect(results.some((r) => r.through)).toBe(false);
    expect(results.every((r) => /^Bearer /.test(String(r.challenge)))).toBe(true);
    const jwks = idp.requestCounts().jwks;
    // Per worker (2): the first fetch, then at most one refetch for an unknown kid per
    // rediscovery_lifetime (the first fetch does not start that window, so a key rotated
    // in right after start is found at once). 200 made-up kids cannot cost more.
    expect(jwks).toBeGreaterThanOrEqual(1);
    expect(jwks).toBeLessThanOrEqual(4);
  });

  it('with rediscovery_lifetime 0 the same flood does refetch (control: the count can fail)', async () => {
    idp.resetCounts();
    for (let i = 0; i < 20; i++) {
      await refused('flood0', idp.signJwt(claims(), { header: { kid: randomUUID() } }));
    }
    expect(idp.requestCounts().jwks).toBeGreaterThan(4);
  });

  it('answers 503 while the IdP is unreachable and no key was ever fetched, without hammering it', async () => {
    downIdp.resetCounts();
    const started = Date.now();
    const token = idp.signJwt(claims({ iss: downIdp.issuer }));
    for (let i = 0; i < 50; i++) {
      const path = probePath('/down');
      const res = await bearer(path, token);
      expectRefused(echo, path, res, 503);
    }
    const elapsed = Date.now() - started;
    const counts = downIdp.requestCounts();
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    // Each worker tries at most once per 2 s back-off window.
    const windows = Math.ceil(elapsed / 2000) + 1;
    expect(total, JSON.stringify(counts)).toBeGreaterThanOrEqual(1);
    expect(total, JSON.stringify(counts)).toBeLessThanOrEqual(2 * windows);
    expect(total).toBeLessThan(50);
  });

  it('also answers 503 (not 401) when the IdP refuses connections', async () => {
    await downIdp.setDown(true, 'refuse');
    try {
      await new Promise((resolve) => setTimeout(resolve, 2100));
      const path = probePath('/down');
      expectRefused(echo, path, await bearer(path, idp.signJwt(claims())), 503);
    } finally {
      await downIdp.setDown(true, 'http-503');
    }
  });
});
