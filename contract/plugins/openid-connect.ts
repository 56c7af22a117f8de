import { Type, type Static } from '@sinclair/typebox';

/**
 * The `openid-connect` plugin's config: Kong's field names and defaults, so
 * a KongPlugin written for Kong works unchanged. Fields Kong has and
 * Portcullis does not implement are not in the schema, so they are rejected
 * by name rather than ignored: ignoring an auth setting could let through a
 * request its author meant to refuse.
 *
 * Deviations from Kong's defaults, each towards safety, are documented in
 * docs/openid-connect.md: `auth_methods` lists only the methods implemented
 * here, and `ssl_verify` defaults to true.
 */

const Strings = (options: { default?: string[]; description: string; minItems?: number }) =>
  Type.Array(Type.String({ minLength: 1 }), options);

/** Items of a `*_required` list: blank ones would require nothing. */
const Required = (description: string) => Type.Array(Type.String({ pattern: '\\S' }), { description });

const Enums = <T extends string>(values: readonly T[], options: { default?: T[]; description: string }) =>
  Type.Array(Type.Union(values.map((v) => Type.Literal(v))), { uniqueItems: true, ...options });

/** An absolute http(s) URL; fully parsed by `openIdConnectProblems`. */
const Url = () => Type.String({ pattern: '^https?://[^\\s]+$' });

/** An HTTP header name (RFC 9110 token). */
const HEADER_NAME = "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$";

/** Kong's header spec: a name, or `name:bearer` / `name:basic` to prefix the token with that scheme. */
const HeaderSpec = (description: string) =>
  Type.String({ pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+(:([Bb]earer|[Bb]asic))?$", description });

/** Kong 3.14's claim-to-header record: a path array reaches nested claims. */
const ClaimHeader = () =>
  Type.Object(
    {
      header: Type.String({ pattern: HEADER_NAME }),
      path: Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }),
    },
    { additionalProperties: false },
  );

export const AUTH_METHODS = [
  'password',
  'client_credentials',
  'authorization_code',
  'bearer',
  'introspection',
  'session',
  'userinfo',
  'refresh_token',
] as const;
export type AuthMethod = (typeof AUTH_METHODS)[number];

/** What a login response or redirect may carry (Kong's `login_tokens`). */
export const LOGIN_TOKENS = ['id_token', 'access_token', 'refresh_token', 'tokens', 'introspection'] as const;
export type LoginToken = (typeof LOGIN_TOKENS)[number];

/**
 * Kong's default lists every method; here `userinfo` and `refresh_token`
 * are opt-in, so a config written before they existed accepts no new
 * kind of credential.
 */
const DEFAULT_AUTH_METHODS: AuthMethod[] = [
  'password',
  'client_credentials',
  'authorization_code',
  'bearer',
  'introspection',
  'session',
];

const PARAM_TYPES = ['header', 'query', 'body'] as const;
export type ParamType = (typeof PARAM_TYPES)[number];
/** A bearer token may also come in a cookie (`bearer_token_cookie_name`); not by default, as in Kong. */
const BEARER_PARAM_TYPES = [...PARAM_TYPES, 'cookie'] as const;
export type BearerParamType = (typeof BEARER_PARAM_TYPES)[number];

/** Client authentication at the IdP's token, introspection and revocation endpoints. */
export const CLIENT_AUTH_METHODS = [
  'client_secret_basic',
  'client_secret_post',
  'client_secret_jwt',
  'private_key_jwt',
  'none',
] as const;
export type ClientAuthMethod = (typeof CLIENT_AUTH_METHODS)[number];

/** Kong's `client_alg` values: HS* sign `client_secret_jwt`, the others `private_key_jwt`. `none` is not one. */
export const CLIENT_ALGS = [
  'HS256',
  'HS384',
  'HS512',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
] as const;
export type ClientAlg = (typeof CLIENT_ALGS)[number];

const JwkText = () => Type.Optional(Type.String({ minLength: 1 }));

