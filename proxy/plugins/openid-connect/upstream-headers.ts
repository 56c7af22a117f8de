import type { JWK } from 'jose';
import type { Application } from '../../../contract/index.js';
import { claimAt, type Claims } from './claims.js';
import {
  claimHeaderNames,
  claimHeaderValue,
  setClaimHeaders,
  setCredentialHeaders,
  setSafe,
  specName,
} from './header-values.js';

export interface UpstreamHeaderRules {
  upstream_access_token_header: string | null;
  upstream_id_token_header?: string;
  upstream_introspection_header?: string;
  upstream_user_info_header?: string;
  upstream_access_token_jwk_header?: string;
  upstream_id_token_jwk_header?: string;
  upstream_refresh_token_header?: string;
  upstream_headers_claims?: string[];
  upstream_headers_names?: string[];
  upstream_headers?: { header: string; path: string[] }[];
  credential_claim: string[];
}

export interface Principal {
  claims: Claims;
  accessToken: string;
  idToken?: string;
  /** The refresh token the IdP returned to a `refresh_token` exchange (or the one sent, if not rotated). */
  refreshToken?: string;
  /** The introspection answer, when the access token was introspected. */
  introspection?: Claims;
  /** The IdP's userinfo answer for the access token, when a `*_user_info_header` asked for it. */
  userinfo?: Claims;
  /** The public keys that verified the tokens (JWTs signed with an issuer key only). */
  accessTokenJwk?: JWK;
  idTokenJwk?: JWK;
  scopes: string[];
  consumer?: Application;
}

/** The identity headers the plugin sets for a mapped Application or a verified token. */
const IDENTITY_HEADERS = [
  'x-consumer-id',
  'x-consumer-custom-id',
  'x-consumer-username',
  'x-credential-identifier',
  'x-authenticated-scope',
];

/**
 * Every header name `upstreamIdentityHeaders` may set under these rules,
 * whatever the token: the proxy owns them on every route, so an absent
 * claim leaves the header absent rather than the client's.
 */
export function upstreamHeaderNames(rules: UpstreamHeaderRules): string[] {
  const names = [...IDENTITY_HEADERS, ...claimHeaderNames(claimRules(rules))];
  for (const spec of credentialSpecs(rules)) {
    const name = specName(spec);
    if (name) names.push(name);
  }
  return names;
}

/**
 * The identity headers an upstream receives, named like Kong's:
 * X-Consumer-* for the mapped Application, X-Credential-Identifier from
 * `credential_claim`, X-Authenticated-Scope, the configured claim headers,
 * the access and ID tokens, the introspection and userinfo answers and the JWKs. Pure;
 * lower-case names. A claim that would make an unsafe header value is left out.
 */
export function upstreamIdentityHeaders(
  principal: Principal,
  rules: UpstreamHeaderRules,
): Record<string, string> {
  const headers: Record<string, string> = {};
  if (principal.consumer) setConsumerHeaders(headers, principal.consumer);
  setSafe(
    headers,
    'x-credential-identifier',
    claimHeaderValue(claimAt(principal.claims, rules.credential_claim)),
  );
  if (principal.scopes.length > 0) setSafe(headers, 'x-authenticated-scope', principal.scopes.join(' '));
  setClaimHeaders(headers, principal.claims, claimRules(rules));
  const [access, id, introspection, accessJwk, idJwk, refresh, userinfo] = credentialSpecs(rules);
  setCredentialHeaders(headers, [
    [access, principal.accessToken],
    [id, principal.idToken],
    [introspection, principal.introspection],
    [accessJwk, principal.accessTokenJwk],
    [idJwk, principal.idTokenJwk],
    [refresh, principal.refreshToken],
    [userinfo, principal.userinfo],
  ]);
  return headers;
}

/**
 * What the upstream receives for Kong's anonymous consumer: the
 * Application's X-Consumer-* headers and `X-Anonymous-Consumer: true`, and
 * nothing from the credential that failed.
 */
export function anonymousHeaders(application: Application): Record<string, string> {
  const headers: Record<string, string> = {};
  setConsumerHeaders(headers, application);
  headers['x-anonymous-consumer'] = 'true';
  return headers;
}

function setConsumerHeaders(headers: Record<string, string>, application: Application): void {
  setSafe(headers, 'x-consumer-id', application.id);
  setSafe(headers, 'x-consumer-custom-id', application.clientId);
  setSafe(headers, 'x-consumer-username', application.id);
}

function claimRules(rules: UpstreamHeaderRules) {
  return {
    ...(rules.upstream_headers_claims && { claims: rules.upstream_headers_claims }),
    ...(rules.upstream_headers_names && { names: rules.upstream_headers_names }),
    ...(rules.upstream_headers && { headers: rules.upstream_headers }),
  };
}

function credentialSpecs(rules: UpstreamHeaderRules) {
  return [
    rules.upstream_access_token_header,
    rules.upstream_id_token_header,
    rules.upstream_introspection_header,
    rules.upstream_access_token_jwk_header,
    rules.upstream_id_token_jwk_header,
    rules.upstream_refresh_token_header,
    rules.upstream_user_info_header,
  ] as const;
}
