/**
 * oidc-provider configuration. Built by a function because key rotation
 * constructs a fresh Provider (the keystore is fixed at construction); every
 * piece of state — store, clients, users, keys — is passed in and outlives it.
 */
import Provider, {
  errors,
  type OidcClient,
  type OidcContext,
  type ResourceServerInfo,
  type TokenLike,
} from 'oidc-provider';
import type { KeyRing } from './key-rotation.js';
import type { MemoryStore } from './memory-adapter.js';
import { API_SCOPES, OIDC_SCOPES, type ProfileDefinition } from './profiles.js';
import { registerPasswordGrant } from './grants/password.js';
import type { TestClient } from './types.js';
import type { UserStore } from './users.js';

export interface ProviderDeps {
  issuer: string;
  profile: ProfileDefinition;
  store: MemoryStore;
  clients: Map<string, TestClient>;
  users: UserStore;
  keys: KeyRing;
  cookieKeys: string[];
  accessTokenTtl: number;
  onError: (message: string, error: unknown) => void;
}

function resourceServerInfo(deps: ProviderDeps, resource: string): ResourceServerInfo | undefined {
  const { profile, accessTokenTtl } = deps;
  const scope = profile.resourceScopes.join(' ');
  if (resource === profile.jwtResource) {
    return {
      scope,
      audience: profile.jwtAudience,
      accessTokenFormat: 'jwt',
      accessTokenTTL: accessTokenTtl,
      jwt: { sign: { alg: 'RS256' } },
    };
  }
  if (resource === profile.opaqueResource) {
    return {
      scope,
      audience: profile.opaqueResource,
      accessTokenFormat: 'opaque',
      accessTokenTTL: accessTokenTtl,
    };
  }
  return undefined;
}

function defaultResourceFor(deps: ProviderDeps, clientId: string): string {
  return deps.clients.get(clientId)?.opaqueTokens ? deps.profile.opaqueResource : deps.profile.jwtResource;
}

/** No resource (a userinfo access token) for a `userinfoTokens` client's logins. */
function loginResourceFor(deps: ProviderDeps, clientId: string): string | undefined {
  return deps.clients.get(clientId)?.userinfoTokens ? undefined : defaultResourceFor(deps, clientId);
}

const page = (title: string, body: string): string =>
  `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${title}</title></head><body>${body}</body></html>`;

export function buildProvider(deps: ProviderDeps): Provider {
  const { profile, users, clients } = deps;
  const prefix = new URL(deps.issuer).pathname;

  const claimsFor = (token: TokenLike): Record<string, unknown> | undefined => {
    if (token.kind !== 'AccessToken' && token.kind !== 'ClientCredentials') return undefined;
    const clientId = token.clientId ?? '';
    return profile.claims({
      issuer: deps.issuer,
      clientId,
      client: clients.get(clientId),
      user: users.bySub(token.accountId),
      scopes: (token.scope ?? '').split(' ').filter(Boolean),
    });
  };

  const provider = new Provider(deps.issuer, {
    adapter: deps.store.adapterFactory(),
    jwks: deps.keys.providerJwks(),
    cookies: { keys: deps.cookieKeys },
    routes: profile.routes,
    scopes: [...OIDC_SCOPES, ...API_SCOPES],
    claims: {
      openid: ['sub'],
      profile: ['name', 'given_name', 'family_name', 'preferred_username'],
      email: ['email', 'email_verified'],
      groups: ['groups'],
    },
    responseTypes: ['code', 'id_token', 'id_token token', 'code id_token', 'none'],
    async findAccount(_ctx: unknown, sub: string) {
      const user = users.bySub(sub);
      if (!user) return undefined;
      return { accountId: sub, claims: async () => users.oidcClaims(user) };
    },
    interactions: {
      url: (_ctx: unknown, interaction: { uid: string }) => `${prefix}/interaction/${interaction.uid}`,
    },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: {
        enabled: true,
        // RFC 7662 §2.1: the caller must authenticate; public clients may not introspect.
        allowedPolicy: async (_ctx: unknown, client: OidcClient) => client.clientAuthMethod !== 'none',
      },
      revocation: {
        enabled: true,
        allowedPolicy: async (_ctx: unknown, client: OidcClient, token: TokenLike) =>
          token.clientId === client.clientId || clients.get(client.clientId)?.kind === 'gateway',
      },
      rpInitiatedLogout: {
        enabled: true,
        // A confirm form Chromium can click and that auto-submits in a browser.
        logoutSource: async (ctx: OidcContext, form: string) => {
          ctx.body = page(
            'Sign out',
            `${form}<button type="submit" form="op.logoutForm" name="logout" value="yes">Sign out</button>` +
              `<script>const f = document.getElementById('op.logoutForm'); const i = document.createElement('input');` +
              `i.type = 'hidden'; i.name = 'logout'; i.value = 'yes'; f.appendChild(i); f.submit();</script>`,
          );
        },
        postLogoutSuccessSource: async (ctx: OidcContext) => {
          ctx.body = page('Signed out', '<p>Signed out.</p>');
        },
      },
      resourceIndicators: {
        enabled: true,
        defaultResource: async (_ctx: unknown, client: OidcClient, oneOf?: string[]) => {
          if (oneOf?.length) return oneOf.includes(profile.jwtResource) ? profile.jwtResource : oneOf[0];
          return loginResourceFor(deps, client.clientId);
        },
        // Without this a code-flow token requested with `openid` would be an
        // opaque, audience-less userinfo token instead of the API's JWT.
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx: unknown, resource: string) => {
          const info = resourceServerInfo(deps, resource);
          if (!info) throw new errors.InvalidTarget();
          return info;
        },
      },
      userinfo: { enabled: true },
    },
    extraTokenClaims: async (_ctx: unknown, token: TokenLike) => claimsFor(token),
    formats: {
      customizers: {
        jwt: async (
          _ctx: unknown,
          token: TokenLike,
          jwt: { header: Record<string, unknown> | undefined; payload: Record<string, unknown> },
        ) => {
          profile.shapeJwt(jwt, users.bySub(token.accountId));
        },
      },
    },
    clientBasedCORS: () => true,
    ttl: {
      AccessToken: deps.accessTokenTtl,
      ClientCredentials: deps.accessTokenTtl,
      IdToken: 3600,
      Interaction: 600,
      Session: 3600,
      Grant: 3600,
      AuthorizationCode: 60,
      RefreshToken: 86400,
    },
    renderError: async (ctx: OidcContext, out: Record<string, string>) => {
      ctx.body = page('Error', `<pre class="error">${JSON.stringify(out).replace(/</g, '&lt;')}</pre>`);
    },
  });

  // oidc-provider refuses http:// and localhost redirect URIs for web clients
  // using implicit; the test proxy listens on http://127.0.0.1. Documented hook.
  const { invalidate } = provider.Client.Schema.prototype;
  provider.Client.Schema.prototype.invalidate = function (message: string, code?: string) {
    if (code === 'implicit-force-https' || code === 'implicit-forbid-localhost') return;
    invalidate.call(this, message, code);
  };

  registerPasswordGrant(provider, {
    users,
    defaultResource: (clientId) => defaultResourceFor(deps, clientId),
    resourceServerInfo: (resource) => resourceServerInfo(deps, resource),
  });

  provider.on('server_error', (_ctx, err) => {
    deps.onError('server_error', err);
  });
  return provider;
}
