/**
 * Fields of Kong's openid-connect schema that Portcullis does not support yet.
 * The schema is strict, so these are refused; this list only makes the problem
 * say "a Kong field, not supported yet" instead of "unknown field" (issue 14).
 */
export const KONG_UNSUPPORTED_OPENID_CONNECT_FIELDS: ReadonlySet<string> = new Set([
  'proof_of_possession_dpop',
  'proof_of_possession_mtls',
  'proof_of_possession_auth_methods_validation',
  'tls_client_auth_cert_id',
  'tls_client_auth_ssl_verify',
  'token_exchange',
  'protected_resource_metadata',
  'principals',
]);
