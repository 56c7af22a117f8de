/**
 * The openid-connect field tables of docs/kong-compatibility.md against the
 * contract: every Kong field is listed exactly once; a field marked refused
 * is refused by name, one marked supported or "accepted, no effect" is
 * accepted; every field of our schema is in the table; and the Kong values
 * listed are refused or accepted as they say. A field that starts (or stops)
 * working fails here until the table says so.
 */
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validatePluginConfig } from '../../contract/plugins.js';
import { OpenIdConnectConfig } from '../../contract/plugins/openid-connect.js';
import { KONG_UNSUPPORTED_OPENID_CONNECT_FIELDS } from '../../contract/plugins/openid-connect-kong-fields.js';
import { mapKongShorthands } from '../../contract/plugins/openid-connect-shorthands.js';

const DOC = readFileSync(join(import.meta.dirname, '../../docs/kong-compatibility.md'), 'utf8');
const ISSUER = 'https://idp.example.test/oauth2/default';

/**
 * Kong's openid-connect config fields with their Kong types: the 3.x schema
 * (to 3.15), the fields of Kong's 3.16 examples, and the shorthands Kong 3.x
 * still takes (Kong 2.8 names, `session_memcache_*`, and `session_redis_*`,
 * fields until 3.7). `strings`/`urls` are arrays; `paths` is an array of
 * claim paths; `records` an array of records.
 */
