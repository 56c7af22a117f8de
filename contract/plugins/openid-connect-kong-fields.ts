/**
 * Fields of Kong's openid-connect schema that Portcullis does not support yet.
 * The schema is strict, so these are refused; this list only makes the problem
 * say "a Kong field, not supported yet" instead of "unknown field" (issue 14).
 */
export const KONG_UNSUPPORTED_OPENID_CONNECT_FIELDS: ReadonlySet<string> = new Set([
  'proof_of_possession_dpop',
  'proof_of_possession_mtls',
  'proof_of_possession_auth_methods_validation',
  'proof_of_possession_mtls_from_header',
  'tls_client_auth_cert_id',
  'tls_client_auth_ssl_verify',
  'token_exchange',
  'protected_resource_metadata',
  'principals',
  // Signed userinfo (`userinfo_accept: application/jwt`) is not supported yet.
  'upstream_user_info_jwt_header',
  'downstream_user_info_jwt_header',
]);

/** Kong fields refused for good, with the reason the problem gives. */
export const KONG_REFUSED_OPENID_CONNECT_FIELDS: Readonly<Record<string, string>> = Object.fromEntries([
  ...['upstream_session_id_header', 'downstream_session_id_header'].map(
    (f) => [f, 'sessions here are signed cookies with no server-side session id to send'] as const,
  ),
  ...['upstream_introspection_jwt_header', 'downstream_introspection_jwt_header'].map(
    (f) =>
      [
        f,
        'introspection here asks for JSON answers, never JWT ones (RFC 9701); use the *_introspection_header field',
      ] as const,
  ),
]);

/**
 * Values of supported fields that belong to something Portcullis does not
 * have, keyed `field=value`, with the reason the problem gives.
 */
const NOT_YET = (what: string, values: string[], field: string) =>
  values.map((v) => [`${field}=${v}`, `is a Kong ${what} that Portcullis does not support yet`] as const);

export const KONG_UNSUPPORTED_OPENID_CONNECT_VALUES: Readonly<Record<string, string>> = Object.fromEntries([
  ['auth_methods=kong_oauth2', "belongs to Kong's oauth2 plugin, which Portcullis does not have"],
  // Kong's own description: "rarely useful as the plugin itself cannot read it".
  ['response_mode=fragment', 'is not supported: a URL fragment never reaches the proxy'],
  ...NOT_YET(
    'JWT-secured authorization response mode (JARM)',
    ['query.jwt', 'form_post.jwt', 'fragment.jwt', 'jwt'],
    'response_mode',
  ),
  ...NOT_YET('client authentication', ['tls_client_auth', 'self_signed_tls_client_auth'], 'client_auth'),
]);
