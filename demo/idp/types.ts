/**
 * Public types of the test OpenID Provider. Kept apart from the implementation
 * so test files can import them without pulling in `oidc-provider`.
 */
import type { KeyObject } from 'node:crypto';
import type { JWK } from 'jose';

/** Which real-world IdP the tokens and URLs are shaped like. */
export type IdpProfile = 'okta' | 'azure' | 'ping' | 'keycloak';

export interface TestUser {
  username: string;
  password: string;
  /** Stable subject identifier (`sub`). */
  sub: string;
  email: string;
  name: string;
  groups: string[];
}

export interface TestClient {
  clientId: string;
  /** Absent for public clients. */
  clientSecret?: string;
  /** What the client is for; informative only. */
  kind: 'gateway' | 'application' | 'spa';
  grantTypes: string[];
  responseTypes: string[];
  redirectUris: string[];
  postLogoutRedirectUris: string[];
  /** Azure-style app roles put in the `roles` claim of its client-credentials tokens. */
  roles: string[];
  /** When true the client's access tokens default to the opaque resource (introspection only). */
  opaqueTokens: boolean;
  /**
   * When true its logins get the plain OpenID Connect access token: no
   * resource, opaque, good at the userinfo endpoint only. Its password
   * grant still uses the default resource.
   */
  userinfoTokens?: boolean;
  /** How it authenticates at the token, introspection and revocation endpoints (default client_secret_basic, or none when public). */
  tokenEndpointAuthMethod?:
    'client_secret_basic' | 'client_secret_post' | 'client_secret_jwt' | 'private_key_jwt';
  /** Its public keys, for `private_key_jwt`. */
  jwks?: { keys: Record<string, unknown>[] };
}

export interface TestIdpOptions {
  profile?: IdpProfile;
  /** Port on 127.0.0.1 (default 0: any free port). The demo listens on a fixed one. */
  port?: number;
  /** Where unexpected errors go (default: one line on stderr); they never carry tokens. */
  onError?: (message: string, error: unknown) => void;
  /** Serve HTTPS with a self-signed certificate for 127.0.0.1 / localhost. */
  tls?: boolean;
  /** Redirect URIs of the gateway client (the proxy's callback), also given to the SPA unless `spaRedirectUris`. */
  redirectUris?: string[];
  spaRedirectUris?: string[];
  postLogoutRedirectUris?: string[];
  /** Replace or add clients (merged by clientId over the defaults). */
  clients?: Partial<TestClient>[];
  /** Replace the default users (alice, bob). */
  users?: TestUser[];
  /** Access-token lifetime in seconds (default 300). */
  accessTokenTtl?: number;
  /** Azure profile: tenant GUID (default fixed). */
  tenantId?: string;
  /** Override the JWT audience of the default resource. */
  audience?: string;
  /** Override the scopes the resource servers grant (default: the profile's). */
  resourceScopes?: string[];
}

export interface TokenResponse {
  access_token?: string;
  id_token?: string;
  refresh_token?: string;
  token_type?: string;
  expires_in?: number;
  scope?: string;
  error?: string;
  error_description?: string;
  /** HTTP status of the token endpoint answer. */
  status: number;
}

export type CountedEndpoint =
  | 'discovery'
  | 'jwks'
  | 'token'
  | 'introspection'
  | 'revocation'
  | 'authorization'
  | 'end_session'
  | 'userinfo'
  | 'interaction'
  | 'other';

/**
 * Requests per endpoint, and how clients authenticated at the token,
 * introspection and revocation endpoints: `client_secret_basic` when the
 * request carried Basic credentials, else `client_secret_post`.
 */
export type RequestCounts = Record<CountedEndpoint | 'client_secret_basic' | 'client_secret_post', number>;

/** `http-503`: every request answers 503; `refuse`: the port stops listening; `hang`: requests never answer. */
export type OutageMode = 'http-503' | 'refuse' | 'hang';

