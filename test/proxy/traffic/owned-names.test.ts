import { describe, expect, it } from 'vitest';
import {
  SESSION_ACCEPTANCE_FIELDS,
  acceptsSessionOf,
  sessionBinding,
  sessionSecret,
} from '../../../proxy/plugins/openid-connect/session-binding.js';
import { pluginConfigWithDefaults } from '../../../contract/plugins.js';
import type { OpenIdConnectConfig } from '../../../contract/plugins/openid-connect.js';
import { upstreamRequestHeaders, type ForwardingContext } from '../../../proxy/traffic/headers.js';
import { canonicalHeaderName, OwnedNames } from '../../../proxy/traffic/owned-names.js';

const oidc = {
  headers: ['X-User-Email', 'authorization', 'x-id-token'],
  cookies: ['session', 'authorization'],
};
const owned = OwnedNames.forConfig([oidc, { headers: ['X-Tenant'], cookies: [] }]);

describe('OwnedNames', () => {
  it.each([
    ['x-user-email', true],
    ['x-tenant', true],
    ['x-id-token', true],
    ['x-user', false],
    // The client's credential: owned only on routes whose plugins set it.
    ['authorization', false],
  ])('config-wide, %s owned: %s', (name, expected) => {
    expect(owned.ownsHeader(name)).toBe(expected);
  });

  it('a route whose plugin sets Authorization owns it', () => {
    expect(owned.forRoute([oidc]).ownsHeader('authorization')).toBe(true);
    expect(owned.forRoute([{ headers: ['x-tenant'], cookies: [] }])).toBe(owned);
  });

  it.each([
    ['X_User_Email', 'x-user-email'],
    ['x-user-email', 'x-user-email'],
    ['x__a_', 'x--a-'],
  ])('canonical name of %s is %s', (name, expected) => {
    expect(canonicalHeaderName(name.toLowerCase())).toBe(expected);
  });

  it.each([
    ['theme=dark', 'theme=dark'],
    ['session=abc', undefined],
    ['theme=dark; session=abc', 'theme=dark'],
    ['session =abc; lang=en', 'lang=en'],
    ['\tsession\t=abc;lang=en', 'lang=en'],
    ['session_2=x; session_3=y; sessionx=1', 'sessionx=1'],
    ['session_a=1', 'session_a=1'],
    ['authorization=state; a=1', 'a=1'],
    ['session; a=1', 'a=1'],
    ['a=1;;  b=2 ', 'a=1;;  b=2 '],
    ['a=1;;  session=2; b=3 ', 'a=1; b=3'],
    ['mysession=1', 'mysession=1'],
    ['Session=1', 'Session=1'],
  ])('Cookie %j upstream: %j', (header, expected) => {
    expect(owned.withoutOwnedCookies(header)).toBe(expected);
  });

  it('a config owning nothing leaves every cookie', () => {
    expect(OwnedNames.forConfig([]).withoutOwnedCookies('session=1')).toBe('session=1');
  });
});

describe('upstreamRequestHeaders and owned names', () => {
  const ctx: ForwardingContext = {
    peer: '10.0.0.1',
    trusted: false,
    proto: 'http',
    host: 'api.example.com',
    localPort: 8000,
    preserveHost: false,
    strippedPrefix: undefined,
    owned,
  };

  it.each([
    ['x-user-email'],
    ['x_user_email'],
    ['x_consumer_id'],
    ['x-consumer-id'],
    ['x_credential_identifier'],
    ['x_authenticated_scope'],
    ['x_anonymous_consumer'],
  ])('drops %s', (name) => {
    const out = upstreamRequestHeaders({ [name]: 'forged', accept: '*/*' }, ctx);
    expect(out[name]).toBeUndefined();
    expect(out.accept).toBe('*/*');
  });

  it.each([['x_forwarded_for'], ['x_real_ip'], ['x_forwarded_host'], ['forwarded']])(
    'replaces the forwarding header spelled %s with the proxy’s own',
    (name) => {
      const out = upstreamRequestHeaders({ [name]: '6.6.6.6' }, ctx);
      expect(out[name]).toBeUndefined();
      expect(out['x-forwarded-for']).toBe('10.0.0.1');
      expect(out['x-real-ip']).toBe('10.0.0.1');
    },
  );

  it('keeps Authorization where no plugin of the route sets it, and other cookies', () => {
    const out = upstreamRequestHeaders({ authorization: 'Basic x', cookie: 'session=1; a=2' }, ctx);
    expect(out.authorization).toBe('Basic x');
    expect(out.cookie).toBe('a=2');
  });

  it('drops a Cookie header holding only owned cookies', () => {
    expect(upstreamRequestHeaders({ cookie: 'session=1' }, ctx).cookie).toBeUndefined();
  });
});

