import { clientAuthProblems } from './client-jwk.js';
import type { OpenIdConnectConfig } from './openid-connect.js';

/**
 * Response headers a `downstream_*` field must never set: they frame the
 * response (a wrong one smuggles another) or set cookies in the browser
 * from a claim.
 */
export const RESERVED_RESPONSE_HEADERS: ReadonlySet<string> = new Set([
  'connection',
  'content-length',
  'keep-alive',
  'proxy-connection',
  'set-cookie',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/**
 * The `openid-connect` rules that span fields. Each problem names the
 * field a user has to change.
 */
export function openIdConnectProblems(config: OpenIdConnectConfig): string[] {
  const problems: string[] = [];
  const urls: [string, string | undefined][] = [
    ['issuer', config.issuer],
    ['token_endpoint', config.token_endpoint],
    ['jwks_endpoint', config.jwks_endpoint],
    ['introspection_endpoint', config.introspection_endpoint],
    ['userinfo_endpoint', config.userinfo_endpoint],
    ['authorization_endpoint', config.authorization_endpoint],
    ['end_session_endpoint', config.end_session_endpoint],
    ...(config.extra_jwks_uris ?? []).map((u, i): [string, string] => [`extra_jwks_uris.${i}`, u]),
    ...(config.redirect_uri ?? []).map((u, i): [string, string] => [`redirect_uri.${i}`, u]),
    ...(config.logout_redirect_uri ?? []).map((u, i): [string, string] => [`logout_redirect_uri.${i}`, u]),
    ...(config.login_redirect_uri ?? []).map((u, i): [string, string] => [`login_redirect_uri.${i}`, u]),
    ...(['unauthorized_redirect_uri', 'forbidden_redirect_uri', 'unexpected_redirect_uri'] as const).flatMap(
      (field) => (config[field] ?? []).map((u, i): [string, string] => [`${field}.${i}`, u]),
    ),
  ];
  for (const [field, value] of urls) {
    if (value !== undefined && !isHttpUrl(value))
      problems.push(`field "${field}" must be an absolute http(s) URL`);
  }
  const clients = config.client_id?.length ?? 0;
  if ((config.client_secret?.length ?? 0) > clients) {
    problems.push('field "client_secret" has more entries than "client_id"');
  }
  if ((config.client_auth?.length ?? 0) > clients) {
    problems.push('field "client_auth" has more entries than "client_id"');
  }
  problems.push(...clientAuthProblems(config));
  if (config.enable_hs_signatures && !config.client_secret?.length) {
    problems.push('field "client_secret" is required by "enable_hs_signatures"');
  }
  if ((config.upstream_headers_claims?.length ?? 0) !== (config.upstream_headers_names?.length ?? 0)) {
    problems.push('fields "upstream_headers_claims" and "upstream_headers_names" must have the same length');
  }
  if ((config.downstream_headers_claims?.length ?? 0) !== (config.downstream_headers_names?.length ?? 0)) {
    problems.push(
      'fields "downstream_headers_claims" and "downstream_headers_names" must have the same length',
    );
  }
  const downstream = [
    ...[
      config.downstream_access_token_header,
      config.downstream_id_token_header,
      config.downstream_introspection_header,
      config.downstream_user_info_header,
      config.downstream_access_token_jwk_header,
      config.downstream_id_token_jwk_header,
    ].map((spec) => spec?.split(':')[0]),
    ...(config.downstream_headers_names ?? []),
    ...(config.downstream_headers ?? []).map((h) => h.header),
  ];
  for (const name of downstream) {
    if (name && RESERVED_RESPONSE_HEADERS.has(name.toLowerCase())) {
      problems.push(
        `response header "${name}" frames the response or sets cookies; a downstream_* field cannot set it`,
      );
    }
  }
  if (config.bearer_token_param_type.includes('cookie') && !config.bearer_token_cookie_name) {
    problems.push('field "bearer_token_cookie_name" is required by bearer_token_param_type "cookie"');
  }
  // Accepting these and acting otherwise would change who gets what; refuse by name until built.
  // RFC 6750 §2.3 and RFC 9700 §4.3.2: tokens in a URL's query end up in logs, history and Referer.
  if (
    config.login_action === 'redirect' &&
    config.login_redirect_mode === 'query' &&
    config.login_tokens?.length
  ) {
    problems.push(
      'field "login_redirect_mode" value "query" is not supported: tokens in a query string leak to logs and Referer; use "fragment"',
    );
  }
  // Kong then never looks for a refresh token: an enabled method that can never run is a mistake.
  if (config.auth_methods.includes('refresh_token') && config.refresh_token_param_name === undefined) {
    problems.push('field "refresh_token_param_name" is required by auth method "refresh_token"');
  }
  if (config.userinfo_accept === 'application/jwt') {
    problems.push('field "userinfo_accept" value "application/jwt" is not supported yet');
  }
  if (config.consumer_claim && config.consumer_claims) {
    problems.push('fields "consumer_claim" and "consumer_claims" are both set; use "consumer_claims"');
  }
  if (config.verify_parameters === true) {
    problems.push('field "verify_parameters" value true is not supported yet');
  }
  if (clients > 1) {
    problems.push(
      'field "client_id" with more than one client (Kong selects with "client_arg") is not supported yet',
    );
  }
  if (config.session_cookie_same_site === 'None' && config.session_cookie_secure === false) {
    problems.push('field "session_cookie_secure" must not be false with session_cookie_same_site "None"');
  }
  return problems;
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (
      (url.protocol === 'https:' || url.protocol === 'http:') && url.username === '' && url.password === ''
    );
  } catch {
    return false;
  }
}
