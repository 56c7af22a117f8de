/**
 * Profiles: what issuer URL, endpoint paths and access-token claims look like
 * at the IdPs Kong's openid-connect plugin documents (Okta, Azure AD / Entra
 * ID v2, PingFederate). The proxy must find the application identity in a
 * different claim for each (`application_id`/`cid`, `azp`/`appid`,
 * `client_id`) and the scopes in a different shape (`scp` array, `scp` space
 * string or `roles`, `scope` string) — the point of having three profiles.
 *
 * Claims are added with oidc-provider's `extraTokenClaims` (so they also show
 * up in introspection responses of opaque tokens) and the JWT is finally
 * reshaped by `formats.customizers.jwt` (dropping claims the real IdP does not
 * send, e.g. Okta and Azure have no `scope`/`client_id`).
 */
import { createHash, randomUUID } from 'node:crypto';
import type { IdpProfile, TestClient, TestUser } from './types.js';

/** OIDC scopes; the rest are API (resource) scopes. */
export const OIDC_SCOPES = ['openid', 'profile', 'email', 'groups', 'offline_access'];
export const API_SCOPES = ['api:read', 'api:write'];

export const DEFAULT_TENANT_ID = '6f1c3e2a-9b7d-4c1e-8a5f-2d3b4c5e6f70';
export const DEFAULT_AZURE_API_APP_ID = 'c0ffee00-1234-4abc-8def-0123456789ab';

export interface TokenClaimInput {
  issuer: string;
  clientId: string;
  client: TestClient | undefined;
  /** Present for delegated (user) tokens. */
  user: TestUser | undefined;
  scopes: string[];
}

export interface ProfileDefinition {
  name: IdpProfile;
  /** Path of the issuer under the origin, e.g. `/oauth2/default`. */
  issuerPath: string;
  /** oidc-provider `routes` (relative to the issuer path). */
  routes: Record<string, string>;
  /** Resource indicator whose access tokens are JWTs, and their `aud`. */
  jwtResource: string;
  jwtAudience: string;
  /** Resource indicator whose access tokens are opaque (introspection only). */
  opaqueResource: string;
  /** Scopes the resource servers accept. */
  resourceScopes: string[];
  kidPrefix: string;
  /** Extra claims for an access token (JWT payload and introspection response). */
  claims(input: TokenClaimInput): Record<string, unknown>;
  /** Final JWT reshaping: header and claims oidc-provider adds but the real IdP does not. */
  shapeJwt(
    token: { header: Record<string, unknown> | undefined; payload: Record<string, unknown> },
    user: TestUser | undefined,
  ): void;
}

