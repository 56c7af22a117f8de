/**
 * Resource Owner Password Credentials grant (RFC 6749 §4.3).
 *
 * oidc-provider deliberately does not implement it (OAuth 2.1 drops it), but
 * Kong's openid-connect plugin supports it (`auth_methods: password`) and the
 * proxy must too, so the test IdP registers it as a custom grant. It issues
 * the same access token as the other grants — same AccessToken model, same
 * resource server, so the same JWT/opaque format and profile claims — plus an
 * ID token when `openid` is requested. No refresh token: not needed by tests.
 */
import { errors, type OidcContext, type Provider, type ResourceServerInfo } from 'oidc-provider';
import { OIDC_SCOPES } from '../profiles.js';
import type { UserStore } from '../users.js';

export const PASSWORD_GRANT_PARAMS = ['username', 'password', 'scope', 'resource'];

export interface PasswordGrantDeps {
  users: UserStore;
  /** The resource a client's tokens are for when the request names none. */
  defaultResource(clientId: string): string;
  resourceServerInfo(resource: string): ResourceServerInfo | undefined;
}

export function registerPasswordGrant(provider: Provider, deps: PasswordGrantDeps): void {
  provider.registerGrantType(
    'password',
    async (ctx: OidcContext) => {
      const { params } = ctx.oidc;
      const client = ctx.oidc.client;
      if (!client) throw new errors.InvalidRequest('client authentication required');
      const user = deps.users.authenticate(params.username, params.password);
      if (!user) throw new errors.InvalidGrant('invalid username or password');

      const resource =
        typeof params.resource === 'string' ? params.resource : deps.defaultResource(client.clientId);
      const info = deps.resourceServerInfo(resource);
      if (!info) throw new errors.InvalidTarget();

      const requested = (typeof params.scope === 'string' ? params.scope : 'openid')
        .split(' ')
        .filter(Boolean);
      const allowed = new Set(info.scope.split(' '));
      const granted = requested.filter((s) => allowed.has(s));
      const oidcScopes = requested.filter((s) => OIDC_SCOPES.includes(s));

      const grant = new provider.Grant({ accountId: user.sub, clientId: client.clientId });
      if (oidcScopes.length) grant.addOIDCScope(oidcScopes.join(' '));
      if (granted.length) grant.addResourceScope(resource, granted.join(' '));
      const grantId = await grant.save();

      const at = new provider.AccessToken({
        accountId: user.sub,
        client,
        grantId,
        gty: 'password',
        scope: granted.join(' ') || undefined,
      });
      at.resourceServer = new provider.ResourceServer(resource, info);
      ctx.oidc.entity('AccessToken', at);
      const accessToken = await at.save();

      let idToken: string | undefined;
      if (oidcScopes.includes('openid')) {
        const token = new provider.IdToken(deps.users.oidcClaims(user), { ctx });
        token.scope = oidcScopes.join(' ');
        token.set('at_hash', accessToken);
        idToken = await token.issue({ use: 'idtoken' });
      }

      ctx.body = {
        access_token: accessToken,
        token_type: at.tokenType,
        expires_in: at.expiration,
        scope: granted.join(' ') || undefined,
        ...(idToken ? { id_token: idToken } : {}),
      };
    },
    PASSWORD_GRANT_PARAMS,
  );
}
