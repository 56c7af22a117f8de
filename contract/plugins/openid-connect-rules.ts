import { clientAuthProblems } from './client-jwk.js';
import type { OpenIdConnectConfig } from './openid-connect.js';

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
    ['authorization_endpoint', config.authorization_endpoint],
    ...(config.extra_jwks_uris ?? []).map((u, i): [string, string] => [`extra_jwks_uris.${i}`, u]),
    ...(config.redirect_uri ?? []).map((u, i): [string, string] => [`redirect_uri.${i}`, u]),
    ...(config.logout_redirect_uri ?? []).map((u, i): [string, string] => [`logout_redirect_uri.${i}`, u]),
    ...(config.login_redirect_uri ?? []).map((u, i): [string, string] => [`login_redirect_uri.${i}`, u]),
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
  if (config.login_action === 'redirect' && !config.login_redirect_uri?.length) {
    problems.push('field "login_redirect_uri" is required by login_action "redirect"');
  }
  // Accepting these and acting otherwise would change who gets what; refuse by name until built.
  if (config.login_action === 'response') {
    problems.push('field "login_action" value "response" is not supported yet');
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
