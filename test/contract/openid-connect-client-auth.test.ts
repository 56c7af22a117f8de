/**
 * `client_auth: client_secret_jwt | private_key_jwt` with `client_jwk` and
 * `client_alg` (issue 14): what translate accepts, and that the private key
 * never leaves the config it was given in.
 */
import { generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { redactConfig, type CompiledConfig } from '../../contract/index.js';
import { pluginConfigWithDefaults, validatePluginConfig } from '../../contract/plugins.js';
import { assertionAlg, JWK_PRIVATE_MEMBERS } from '../../contract/plugins/client-jwk.js';
import type { Jwk, OpenIdConnectConfig } from '../../contract/plugins/openid-connect.js';
import { emptySnapshot, translate } from '../../controller/translate/index.js';
import { ingress, ingressClass, kongPlugin, secret, service } from '../fixtures/k8s.js';

const ISSUER = 'https://idp.example.test/oauth2/default';
const validate = (config: Record<string, unknown>) => validatePluginConfig('openid-connect', config);

function keyPair(type: 'rsa' | 'ec' | 'ed25519', option?: number | string): { priv: Jwk; pub: Jwk } {
  const { privateKey, publicKey } =
    type === 'rsa'
      ? generateKeyPairSync('rsa', { modulusLength: (option as number | undefined) ?? 2048 })
      : type === 'ec'
        ? generateKeyPairSync('ec', { namedCurve: (option as string | undefined) ?? 'P-256' })
        : generateKeyPairSync('ed25519');
  return {
    priv: { ...(privateKey.export({ format: 'jwk' }) as Jwk), kid: 'k1' },
    pub: { ...(publicKey.export({ format: 'jwk' }) as Jwk), kid: 'k1' },
  };
}

const RSA = keyPair('rsa');
const EC = keyPair('ec');
const pkjwt = (jwk: unknown, extra: Record<string, unknown> = {}) => ({
  issuer: ISSUER,
  client_id: ['gateway'],
  client_auth: ['private_key_jwt'],
  client_jwk: [jwk],
  ...extra,
});

/** Every private member's value in a JWK, for "never printed" checks. */
function privateValues(jwk: Jwk | JsonWebKey): string[] {
  return JWK_PRIVATE_MEMBERS.map((m) => (jwk as Record<string, unknown>)[m]).filter(
    (v): v is string => typeof v === 'string',
  );
}

describe('private_key_jwt: keys that must be refused (attacks and mistakes)', () => {
  it.each([
    ['a public-only key (no "d")', pkjwt(RSA.pub), 'client_jwk.0" has no private part'],
    ['no client_jwk at all', pkjwt(undefined, { client_jwk: undefined }), '"client_jwk" is required by'],
    ['an RSA key under 2048 bits', pkjwt(keyPair('rsa', 1024).priv), 'RSA key of 1024 bits'],
    ['a key whose alg is none', pkjwt({ ...RSA.priv, alg: 'none' }), 'cannot sign with alg "none"'],
    ['client_alg none', pkjwt(RSA.priv, { client_alg: ['none'] }), 'client_alg.0'],
    ['an HS client_alg', pkjwt(RSA.priv, { client_alg: ['HS256'] }), 'is for client_secret_jwt'],
    ['an EC alg for an RSA key', pkjwt(RSA.priv, { client_alg: ['ES256'] }), 'cannot sign with alg "ES256"'],
    ['the wrong curve', pkjwt(EC.priv, { client_alg: ['ES384'] }), 'cannot sign with alg "ES384"'],
    ['an RSA alg for an EC key', pkjwt({ ...EC.priv, alg: 'RS256' }), 'cannot sign with alg "RS256"'],
    [
      'client_alg other than the key says',
      pkjwt({ ...RSA.priv, alg: 'RS256' }, { client_alg: ['PS256'] }),
      'differs from the alg "RS256"',
    ],
    ['a symmetric key', pkjwt({ kty: 'oct', k: 'c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0' }), 'symmetric key'],
    ['an encryption key', pkjwt({ ...RSA.priv, use: 'enc' }), 'has use "enc"'],
    ['key_ops without sign', pkjwt({ ...RSA.priv, key_ops: ['decrypt'] }), 'key_ops without "sign"'],
    ['a damaged key', pkjwt({ ...RSA.priv, n: 'AQAB' }), 'is not a valid private key'],
    [
      'a private key with another public key',
      pkjwt({ ...RSA.priv, n: keyPair('rsa').pub.n }),
      'is not a valid',
    ],
    [
      'an EC key with another point',
      pkjwt({ ...EC.priv, x: keyPair('ec').pub.x, y: keyPair('ec').pub.y }),
      'is not a valid',
    ],
    ['an X25519 key', pkjwt(x25519()), 'cannot sign a client assertion'],
    ['an unknown JWK member', pkjwt({ ...RSA.priv, secret: 'x' }), 'unknown field "client_jwk.0.secret"'],
    [
      'more keys than clients',
      pkjwt(RSA.priv, { client_jwk: [RSA.priv, EC.priv] }),
      '"client_jwk" has more entries than "client_id"',
    ],
  ])('refuses %s, naming the field', (_name, config, problem) => {
    const problems = validate(config);
    expect(problems.join('\n')).toContain(problem);
  });

  it('never quotes key material in a problem', () => {
    const damaged = { ...RSA.priv, n: 'AQAB', alg: 'none' };
    const text = [
      ...validate(pkjwt(damaged)),
      ...validate(pkjwt({ ...RSA.priv, d: 42 })),
      ...validate(pkjwt({ ...RSA.priv, oth: 'x' })),
      ...validate(pkjwt(keyPair('rsa', 1024).priv)),
    ].join('\n');
    for (const value of privateValues(RSA.priv)) expect(text).not.toContain(value);
  });
});

describe('private_key_jwt: keys that are accepted', () => {
  it.each([
    // Test names never print a config: it holds a private key.
    ['RSA 2048, alg implied', 'RS256', pkjwt(RSA.priv)],
    ['RSA with client_alg PS256', 'PS256', pkjwt(RSA.priv, { client_alg: ['PS256'] })],
    ['RSA with its own alg RS384', 'RS384', pkjwt({ ...RSA.priv, alg: 'RS384' })],
    ['EC P-256', 'ES256', pkjwt(EC.priv)],
    ['EC P-384', 'ES384', pkjwt(keyPair('ec', 'P-384').priv)],
    ['EC P-521 with client_alg ES512', 'ES512', pkjwt(keyPair('ec', 'P-521').priv, { client_alg: 'ES512' })],
    ['Ed25519', 'EdDSA', pkjwt(keyPair('ed25519').priv)],
    // configPatches of /client_jwk from a Secret holding one JWK give an object, not a list.
    ['one JWK, not in a list', 'RS256', { ...pkjwt(undefined), client_jwk: RSA.priv }],
  ])('%s signs with %s', (_name, alg, input) => {
    expect(validate(input)).toEqual([]);
    // What the proxy does with it: defaults applied, the first client's key and alg.
    const config = pluginConfigWithDefaults<OpenIdConnectConfig>('openid-connect', input);
    expect(assertionAlg('private_key_jwt', config.client_jwk?.[0], config.client_alg?.[0])).toBe(alg);
  });
});

describe('client_secret_jwt', () => {
  const csjwt = (extra: Record<string, unknown> = {}) => ({
    issuer: ISSUER,
    client_id: ['gateway'],
    client_secret: ['a-long-enough-shared-secret-for-hs256-0123456789'],
    client_auth: ['client_secret_jwt'],
    ...extra,
  });

  it('signs HS256 unless client_alg says HS384 or HS512', () => {
    expect(validate(csjwt())).toEqual([]);
    expect(assertionAlg('client_secret_jwt', undefined, undefined)).toBe('HS256');
    expect(validate(csjwt({ client_alg: ['HS512'] }))).toEqual([]);
    expect(assertionAlg('client_secret_jwt', undefined, 'HS512')).toBe('HS512');
  });

  it('refuses an asymmetric client_alg and a missing secret', () => {
    expect(validate(csjwt({ client_alg: ['RS256'] }))).toEqual([
      'field "client_alg" value "RS256" cannot sign client_secret_jwt (HS256, HS384 or HS512)',
    ]);
    expect(validate(csjwt({ client_secret: undefined }))).toEqual([
      'field "client_secret" is required by client_auth "client_secret_jwt"',
    ]);
  });
});

describe('the private key is never printed', () => {
  it('redactConfig hides the private members of client_jwk and keeps the public ones', () => {
    const config = {
      schemaVersion: 1,
      certificates: [],
      virtualHosts: [],
      upstreams: [],
      applications: [],
      plugins: [
        {
          id: 'p',
          name: 'openid-connect',
          config: { ...pkjwt(RSA.priv), nested: { copy: EC.priv } },
          source: { kind: 'KongPlugin', namespace: 'a', name: 'p' },
        },
      ],
    } as unknown as CompiledConfig;
    const text = JSON.stringify(redactConfig(config));
    for (const value of [...privateValues(RSA.priv), ...privateValues(EC.priv)]) {
      expect(text).not.toContain(value);
    }
    expect(text).toContain(RSA.priv.n);
    expect(text).toContain('"kid":"k1"');
  });

  it('translate takes the key from a Secret by configPatches; the printed config and problems hold none of it', () => {
    const snapshot = emptySnapshot();
    snapshot.ingressClasses.push(ingressClass());
    snapshot.services.push(service('shop', 'web'));
    for (const [name, plugin] of [
      ['web', 'oidc'],
      ['weak', 'broken'],
    ] as const) {
      snapshot.ingresses.push(
        ingress('shop', name, {
          annotations: { 'konghq.com/plugins': plugin },
          rules: [{ host: `${name}.example.com`, paths: [{ path: '/', service: 'web' }] }],
        }),
      );
    }
    const patch = (key: string) => ({
      configPatches: [{ path: '/client_jwk', valueFrom: { secretKeyRef: { name: 'oidc-key', key } } }],
    });
    const config = { issuer: ISSUER, client_id: ['gateway'], client_auth: ['private_key_jwt'] };
    snapshot.kongPlugins.push(
      kongPlugin('shop', 'oidc', 'openid-connect', config, patch('jwk')),
      kongPlugin('shop', 'broken', 'openid-connect', config, patch('weak')),
    );
    const weak = keyPair('rsa', 1024).priv;
    snapshot.secrets.push(
      secret('shop', 'oidc-key', { jwk: JSON.stringify(RSA.priv), weak: JSON.stringify(weak) }),
    );
    const result = translate(snapshot);
    const plugin = result.config.plugins.find((p) => p.id.endsWith('oidc'));
    // The proxy gets the key (it signs with it)...
    expect((plugin?.config.client_jwk as Jwk).d).toBe(RSA.priv.d);
    // ...a broken one fails its route closed, naming the field...
    const route = (host: string) => result.config.virtualHosts.find((v) => v.host === host)!.routes[0]!;
    expect(route('web.example.com').unavailable).toBeUndefined();
    expect(route('weak.example.com').unavailable?.code).toBe('PLUGIN_CONFIG_INVALID');
    expect(result.problems).toEqual([
      expect.objectContaining({
        code: 'PLUGIN_CONFIG_INVALID',
        message: expect.stringContaining('field "client_jwk.0" is an RSA key of 1024 bits'),
      }),
    ]);
    // ...and nothing printed or stored in status carries either key.
    const printed = JSON.stringify({ config: redactConfig(result.config), problems: result.problems });
    for (const value of [...privateValues(RSA.priv), ...privateValues(weak)]) {
      expect(printed).not.toContain(value);
    }
  });
});

function x25519(): Jwk {
  return generateKeyPairSync('x25519').privateKey.export({ format: 'jwk' }) as Jwk;
}