describe('session binding', () => {
  const base = pluginConfigWithDefaults<OpenIdConnectConfig>('openid-connect', {
    issuer: 'https://idp.example.com',
    client_id: ['gw'],
  });

  it('is the same for the same rules, whatever else differs', () => {
    expect(sessionBinding({ ...base, upstream_headers_claims: ['email'], timeout: 5 })).toBe(
      sessionBinding(base),
    );
  });

  const changes: Record<(typeof SESSION_ACCEPTANCE_FIELDS)[number], unknown> = {
    issuer: 'https://other.example.com',
    client_id: ['other'],
    issuers_allowed: ['https://idp.example.com'],
    leeway: 5,
    enable_hs_signatures: true,
    extra_jwks_uris: ['https://keys.example.com'],
    jwks_endpoint: 'https://keys.example.com/jwks',
    introspection_endpoint: 'https://idp.example.com/introspect',
    userinfo_endpoint: 'https://idp.example.com/userinfo',
    token_endpoint: 'https://idp.example.com/token',
    scopes_claim: ['scp'],
    scopes_required: ['a'],
    audience_claim: ['azp'],
    audience_required: ['api'],
    groups_claim: ['g'],
    groups_required: ['admins'],
    roles_claim: ['r'],
    roles_required: ['admin'],
    claims_forbidden: ['act'],
    domains: ['example.com'],
    consumer_claim: ['sub'],
    consumer_claims: [['sub']],
    consumer_by: ['id'],
    consumer_optional: true,
    disable_session: ['bearer'],
    ssl_verify: false,
  };
  it.each(Object.entries(changes))('changes with %s', (field, value) => {
    expect(sessionBinding({ ...base, [field]: value })).not.toBe(sessionBinding(base));
  });

  it('changes with client_secret when enable_hs_signatures is on (its secrets verify tokens), and only then', () => {
    const hs = { ...base, enable_hs_signatures: true };
    expect(sessionBinding({ ...hs, client_secret: ['attacker'] })).not.toBe(
      sessionBinding({ ...hs, client_secret: ['victim'] }),
    );
    expect(sessionBinding({ ...base, client_secret: ['attacker'] })).toBe(
      sessionBinding({ ...base, client_secret: ['victim'] }),
    );
  });

  it('does not change with auth_methods: acceptsSessionOf decides which methods count', () => {
    expect(sessionBinding({ ...base, auth_methods: ['session'] })).toBe(sessionBinding(base));
  });
});

describe('sessionSecret', () => {
  const fallback = 'proxy-fallback-secret';
  const ns = (namespace: string, name = 'oidc') => ({ kind: 'KongPlugin', namespace, name });
  const cluster = (name: string) => ({ kind: 'KongClusterPlugin', name });

  it('is the configured session_secret wherever the plugin is', () => {
    expect(sessionSecret('mine', ns('shop'), fallback)).toBe('mine');
    expect(sessionSecret('mine', ns('attacker'), fallback)).toBe('mine');
    expect(sessionSecret('mine', cluster('global'), fallback)).toBe('mine');
  });

  it.each([
    // Sessions are shared within a namespace (Kong's session-auth example)…
    [ns('shop', 'login'), ns('shop', 'api'), true],
    // …and among cluster plugins (their authors are the cluster's admins)…
    [cluster('login'), cluster('api'), true],
    // …and nowhere else.
    [ns('attacker'), ns('shop'), false],
    [cluster('oidc'), ns('shop'), false],
    // A namespace named like the cluster scope is still a namespace.
    [ns('cluster'), cluster('oidc'), false],
  ])('without one, %j and %j share the key: %s', (a, b, shared) => {
    expect(sessionSecret(undefined, a, fallback) === sessionSecret(undefined, b, fallback)).toBe(shared);
  });

  it('without one, never is the fallback secret itself nor the configured secret of the same text', () => {
    expect(sessionSecret(undefined, ns('shop'), fallback)).not.toBe(fallback);
    expect(sessionSecret(undefined, ns('shop'), fallback)).not.toBe(
      sessionSecret(fallback, ns('shop'), fallback),
    );
  });
});

describe('acceptsSessionOf', () => {
  it.each([
    // An instance that takes other credentials takes only sessions they started.
    ['password', ['password', 'session'], true],
    ['bearer', ['authorization_code', 'session'], false],
    ['client_credentials', ['authorization_code', 'session'], false],
    ['authorization_code', ['authorization_code', 'session'], true],
    // A session-only instance (Kong's session-auth example) takes its siblings' sessions.
    ['password', ['session'], true],
    ['bearer', ['session'], true],
    ['authorization_code', ['session'], true],
    // Never a session that claims to have been started by a session.
    ['session', ['session'], false],
    ['session', ['password', 'session'], false],
  ] as const)('started by %s, instance takes %j: %s', (method, enabled, expected) => {
    expect(acceptsSessionOf(method, new Set(enabled))).toBe(expected);
  });
});