/** A JWK (RFC 7517/7518 members); checked as a private signing key by `clientJwkProblems`. */
const Jwk = Type.Object(
  {
    kty: Type.String({ minLength: 1 }),
    kid: JwkText(),
    alg: JwkText(),
    use: JwkText(),
    key_ops: Type.Optional(Type.Array(Type.String())),
    crv: JwkText(),
    x: JwkText(),
    y: JwkText(),
    n: JwkText(),
    e: JwkText(),
    d: JwkText(),
    p: JwkText(),
    q: JwkText(),
    dp: JwkText(),
    dq: JwkText(),
    qi: JwkText(),
    oth: Type.Optional(Type.Array(Type.Record(Type.String(), Type.String()))),
    k: JwkText(),
    x5u: JwkText(),
    x5c: Type.Optional(Type.Array(Type.String())),
    x5t: JwkText(),
    'x5t#S256': JwkText(),
  },
  { additionalProperties: false },
);
export type Jwk = Static<typeof Jwk>;

export const OpenIdConnectConfig = Type.Object(
  {
    issuer: Type.String({
      pattern: '^https?://',
      description: 'The issuer; discovery is read from `<issuer>/.well-known/openid-configuration`.',
    }),
    client_id: Type.Optional(
      Strings({ description: 'Client ids of the proxy at the IdP; the first is used.' }),
    ),
    client_secret: Type.Optional(Strings({ description: 'Secrets matching `client_id` by index.' })),
    client_auth: Type.Optional(
      Enums(CLIENT_AUTH_METHODS, { description: 'Client authentication matching `client_id` by index.' }),
    ),
    // Private keys: redacted wherever a config is printed (contract/redact.ts) or logged.
    client_jwk: Type.Optional(
      Type.Array(Jwk, { description: 'Private JWKs for `private_key_jwt`, matching `client_id` by index.' }),
    ),
    client_alg: Type.Optional(
      Type.Array(Type.Union(CLIENT_ALGS.map((v) => Type.Literal(v))), {
        description: 'Signing algorithm of the client assertion, matching `client_id` by index.',
      }),
    ),
    auth_methods: Enums(AUTH_METHODS, {
      default: DEFAULT_AUTH_METHODS,
      description: 'The credentials accepted, searched in Kong order whatever the order here.',
    }),
    scopes: Strings({ default: ['openid'], description: 'Scopes requested from the IdP.' }),
    // Kong sends it to the authorization endpoint only (Auth0's API identifier), not with token requests.
    audience: Type.Optional(
      Strings({ description: 'Sent as `audience` (space-separated) in the authorization request.' }),
    ),
    bearer_token_param_type: Enums(BEARER_PARAM_TYPES, {
      default: [...PARAM_TYPES],
      description: 'Where a bearer token may arrive.',
    }),
    bearer_token_cookie_name: Type.Optional(
      Type.String({
        pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$",
        description: 'The cookie a bearer token may arrive in, with `bearer_token_param_type` cookie.',
      }),
    ),
    client_credentials_param_type: Enums(PARAM_TYPES, {
      default: [...PARAM_TYPES],
      description: 'Where client credentials may arrive.',
    }),
    password_param_type: Enums(PARAM_TYPES, {
      default: [...PARAM_TYPES],
      description: 'Where username and password may arrive.',
    }),
    refresh_token_param_type: Enums(PARAM_TYPES, {
      default: [...PARAM_TYPES],
      description: 'Where a refresh token may arrive (`auth_methods: refresh_token`).',
    }),
    // No default, as in Kong; required by `auth_methods: refresh_token` (openid-connect-rules.ts).
    refresh_token_param_name: Type.Optional(
      Type.String({
        pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$",
        description: 'The header (`_` read as `-`), query or form parameter carrying the refresh token.',
      }),
    ),
    scopes_claim: Strings({ default: ['scope'], description: 'Claim path of the scopes.' }),
    scopes_required: Type.Optional(
      Required('Alternatives; each is space-separated scopes that must all be present.'),
    ),
    audience_claim: Strings({ default: ['aud'], description: 'Claim path of the audience.' }),
    audience_required: Type.Optional(
      Required('Alternatives; each is space-separated audiences that must all be present.'),
    ),
    groups_claim: Strings({ default: ['groups'], description: 'Claim path of the groups.' }),
    groups_required: Type.Optional(
      Required('Alternatives; each is space-separated groups that must all be present.'),
    ),
    roles_claim: Strings({ default: ['roles'], description: 'Claim path of the roles.' }),
    roles_required: Type.Optional(
      Required('Alternatives; each is space-separated roles that must all be present.'),
    ),
    claims_forbidden: Type.Optional(
      Strings({ description: 'Top-level claims a token must not carry; one present refuses it (403).' }),
    ),
    domains: Type.Optional(
      Strings({ description: "Allowed values of the `hd` (hosted domain) claim, Google's." }),
    ),
    issuers_allowed: Type.Optional(
      Strings({ description: 'Accepted `iss` values; the discovered issuer when unset.' }),
    ),
    leeway: Type.Number({
      default: 0,
      minimum: 0,
      maximum: 600,
      description: 'Clock skew allowed, seconds.',
    }),
    enable_hs_signatures: Type.Boolean({
      default: false,
      description: 'Accept HS256/384/512 tokens keyed by the client secret.',
    }),
    consumer_claim: Type.Optional(Strings({ description: 'Claim path whose value names the consumer.' })),
    // Kong 3.14: several claim paths; `consumer_claim` is its one-path shorthand.
    consumer_claims: Type.Optional(
      Type.Array(Type.Array(Type.String({ minLength: 1 }), { minItems: 1 }), {
        minItems: 1,
        description: 'Claim paths tried in order; the first that names a consumer wins.',
      }),
    ),
    consumer_by: Enums(['id', 'username', 'custom_id'] as const, {
      default: ['username', 'custom_id'],
      description: 'Application fields matched against the consumer claim, in order.',
    }),
    consumer_optional: Type.Boolean({
      default: false,
      description: 'Allow requests with no matching consumer.',
    }),
    anonymous: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'The Application (`namespace/name`) a request that fails authentication (401 or 403) goes upstream as.',
      }),
    ),
    credential_claim: Strings({ default: ['sub'], description: 'Claim path of the credential identifier.' }),
    // Accepted with no effect: Kong hands these groups to its ACL plugin, which Portcullis does not
    // have (an `acl` plugin is refused as unknown, so a route meant to be limited by it answers 503).
    authenticated_groups_claim: Type.Optional(
      Strings({ description: "Claim path of groups for Kong's ACL plugin; no effect here." }),
    ),
    upstream_access_token_header: Type.Union([Type.String({ minLength: 1 }), Type.Null()], {
      default: 'authorization:bearer',
      description: 'Header that carries the access token upstream; `name:bearer` prefixes `Bearer `.',
    }),
    upstream_id_token_header: Type.Optional(Type.String({ minLength: 1 })),
    upstream_refresh_token_header: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'Header that carries the refresh token upstream (the new one when the IdP rotated it).',
      }),
    ),
    upstream_headers_claims: Type.Optional(
      Strings({ description: 'Claim paths copied to upstream headers.' }),
    ),
    upstream_headers_names: Type.Optional(
      Strings({ description: 'Header names for `upstream_headers_claims`.' }),
    ),
    // Kong 3.14's form of the two lists above: a path array reaches nested claims.
    upstream_headers: Type.Optional(
      Type.Array(ClaimHeader(), { description: 'Headers set upstream from the claim at `path`.' }),
    ),
    upstream_introspection_header: Type.Optional(
      HeaderSpec('Header that carries the introspection answer upstream (base64 JSON).'),
    ),
    upstream_user_info_header: Type.Optional(
      HeaderSpec(
        "Header that carries the IdP's userinfo answer for the access token upstream (base64 JSON).",
      ),
    ),
    upstream_access_token_jwk_header: Type.Optional(
      HeaderSpec("Header that carries the access token's verifying public key upstream (base64 JSON)."),
    ),
    upstream_id_token_jwk_header: Type.Optional(
      HeaderSpec("Header that carries the ID token's verifying public key upstream (base64 JSON)."),
    ),
    // The same, added to the response the client gets.
    downstream_access_token_header: Type.Optional(HeaderSpec('Response header with the access token.')),
    downstream_id_token_header: Type.Optional(HeaderSpec('Response header with the ID token.')),
    downstream_introspection_header: Type.Optional(
      HeaderSpec('Response header with the introspection answer (base64 JSON).'),
    ),
    downstream_user_info_header: Type.Optional(
      HeaderSpec("Response header with the IdP's userinfo answer for the access token (base64 JSON)."),
    ),
    downstream_access_token_jwk_header: Type.Optional(
      HeaderSpec("Response header with the access token's verifying public key (base64 JSON)."),
    ),
    downstream_id_token_jwk_header: Type.Optional(
      HeaderSpec("Response header with the ID token's verifying public key (base64 JSON)."),
    ),
    downstream_headers_claims: Type.Optional(
      Strings({ description: 'Claim paths copied to response headers.' }),
    ),
    downstream_headers_names: Type.Optional(
      Type.Array(Type.String({ pattern: HEADER_NAME }), {
        description: 'Header names for `downstream_headers_claims`.',
      }),
    ),
    downstream_headers: Type.Optional(
      Type.Array(ClaimHeader(), { description: 'Response headers set from the claim at `path`.' }),
    ),
    // Kong 3.14's default: credentials in the query or body must not reach the upstream.
    hide_credentials: Type.Boolean({
      default: true,
      description: "Remove the client's credentials upstream.",
    }),
    session_secret: Type.Optional(
      Type.String({ minLength: 32, description: 'Key material for session cookies.' }),
    ),
    session_cookie_name: Type.String({ default: 'session', pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$" }),
    session_idling_timeout: Type.Number({ default: 900, minimum: 0, description: 'Seconds; 0 disables.' }),
    session_rolling_timeout: Type.Number({ default: 3600, minimum: 0, description: 'Seconds; 0 disables.' }),
    session_absolute_timeout: Type.Number({
      default: 86400,
      minimum: 0,
      description: 'Seconds; 0 disables.',
    }),
    session_cookie_path: Type.String({ default: '/', pattern: '^/' }),
    session_cookie_domain: Type.Optional(Type.String({ minLength: 1 })),
    session_cookie_same_site: Type.Union(
      [Type.Literal('Strict'), Type.Literal('Lax'), Type.Literal('None'), Type.Literal('Default')],
      { default: 'Lax' },
    ),
    session_cookie_http_only: Type.Boolean({ default: true }),
    session_cookie_secure: Type.Optional(
      Type.Boolean({ description: 'Unset: Secure when the request came over HTTPS.' }),
    ),
    disable_session: Type.Optional(
      Enums(AUTH_METHODS, { description: 'Methods whose success does not start a session.' }),
    ),
    cache_ttl: Type.Number({
      default: 3600,
      minimum: 0,
      description: 'Seconds; caches never outlive `exp`.',
    }),
    cache_tokens: Type.Boolean({ default: true }),
    cache_introspection: Type.Boolean({ default: true }),
    cache_user_info: Type.Boolean({
      default: true,
      description: "Cache userinfo answers for `cache_ttl`, never past a JWT access token's `exp`.",
    }),
    rediscovery_lifetime: Type.Number({
      default: 30,
      minimum: 0,
      description: 'Seconds between discovery or JWKS refetches for unknown keys.',
    }),
    extra_jwks_uris: Type.Optional(Type.Array(Url())),
    // Kong 3.14: overrides the discovered jwks_uri.
    jwks_endpoint: Type.Optional(Url()),
    timeout: Type.Number({ default: 10000, minimum: 1, description: 'IdP request timeout, milliseconds.' }),
    ssl_verify: Type.Boolean({ default: true, description: "Verify the IdP's TLS certificate." }),
    token_endpoint: Type.Optional(Url()),
    introspection_endpoint: Type.Optional(Url()),
    userinfo_endpoint: Type.Optional(Url()),
    // Signed userinfo (`application/jwt`) is refused by name in openid-connect-rules.ts.
    userinfo_accept: Type.Union([Type.Literal('application/json'), Type.Literal('application/jwt')], {
      default: 'application/json',
    }),
    authorization_endpoint: Type.Optional(Url()),
    redirect_uri: Type.Optional(
      Strings({ description: 'The callback URL registered at the IdP; the first is used.' }),
    ),
    // Kong's `fragment` and JARM (`*.jwt`) modes are refused by name (openid-connect-kong-fields.ts).
    response_mode: Type.Union([Type.Literal('query'), Type.Literal('form_post')], {
      default: 'query',
      description: 'How the IdP returns the code: in the query (GET) or in a form body (POST).',
    }),
    preserve_query_args: Type.Boolean({
      default: false,
      description: "Return to the login's original query string too, not only its path.",
    }),
    login_action: Type.Union([Type.Literal('upstream'), Type.Literal('response'), Type.Literal('redirect')], {
      default: 'upstream',
      description: 'After a login by one of `login_methods`: proxy it, answer with the tokens, or redirect.',
    }),
    login_methods: Enums(AUTH_METHODS, {
      default: ['authorization_code'],
      description: 'The auth methods whose success counts as a login for `login_action`.',
    }),
    // `null` (Kong's examples set it) is a value of its own: no tokens at all.
    login_tokens: Type.Union([Enums(LOGIN_TOKENS, { description: '' }), Type.Null()], {
      default: ['id_token'],
      description: 'What `login_action` response or redirect gives the client; `null` for none.',
    }),
    login_redirect_mode: Type.Union([Type.Literal('fragment'), Type.Literal('query')], {
      default: 'fragment',
      description: 'Where `login_action: redirect` puts `login_tokens`; `query` is refused.',
    }),
    login_redirect_uri: Type.Optional(
      Strings({ description: 'Where `login_action: redirect` sends the browser.' }),
    ),
    logout_uri_suffix: Type.Optional(Type.String({ minLength: 1 })),
    logout_methods: Enums(['GET', 'POST', 'DELETE'] as const, {
      default: ['POST', 'DELETE'],
      description: '',
    }),
    logout_redirect_uri: Type.Optional(Strings({ description: 'Where the browser goes after logout.' })),
    // Kong 3.x: overrides the discovered end_session_endpoint that logout redirects to.
    end_session_endpoint: Type.Optional(Url()),
    logout_revoke: Type.Boolean({
      default: false,
      description: "Revoke the session's access token at the IdP's revocation endpoint (RFC 7009) on logout.",
    }),
    logout_revoke_access_token: Type.Boolean({ default: true }),
    // Sessions here keep no refresh token, so there is none to revoke; `true` (Kong's default) is accepted.
    logout_revoke_refresh_token: Type.Boolean({ default: true }),
    unauthorized_error_message: Type.String({ default: 'Unauthorized' }),
    forbidden_error_message: Type.String({ default: 'Forbidden' }),
    unauthorized_redirect_uri: Type.Optional(
      Strings({ description: 'Where a browser refused with 401 is sent instead; the first is used.' }),
    ),
    forbidden_redirect_uri: Type.Optional(
      Strings({ description: 'Where a browser refused with 403 is sent instead; the first is used.' }),
    ),
    unexpected_redirect_uri: Type.Optional(
      Strings({ description: 'Where a browser is sent instead of a 503 when the IdP cannot be reached.' }),
    ),
    unauthorized_destroy_session: Type.Boolean({
      default: true,
      description: 'A session refused with 401 is ended (its cookies cleared).',
    }),
    forbidden_destroy_session: Type.Boolean({
      default: true,
      description: 'A session refused with 403 is ended (its cookies cleared).',
    }),
    run_on_preflight: Type.Boolean({ default: true }),
    authorization_cookie_name: Type.String({
      default: 'authorization',
      pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$",
    }),
    // Kong lets these be switched off; Portcullis always verifies, so only `true` is accepted.
    verify_nonce: Type.Optional(Type.Literal(true)),
    verify_signature: Type.Optional(Type.Literal(true)),
    // `false` is accepted but verifies all the same: Kong's multi-IdP guide sets it so that `iss` is
    // matched against `issuers_allowed`, which Portcullis always does; skipping `exp` would not be safe.
    verify_claims: Type.Optional(Type.Boolean()),
    // Kong's check of this config against the discovery document; off by default there.
    verify_parameters: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export type OpenIdConnectConfig = Static<typeof OpenIdConnectConfig>;