const KONG_TYPES = {
  boolean: [
    'authorization_cookie_http_only',
    'authorization_cookie_httponly',
    'authorization_cookie_secure',
    'by_username_ignore_case',
    'cache_introspection',
    'cache_token_exchange',
    'cache_tokens',
    'cache_user_info',
    'consumer_groups_optional',
    'consumer_optional',
    'display_errors',
    'dpop_use_nonce',
    'enable_hs_signatures',
    'expose_error_code',
    'forbidden_destroy_session',
    'hide_credentials',
    'introspect_jwt_tokens',
    'introspection_check_active',
    'keepalive',
    'logout_revoke',
    'logout_revoke_access_token',
    'logout_revoke_refresh_token',
    'preserve_query_args',
    'proof_of_possession_auth_methods_validation',
    'refresh_tokens',
    'require_proof_key_for_code_exchange',
    'require_pushed_authorization_requests',
    'require_signed_request_object',
    'resolve_distributed_claims',
    'reverify',
    'run_on_preflight',
    'search_user_info',
    'session_cookie_http_only',
    'session_cookie_httponly',
    'session_cookie_secure',
    'session_enforce_same_subject',
    'session_hash_storage_key',
    'session_hash_subject',
    'session_memcached_ssl',
    'session_memcached_ssl_verify',
    'session_redis_ssl',
    'session_redis_ssl_verify',
    'session_remember',
    'session_store_metadata',
    'ssl_verify',
    'tls_client_auth_ssl_verify',
    'token_cache_key_include_scope',
    'unauthorized_destroy_session',
    'using_pseudo_issuer',
    'verify_claims',
    'verify_nonce',
    'verify_parameters',
    'verify_signature',
  ],
  number: [
    'authorization_cookie_lifetime',
    'authorization_rolling_timeout',
    'cache_ttl',
    'cache_ttl_max',
    'cache_ttl_min',
    'cache_ttl_neg',
    'cache_ttl_resurrect',
    'dpop_proof_lifetime',
    'http_version',
    'leeway',
    'max_age',
    'rediscovery_lifetime',
    'session_absolute_timeout',
    'session_auth_ttl',
    'session_cookie_idletime',
    'session_cookie_lifetime',
    'session_cookie_maxsize',
    'session_cookie_renew',
    'session_idling_timeout',
    'session_memcache_port',
    'session_memcached_port',
    'session_redis_cluster_max_redirections',
    'session_redis_cluster_maxredirections',
    'session_redis_connect_timeout',
    'session_redis_port',
    'session_redis_read_timeout',
    'session_redis_send_timeout',
    'session_remember_absolute_timeout',
    'session_remember_rolling_timeout',
    'session_rolling_timeout',
    'timeout',
  ],
  string: [
    'anonymous',
    'authorization_cookie_domain',
    'authorization_cookie_name',
    'authorization_cookie_path',
    'authorization_cookie_same_site',
    'authorization_cookie_samesite',
    'bearer_token_cookie_name',
    'cache_tokens_salt',
    'client_arg',
    'cluster_cache_strategy',
    'downstream_access_token_header',
    'downstream_access_token_jwk_header',
    'downstream_id_token_header',
    'downstream_id_token_jwk_header',
    'downstream_introspection_header',
    'downstream_introspection_jwt_header',
    'downstream_refresh_token_header',
    'downstream_session_id_header',
    'downstream_user_info_header',
    'downstream_user_info_jwt_header',
    'forbidden_error_message',
    'http_proxy_authorization',
    'https_proxy_authorization',
    'id_token_param_name',
    'introspection_accept',
    'introspection_endpoint_auth_method',
    'introspection_hint',
    'introspection_token_param_name',
    'jwt_session_claim',
    'jwt_session_cookie',
    'login_action',
    'login_redirect_mode',
    'logout_post_arg',
    'logout_query_arg',
    'logout_uri_suffix',
    'no_proxy',
    'proof_of_possession_dpop',
    'proof_of_possession_mtls',
    'pushed_authorization_request_endpoint_auth_method',
    'refresh_token_param_name',
    'response_mode',
    'revocation_endpoint_auth_method',
    'revocation_token_param_name',
    'session_audience',
    'session_compressor',
    'session_cookie_domain',
    'session_cookie_name',
    'session_cookie_path',
    'session_cookie_same_site',
    'session_cookie_samesite',
    'session_memcache_host',
    'session_memcache_prefix',
    'session_memcache_socket',
    'session_memcached_host',
    'session_memcached_prefix',
    'session_memcached_socket',
    'session_redis_host',
    'session_redis_password',
    'session_redis_prefix',
    'session_redis_server_name',
    'session_redis_socket',
    'session_redis_username',
    'session_remember_cookie_name',
    'session_secret',
    'session_storage',
    'session_strategy',
    'tls_client_auth_cert_id',
    'token_endpoint_auth_method',
    'token_headers_prefix',
    'unauthorized_error_message',
    'upstream_access_token_header',
    'upstream_access_token_jwk_header',
    'upstream_id_token_header',
    'upstream_id_token_jwk_header',
    'upstream_introspection_header',
    'upstream_introspection_jwt_header',
    'upstream_refresh_token_header',
    'upstream_session_id_header',
    'upstream_user_info_header',
    'upstream_user_info_jwt_header',
    'userinfo_accept',
  ],
  url: [
    'authorization_endpoint',
    'end_session_endpoint',
    'http_proxy',
    'https_proxy',
    'introspection_endpoint',
    'issuer',
    'jwks_endpoint',
    'mtls_introspection_endpoint',
    'mtls_revocation_endpoint',
    'mtls_token_endpoint',
    'pushed_authorization_request_endpoint',
    'revocation_endpoint',
    'token_endpoint',
    'token_exchange_endpoint',
    'userinfo_endpoint',
  ],
  strings: [
    'audience',
    'audience_claim',
    'audience_required',
    'auth_methods',
    'authenticated_groups_claim',
    'authorization_query_args_client',
    'authorization_query_args_names',
    'authorization_query_args_values',
    'bearer_token_param_type',
    'claims_forbidden',
    'client_alg',
    'client_auth',
    'client_credentials_param_type',
    'client_id',
    'client_secret',
    'consumer_by',
    'consumer_claim',
    'consumer_groups_claim',
    'credential_claim',
    'disable_session',
    'discovery_headers_names',
    'discovery_headers_values',
    'domains',
    'downstream_headers_claims',
    'downstream_headers_names',
    'groups_claim',
    'groups_required',
    'id_token_param_type',
    'ignore_signature',
    'introspection_headers_client',
    'introspection_headers_names',
    'introspection_headers_values',
    'introspection_post_args_client',
    'introspection_post_args_client_headers',
    'introspection_post_args_names',
    'introspection_post_args_values',
    'issuers_allowed',
    'login_methods',
    'login_tokens',
    'logout_methods',
    'password_param_type',
    'refresh_token_param_type',
    'response_type',
    'roles_claim',
    'roles_required',
    'scopes',
    'scopes_claim',
    'scopes_required',
    'session_bind',
    'session_request_headers',
    'session_response_headers',
    'token_headers_client',
    'token_headers_grants',
    'token_headers_names',
    'token_headers_replay',
    'token_headers_values',
    'token_post_args_client',
    'token_post_args_names',
    'token_post_args_values',
    'upstream_headers_claims',
    'upstream_headers_names',
    'userinfo_headers_client',
    'userinfo_headers_names',
    'userinfo_headers_values',
    'userinfo_query_args_client',
    'userinfo_query_args_names',
    'userinfo_query_args_values',
  ],
  urls: [
    'extra_jwks_uris',
    'forbidden_redirect_uri',
    'login_redirect_uri',
    'logout_redirect_uri',
    'redirect_uri',
    'unauthorized_redirect_uri',
    'unexpected_redirect_uri',
  ],
  paths: ['consumer_claims'],
  record: [
    'cluster_cache_redis',
    'principals',
    'proof_of_possession_mtls_from_header',
    'protected_resource_metadata',
    'redis',
    'token_exchange',
  ],
  records: ['client_jwk', 'downstream_headers', 'session_redis_cluster_nodes', 'upstream_headers'],
} as const;
type KongType = keyof typeof KONG_TYPES;

