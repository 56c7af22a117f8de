/**
 * What a login gives the client under Kong's `login_action: response` or
 * `redirect` with `login_tokens`. Pure: the plugin and the authorization
 * code flow send what these build.
 */
import type { LoginToken } from '../../../contract/plugins/openid-connect.js';
import type { Claims } from './claims.js';

/** The tokens of a login, as the token endpoint (or the credential) gave them. */
export interface LoginTokens {
  access_token: string;
  id_token?: string;
  refresh_token?: string;
  /** Seconds the access token has left. */
  expires_in?: number;
  /** The IdP's introspection answer, when the access token was introspected. */
  introspection?: Claims;
}

/** The token endpoint's answer, rebuilt from what the login kept (Kong's `tokens`). */
function tokenResponse(tokens: LoginTokens): Record<string, unknown> {
  return {
    access_token: tokens.access_token,
    token_type: 'Bearer',
    ...(tokens.expires_in !== undefined && { expires_in: tokens.expires_in }),
    ...(tokens.id_token !== undefined && { id_token: tokens.id_token }),
    ...(tokens.refresh_token !== undefined && { refresh_token: tokens.refresh_token }),
  };
}

/**
 * The JSON body of `login_action: response`, as Kong builds it: the
 * introspection answer when `introspection` is asked for and there is one,
 * else the whole token response for `tokens`, else the named tokens the
 * login has. Nothing asked for (`null`): an empty object.
 */
export function loginResponseBody(
  tokens: LoginTokens,
  wanted: readonly LoginToken[] | null,
): Record<string, unknown> {
  if (!wanted || wanted.length === 0) return {};
  if (wanted.includes('introspection') && tokens.introspection) return tokens.introspection;
  if (wanted.includes('tokens')) return tokenResponse(tokens);
  const body: Record<string, unknown> = {};
  for (const name of wanted) {
    if (name === 'introspection' || name === 'tokens') continue;
    const value = tokens[name];
    if (value !== undefined) body[name] = value;
  }
  return body;
}

/**
 * `login_redirect_uri` with `login_tokens` in its fragment, as Kong appends
 * them: `name=value` pairs after `#` (or `&` when the URI has a fragment),
 * objects as base64url JSON. Only the fragment: a query string would hand
 * the tokens to every log and Referer on the way (RFC 6750 §2.3).
 */
export function loginRedirectTarget(
  uri: string,
  tokens: LoginTokens,
  wanted: readonly LoginToken[] | null,
): string {
  const pairs: string[] = [];
  for (const name of wanted ?? []) {
    const value: unknown =
      name === 'tokens'
        ? tokenResponse(tokens)
        : name === 'introspection'
          ? tokens.introspection
          : tokens[name];
    if (value === undefined) continue;
    const text =
      typeof value === 'object' ? Buffer.from(JSON.stringify(value)).toString('base64url') : String(value);
    pairs.push(`${name}=${encodeURIComponent(text)}`);
  }
  if (pairs.length === 0) return uri;
  return `${uri}${uri.includes('#') ? '&' : '#'}${pairs.join('&')}`;
}
