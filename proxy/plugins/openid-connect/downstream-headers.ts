import { RESERVED_RESPONSE_HEADERS } from '../../../contract/plugins/openid-connect-rules.js';
import { setClaimHeaders, setCredentialHeaders } from './header-values.js';
import type { Principal } from './upstream-headers.js';

export interface DownstreamHeaderRules {
  downstream_access_token_header?: string;
  downstream_id_token_header?: string;
  downstream_introspection_header?: string;
  downstream_user_info_header?: string;
  downstream_access_token_jwk_header?: string;
  downstream_id_token_jwk_header?: string;
  downstream_headers_claims?: string[];
  downstream_headers_names?: string[];
  downstream_headers?: { header: string; path: string[] }[];
}

/**
 * The headers Kong's `downstream_*` settings add to the client's response:
 * the configured claims, the tokens as they are, the introspection and
 * userinfo answers and the JWKs as base64 JSON. When a token or an answer
 * goes out, the response also gets `Cache-Control: no-store` (RFC 6749 §5.1 asks it of
 * token responses), so no shared cache keeps one for another client; with
 * claims only, `Cache-Control: private`. Both are Portcullis additions.
 * Pure; lower-case names.
 */
export function downstreamHeaders(
  principal: Principal,
  rules: DownstreamHeaderRules,
): Record<string, string> {
  const headers: Record<string, string> = {};
  setClaimHeaders(headers, principal.claims, {
    ...(rules.downstream_headers_claims && { claims: rules.downstream_headers_claims }),
    ...(rules.downstream_headers_names && { names: rules.downstream_headers_names }),
    ...(rules.downstream_headers && { headers: rules.downstream_headers }),
  });
  const hasClaimHeaders = Object.keys(headers).some((name) => !RESERVED_RESPONSE_HEADERS.has(name));
  // A token or an IdP's answer about the caller must not be kept by a shared cache; a public key may.
  const secrets: Record<string, string> = {};
  setCredentialHeaders(secrets, [
    [rules.downstream_access_token_header, principal.accessToken],
    [rules.downstream_id_token_header, principal.idToken],
    [rules.downstream_introspection_header, principal.introspection],
    [rules.downstream_user_info_header, principal.userinfo],
  ]);
  setCredentialHeaders(headers, [
    [rules.downstream_access_token_jwk_header, principal.accessTokenJwk],
    [rules.downstream_id_token_jwk_header, principal.idTokenJwk],
  ]);
  Object.assign(headers, secrets);
  // The contract refuses these names; this keeps a config it never saw from breaking responses.
  for (const name of Object.keys(headers)) if (RESERVED_RESPONSE_HEADERS.has(name)) delete headers[name];
  if (Object.keys(secrets).some((name) => !RESERVED_RESPONSE_HEADERS.has(name))) {
    headers['cache-control'] = 'no-store';
  } else if (hasClaimHeaders) {
    // The caller's claims (an email, groups) make the response theirs: no shared cache may keep it.
    headers['cache-control'] = 'private';
  }
  return headers;
}