const KONG_TYPE = new Map<string, KongType>(
  Object.entries(KONG_TYPES).flatMap(([type, fields]) => fields.map((f) => [f, type as KongType] as const)),
);

/** Values of each Kong type, every one of which a supported field must accept. */
const BY_TYPE: Record<KongType, unknown[]> = {
  boolean: [true, false],
  number: [60],
  string: ['x-value'],
  url: ['https://idp.example.test/endpoint'],
  strings: [['x-value']],
  urls: [['https://app.example.test/callback']],
  paths: [[['sub']]],
  record: [{}],
  records: [[{}]],
};

/**
 * Typical values where a Kong string or list takes only some values (a few
 * for fields refused today, so that marking them supported needs no edit here).
 */
/** A private key of the kind `private_key_jwt` takes (`client_jwk`). */
const PRIVATE_JWK = {
  ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }),
  kid: 'test',
};

const TYPICAL: Record<string, unknown[]> = {
  client_alg: [['ES256']],
  client_jwk: [[PRIVATE_JWK]],
  auth_methods: [['bearer', 'session']],
  bearer_token_param_type: [['header']],
  client_auth: [['client_secret_post']],
  client_credentials_param_type: [['header']],
  consumer_by: [['username']],
  disable_session: [['bearer']],
  login_action: ['upstream', 'redirect', 'response'],
  login_methods: [['password', 'authorization_code']],
  login_redirect_mode: ['fragment'],
  login_tokens: [['id_token'], ['tokens', 'introspection']],
  logout_methods: [['GET']],
  password_param_type: [['body']],
  refresh_token_param_type: [['header']],
  response_mode: ['query', 'form_post'],
  session_cookie_path: ['/app'],
  session_cookie_same_site: ['Strict', 'Lax', 'None', 'Default'],
  session_cookie_samesite: ['Strict'],
  session_secret: ['s'.repeat(32)],
  downstream_headers: [[{ header: 'x-user', path: ['sub'] }]],
  upstream_headers: [[{ header: 'x-user', path: ['sub'] }]],
  userinfo_accept: ['application/json'],
};

/** Fields a field depends on (Kong's cross-field rules), set alongside it. */
const COMPANIONS: Record<string, Record<string, unknown>> = {
  client_auth: { client_id: ['gateway'] },
  client_alg: { client_id: ['gateway'], client_auth: ['private_key_jwt'], client_jwk: [PRIVATE_JWK] },
  client_jwk: { client_id: ['gateway'], client_auth: ['private_key_jwt'] },
  client_secret: { client_id: ['gateway'] },
  bearer_token_cookie_name: { bearer_token_param_type: ['cookie'] },
  enable_hs_signatures: { client_id: ['gateway'], client_secret: ['s3cret'] },
  login_action: { login_redirect_uri: ['https://app.example.test/'] },
  login_redirect_mode: { login_action: 'redirect', login_redirect_uri: ['https://app.example.test/'] },
  downstream_headers_claims: { downstream_headers_names: ['x-value'] },
  downstream_headers_names: { downstream_headers_claims: ['sub'] },
  upstream_headers_claims: { upstream_headers_names: ['x-value'] },
  upstream_headers_names: { upstream_headers_claims: ['sub'] },
};

const STATES = ['supported', 'refused', 'accepted, no effect'] as const;
type State = (typeof STATES)[number];

interface Row {
  fields: string[];
  state: State;
}

function section(heading: string): string {
  const start = DOC.indexOf(`\n${heading}\n`);
  if (start < 0) return '';
  const rest = DOC.slice(start + heading.length + 2);
  const end = rest.search(/\n#{2,3} /);
  return end < 0 ? rest : rest.slice(0, end);
}

/** Table rows of a section, as cells; the header and divider rows left out. */
function cells(text: string): string[][] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) =>
      line
        .slice(1, -1)
        .split(' | ')
        .map((c) => c.trim()),
    );
}