/** A GUID derived from a string, for Azure-style object ids that stay stable across runs. */
export function stableGuid(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

const apiScopes = (scopes: string[]): string[] => scopes.filter((s) => !OIDC_SCOPES.includes(s));

function okta(audience: string | undefined): ProfileDefinition {
  const aud = audience ?? 'api://default';
  return {
    name: 'okta',
    issuerPath: '/oauth2/default',
    routes: {
      authorization: '/v1/authorize',
      token: '/v1/token',
      jwks: '/v1/keys',
      introspection: '/v1/introspect',
      revocation: '/v1/revoke',
      end_session: '/v1/logout',
      userinfo: '/v1/userinfo',
    },
    jwtResource: aud,
    jwtAudience: aud,
    opaqueResource: 'urn:okta:opaque',
    resourceScopes: [...OIDC_SCOPES, ...API_SCOPES],
    kidPrefix: 'okta',
    claims({ clientId, user, scopes }) {
      return {
        ver: 1,
        cid: clientId,
        application_id: clientId,
        scp: scopes,
        ...(user ? { uid: user.sub, groups: user.groups } : {}),
      };
    },
    shapeJwt({ payload }, user) {
      // Okta: the user's login is `sub`, the user id is `uid`; no scope/client_id.
      if (user) payload.sub = user.email;
      payload.jti = `AT.${String(payload.jti)}`;
      delete payload.scope;
      delete payload.client_id;
    },
  };
}

function azure(tenantId: string, audience: string | undefined): ProfileDefinition {
  const apiAppId = audience ?? DEFAULT_AZURE_API_APP_ID;
  return {
    name: 'azure',
    issuerPath: `/${tenantId}/v2.0`,
    routes: {
      authorization: '/oauth2/v2.0/authorize',
      token: '/oauth2/v2.0/token',
      jwks: '/discovery/v2.0/keys',
      introspection: '/oauth2/v2.0/introspect',
      revocation: '/oauth2/v2.0/revoke',
      end_session: '/oauth2/v2.0/logout',
      userinfo: '/oidc/userinfo',
    },
    jwtResource: `api://${apiAppId}`,
    jwtAudience: apiAppId,
    opaqueResource: 'urn:azure:opaque',
    // `.default` is how Entra ID client-credentials requests name "all app roles".
    resourceScopes: [...OIDC_SCOPES, ...API_SCOPES, 'access_as_user', `api://${apiAppId}/.default`],
    kidPrefix: 'azure',
    claims({ clientId, client, user, scopes }) {
      const delegated = apiScopes(scopes).filter((s) => !s.endsWith('/.default'));
      return {
        ver: '2.0',
        tid: tenantId,
        azp: clientId,
        appid: clientId,
        azpacr: client?.clientSecret === undefined ? '0' : '1',
        oid: stableGuid(user ? `user:${user.sub}` : `sp:${clientId}`),
        uti: randomUUID().replaceAll('-', '').slice(0, 22),
        ...(user
          ? {
              name: user.name,
              preferred_username: user.email,
              groups: user.groups,
              ...(delegated.length ? { scp: delegated.join(' ') } : {}),
            }
          : { roles: client?.roles ?? [] }),
      };
    },
    shapeJwt(token) {
      token.header = { ...token.header, typ: 'JWT' };
      const { payload } = token;
      payload.nbf = payload.iat;
      // Entra ID v2: app tokens have sub == oid of the service principal.
      if (payload.sub === payload.azp && typeof payload.oid === 'string') payload.sub = payload.oid;
      delete payload.scope;
      delete payload.client_id;
    },
  };
}

function ping(audience: string | undefined): ProfileDefinition {
  const aud = audience ?? 'https://api.portcullis.test';
  return {
    name: 'ping',
    issuerPath: '/as',
    routes: {
      authorization: '/authorization.oauth2',
      token: '/token.oauth2',
      jwks: '/pf/JWKS',
      introspection: '/introspect.oauth2',
      revocation: '/revoke_token.oauth2',
      end_session: '/idp/startSLO.ping',
      userinfo: '/idp/userinfo.openid',
    },
    jwtResource: aud,
    jwtAudience: aud,
    opaqueResource: 'urn:ping:opaque',
    resourceScopes: [...OIDC_SCOPES, ...API_SCOPES],
    kidPrefix: 'ping',
    claims({ user }) {
      // PingFederate keeps the RFC 9068 `client_id` and space-separated `scope`.
      return user ? { username: user.username, groups: user.groups } : {};
    },
    shapeJwt(token) {
      token.header = { ...token.header, typ: 'JWT' };
    },
  };
}

/**
 * Keycloak, the IdP Kong's own openid-connect examples are written against:
 * user tokens carry `preferred_username`, `email` and a space-separated
 * `scope`, which those examples' claim rules and headers read.
 */
function keycloak(audience: string | undefined): ProfileDefinition {
  const aud = audience ?? 'account';
  return {
    name: 'keycloak',
    issuerPath: '/realms/kong-compat',
    routes: {
      authorization: '/protocol/openid-connect/auth',
      token: '/protocol/openid-connect/token',
      jwks: '/protocol/openid-connect/certs',
      introspection: '/protocol/openid-connect/token/introspect',
      revocation: '/protocol/openid-connect/revoke',
      end_session: '/protocol/openid-connect/logout',
      userinfo: '/protocol/openid-connect/userinfo',
    },
    // Keycloak's tokens say `aud: account`; oidc-provider needs an absolute URI to name the resource.
    jwtResource: `urn:keycloak:${aud}`,
    jwtAudience: aud,
    opaqueResource: 'urn:keycloak:opaque',
    resourceScopes: [...OIDC_SCOPES, ...API_SCOPES],
    kidPrefix: 'keycloak',
    claims({ clientId, user }) {
      return {
        typ: 'Bearer',
        azp: clientId,
        ...(user
          ? {
              preferred_username: user.username,
              email: user.email,
              email_verified: true,
              name: user.name,
              realm_access: { roles: user.groups },
            }
          : { preferred_username: `service-account-${clientId}` }),
      };
    },
    shapeJwt(token) {
      token.header = { ...token.header, typ: 'JWT' };
    },
  };
}

export function profileDefinition(
  name: IdpProfile,
  opts: { tenantId?: string; audience?: string; resourceScopes?: string[] } = {},
): ProfileDefinition {
  const profile = definition(name, opts);
  return opts.resourceScopes ? { ...profile, resourceScopes: opts.resourceScopes } : profile;
}

function definition(name: IdpProfile, opts: { tenantId?: string; audience?: string }): ProfileDefinition {
  switch (name) {
    case 'okta':
      return okta(opts.audience);
    case 'azure':
      return azure(opts.tenantId ?? DEFAULT_TENANT_ID, opts.audience);
    case 'ping':
      return ping(opts.audience);
    case 'keycloak':
      return keycloak(opts.audience);
  }
}
