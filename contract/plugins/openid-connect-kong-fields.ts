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
]);

/**
 * Values of supported fields that belong to something Portcullis does not
 * have, keyed `field=value`, with the reason the problem gives.
 */
export const KONG_UNSUPPORTED_OPENID_CONNECT_VALUES: Readonly<Record<string, string>> = {
  'auth_methods=kong_oauth2': "belongs to Kong's oauth2 plugin, which Portcullis does not have",
  'auth_methods=userinfo': 'is a Kong auth method that Portcullis does not support yet',
  'auth_methods=refresh_token': 'is a Kong auth method that Portcullis does not support yet',
  'client_auth=client_secret_jwt': 'is a Kong client authentication that Portcullis does not support yet',
  'client_auth=private_key_jwt': 'is a Kong client authentication that Portcullis does not support yet',
  'client_auth=tls_client_auth': 'is a Kong client authentication that Portcullis does not support yet',
  'client_auth=self_signed_tls_client_auth':
    'is a Kong client authentication that Portcullis does not support yet',
};