const names = (cell: string) => [...cell.matchAll(/`([a-z0-9_]+)`/g)].map((m) => m[1]!);

function asState(text: string): State {
  const state = STATES.find((s) => s === text);
  if (!state) throw new Error(`unknown state "${text}"`);
  return state;
}

const fieldRows: Row[] = cells(section('## openid-connect fields')).map(([field, state]) => ({
  fields: names(field!),
  state: asState(state!),
}));
const stateOf = new Map(fieldRows.flatMap((row) => row.fields.map((f) => [f, row.state] as const)));

/** A value cell's values: JSON where it parses (`false`, a list), else the text. */
function values(cell: string): unknown[] {
  return [...cell.matchAll(/`([^`]+)`/g)].map((m) => {
    try {
      return JSON.parse(m[1]!) as unknown;
    } catch {
      return m[1]!;
    }
  });
}

const valueRows = cells(section('### Kong values of supported fields')).map(([field, value, state]) => ({
  fields: names(field!),
  values: values(value!),
  state: asState(state!),
}));
const refusedValues = new Set(
  valueRows
    .filter((r) => r.state === 'refused')
    .flatMap((r) => r.fields.flatMap((f) => r.values.map((v) => `${f}=${JSON.stringify(v)}`))),
);

const portcullisOnly = new Set(
  cells(section('### Portcullis fields Kong does not have')).flatMap((c) => names(c[0]!)),
);

/** Problems for a config with `field` set, as translate checks it (Kong 2.8 names mapped first). */
function problems(field: string, value: unknown): string[] {
  const type = KONG_TYPE.get(field);
  const listed = (type === 'strings' || type === 'urls') && !Array.isArray(value) ? [value] : value;
  const config = { issuer: ISSUER, ...COMPANIONS[field], [field]: listed };
  return validatePluginConfig('openid-connect', mapKongShorthands(config).config);
}

function typical(field: string): unknown[] {
  const samples = TYPICAL[field] ?? BY_TYPE[KONG_TYPE.get(field)!];
  return samples.filter((v) => !refusedValues.has(`${field}=${JSON.stringify(v)}`));
}

const ours = Object.keys(OpenIdConnectConfig.properties);

describe('docs/kong-compatibility.md: openid-connect fields', () => {
  it('lists every Kong field exactly once, and only those', () => {
    const listed = fieldRows.flatMap((row) => row.fields);
    expect(listed.filter((f, i) => listed.indexOf(f) !== i)).toEqual([]);
    expect([...listed].sort()).toEqual([...KONG_TYPE.keys()].sort());
  });

  it('keeps the rows alphabetical', () => {
    for (const row of fieldRows) expect(row.fields).toEqual([...row.fields].sort());
    const first = fieldRows.map((row) => row.fields[0]!);
    expect(first).toEqual([...first].sort());
  });

  it('lists every field of the schema as supported or accepted with no effect', () => {
    const missing = ours.filter(
      (f) =>
        !portcullisOnly.has(f) && stateOf.get(f) !== 'supported' && stateOf.get(f) !== 'accepted, no effect',
    );
    expect(missing).toEqual([]);
  });

  it('marks refused the Kong fields the contract names as not supported yet', () => {
    for (const field of KONG_UNSUPPORTED_OPENID_CONNECT_FIELDS) expect(stateOf.get(field)).toBe('refused');
  });

  const byState = (state: State) => fieldRows.filter((r) => r.state === state).flatMap((r) => r.fields);

  it.each(byState('refused'))('refuses %s by name', (field) => {
    for (const value of BY_TYPE[KONG_TYPE.get(field)!]) {
      expect(problems(field, value).join('\n')).toContain(`field "${field}"`);
    }
  });

  it.each([...byState('supported'), ...byState('accepted, no effect')])('accepts %s', (field) => {
    const samples = typical(field);
    expect(samples).not.toEqual([]);
    for (const value of samples) expect(problems(field, value)).toEqual([]);
  });
});

describe('docs/kong-compatibility.md: Kong values of supported fields', () => {
  const cases = valueRows.flatMap((row) =>
    row.fields.flatMap((field) =>
      row.values.map((value) => [field, JSON.stringify(value), value, row.state] as const),
    ),
  );

  it('names supported fields only', () => {
    for (const [field] of cases) expect(stateOf.get(field)).toBe('supported');
  });

  it.each(cases)('%s %s', (field, _shown, value, state) => {
    const found = problems(field, value);
    if (state === 'refused') expect(found.join('\n')).toContain(`field "${field}`);
    else expect(found).toEqual([]);
  });
});
