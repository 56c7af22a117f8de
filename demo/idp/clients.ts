/**
 * Pre-registered clients, served to `oidc-provider` through the adapter's
 * `Client` model instead of its static `clients` option. Static clients are
 * frozen at construction, while the proxy's callback port is only known once
 * the test has started it: serving them from a mutable registry lets
 * `setRedirectUris()` take effect on the next request (oidc-provider caches a
 * dynamic client by a hash of its metadata, so changed metadata is re-read).
 */
import type { TestClient } from './types.js';

/** Placeholder until the test supplies the proxy's callback (must be a valid loopback URL). */
const PLACEHOLDER_REDIRECT = 'http://127.0.0.1/callback';

export function defaultClients(opts: {
  redirectUris?: string[];
  spaRedirectUris?: string[];
  postLogoutRedirectUris?: string[];
}): TestClient[] {
  const redirectUris = opts.redirectUris?.length ? opts.redirectUris : [PLACEHOLDER_REDIRECT];
  const postLogout = opts.postLogoutRedirectUris ?? [];
  return [
    {
      clientId: 'gateway',
      clientSecret: 'gateway-secret',
      kind: 'gateway',
      grantTypes: ['authorization_code', 'refresh_token', 'client_credentials', 'password', 'implicit'],
      responseTypes: ['code', 'id_token token', 'id_token'],
      redirectUris,
      postLogoutRedirectUris: postLogout,
      roles: [],
      opaqueTokens: false,
    },
    {
      clientId: 'app-billing',
      clientSecret: 'app-billing-secret',
      kind: 'application',
      grantTypes: ['client_credentials'],
      responseTypes: [],
      redirectUris: [],
      postLogoutRedirectUris: [],
      roles: ['Billing.Read', 'Billing.Write'],
      opaqueTokens: false,
    },
    {
      clientId: 'app-other',
      clientSecret: 'app-other-secret',
      kind: 'application',
      grantTypes: ['client_credentials'],
      responseTypes: [],
      redirectUris: [],
      postLogoutRedirectUris: [],
      roles: ['Other.Read'],
      opaqueTokens: false,
    },
    {
      // Same as an application client, but its tokens are opaque by default:
      // the introspection tests need a token the proxy cannot verify locally.
      clientId: 'app-opaque',
      clientSecret: 'app-opaque-secret',
      kind: 'application',
      grantTypes: ['client_credentials', 'password'],
      responseTypes: [],
      redirectUris: [],
      postLogoutRedirectUris: [],
      roles: ['Opaque.Read'],
      opaqueTokens: true,
    },
    {
      clientId: 'spa',
      kind: 'spa',
      grantTypes: ['authorization_code', 'implicit', 'refresh_token'],
      responseTypes: ['code', 'id_token token', 'id_token'],
      redirectUris: opts.spaRedirectUris?.length ? opts.spaRedirectUris : redirectUris,
      postLogoutRedirectUris: postLogout,
      roles: [],
      opaqueTokens: false,
    },
  ];
}

/** Defaults overlaid with the caller's clients (merged by clientId). */
export function mergeClients(defaults: TestClient[], overrides: Partial<TestClient>[] = []): TestClient[] {
  const byId = new Map(defaults.map((c) => [c.clientId, c]));
  for (const o of overrides) {
    if (!o.clientId) throw new Error('client override without clientId');
    const base = byId.get(o.clientId);
    const merged: TestClient = {
      kind: 'application',
      grantTypes: ['client_credentials'],
      responseTypes: [],
      redirectUris: [],
      postLogoutRedirectUris: [],
      roles: [],
      opaqueTokens: false,
      ...base,
      ...o,
      clientId: o.clientId,
    };
    byId.set(o.clientId, merged);
  }
  return [...byId.values()];
}

/** oidc-provider client metadata (RFC 7591 names) for a test client. */
export function toClientMetadata(client: TestClient): Record<string, unknown> {
  const usesBrowser = client.responseTypes.length > 0;
  const method =
    client.tokenEndpointAuthMethod ?? (client.clientSecret === undefined ? 'none' : 'client_secret_basic');
  return {
    client_id: client.clientId,
    ...(client.clientSecret !== undefined && { client_secret: client.clientSecret }),
    token_endpoint_auth_method: method,
    ...(client.jwks && { jwks: client.jwks }),
    grant_types: client.grantTypes,
    response_types: client.responseTypes,
    ...(usesBrowser ? { redirect_uris: client.redirectUris } : {}),
    ...(client.postLogoutRedirectUris.length
      ? { post_logout_redirect_uris: client.postLogoutRedirectUris }
      : {}),
    // Implicit needs an ID token signing alg; RS256 is the profiles' default.
    id_token_signed_response_alg: 'RS256',
  };
}