export interface SigningKeyInfo {
  kid: string;
  alg: string;
  /** Public JWK as published in the JWKS (kid, alg, use included). */
  publicJwk: JWK;
  publicKeyPem: string;
  privateKey: KeyObject;
  /** Whether it is the key new tokens are signed with. */
  current: boolean;
}

export interface SignJwtOptions {
  /** Merged over the default header `{ alg: 'RS256', typ: 'JWT', kid: <current kid> }`; set a field to undefined to drop it. */
  header?: Record<string, unknown>;
  /**
   * Signing key. Default: the IdP's current private key. For `HS*` pass the
   * secret bytes (e.g. the RSA public key PEM for the alg-confusion attack);
   * for asymmetric algs a private KeyObject or PEM. Ignored for `alg: 'none'`.
   */
  key?: KeyObject | string | Uint8Array;
}

export interface LoginCredentials {
  username: string;
  password: string;
}

export interface ImplicitResult {
  callbackUrl: string;
  access_token?: string;
  id_token?: string;
  token_type?: string;
  expires_in?: number;
  scope?: string;
  state?: string;
  iss?: string;
  error?: string;
}

export interface TestIdp {
  readonly profile: IdpProfile;
  readonly issuer: string;
  /** `http(s)://127.0.0.1:PORT` */
  readonly origin: string;
  readonly port: number;
  /** Discovery document URL. */
  readonly discoveryUrl: string;
  readonly clients: Record<string, TestClient>;
  /** Convenience handles on the default clients. */
  readonly gateway: TestClient;
  readonly spa: TestClient;
  readonly users: Record<string, TestUser>;
  /** Resource indicator / audience of JWT access tokens, and of opaque ones. */
  readonly resources: { jwt: string; jwtAudience: string; opaque: string };
  /** PEM of the self-signed certificate when `tls: true` (usable as NODE_EXTRA_CA_CERTS), else undefined. */
  readonly caPem: string | undefined;
  readonly tlsKeyPem: string | undefined;

  clientCredentials(
    clientId: string,
    clientSecret: string,
    scope?: string,
    resource?: string,
  ): Promise<TokenResponse>;
  password(
    username: string,
    password: string,
    scope?: string,
    client?: { clientId: string; clientSecret: string },
  ): Promise<TokenResponse>;
  /** RFC 7662 introspection as the gateway client (or the given one). */
  introspect(
    token: string,
    client?: { clientId: string; clientSecret: string },
  ): Promise<Record<string, unknown>>;
  /**
   * Follow an authorization request through login + consent; returns the redirect to the client
   * or, with `response_mode=form_post`, the URL the response would be POSTed to and its fields.
   */
  completeLogin(
    authorizationUrl: string | URL,
    credentials: LoginCredentials,
  ): Promise<{ callbackUrl: string; form?: URLSearchParams }>;
  /** Same for `response_type=id_token token`, parsing the fragment. */
  implicitLogin(authorizationUrl: string | URL, credentials: LoginCredentials): Promise<ImplicitResult>;
  /** Builds an authorization URL for the SPA (or given) client with the implicit `id_token token` response type. */
  implicitAuthorizationUrl(opts?: {
    clientId?: string;
    redirectUri?: string;
    scope?: string;
    state?: string;
    nonce?: string;
  }): string;

  setRedirectUris(clientId: string, uris: string[]): void;

  requestCounts(): RequestCounts;
  resetCounts(): void;

  rotateKeys(opts?: { keepOld?: boolean }): Promise<SigningKeyInfo>;
  /** Drop every non-current key from the JWKS (end of a keepOld grace period). */
  retireOldKeys(): Promise<void>;
  signingKeys(): SigningKeyInfo[];
  currentKey(): SigningKeyInfo;
  signJwt(payload: Record<string, unknown>, opts?: SignJwtOptions): string;
  /** Claims an access token of this profile would carry for the client (and user), to base forged tokens on. */
  accessTokenClaims(clientId: string, username?: string): Record<string, unknown>;

  setDown(down: boolean, mode?: OutageMode): Promise<void>;
  readonly isDown: boolean;

  stop(): Promise<void>;
}
