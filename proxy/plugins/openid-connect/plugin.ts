import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { ERROR_BODIES, PortcullisError, errorBody } from '../../../common/errors.js';
import type { CompiledConfig, PluginInstance } from '../../../contract/index.js';
import { assertionAlg } from '../../../contract/plugins/client-jwk.js';
import type { AuthMethod, OpenIdConnectConfig } from '../../../contract/plugins/openid-connect.js';
import { readFormBody } from '../form-body.js';
import type { PluginContext, PluginRuntime } from '../registry.js';
import { AuthorizationFlow } from './authorization-flow.js';
import { checkClaimRules, type Claims } from './claims.js';
import { redirectResponse, refusalRedirect, refusalResponse, type Refusal } from './challenge.js';
import { ConsumerIndex } from './consumer.js';
import { findBearerToken, findNamedToken, findPair, type Location, type RequestView } from './credentials.js';
import { loginRedirectTarget, loginResponseBody, type LoginTokens } from './login-action.js';
import { isSameOriginRequest, requestOrigin } from './same-origin.js';
import { IdpCallRefused, type IdpCallGate } from './idp-call-limiter.js';
import { JwtVerifier, type JwtResult } from './jwt-verifier.js';
import type { OidcMetrics } from './metrics.js';
import type { Provider } from './provider.js';
import { acceptsSessionOf, sessionBinding, sessionSecret } from './session-binding.js';
import { SessionCookie, type SessionData } from './session-cookie.js';
import { TokenClient, type Client, type Tokens } from './token-client.js';
import { downstreamHeaders } from './downstream-headers.js';
import { anonymousHeaders, upstreamIdentityHeaders, type Principal } from './upstream-headers.js';

/** Kong's search order for credentials; the config only says which are on. */
const SEARCH_ORDER: readonly AuthMethod[] = [
  'session',
  'bearer',
  'introspection',
  'userinfo',
  'refresh_token',
  'password',
  'client_credentials',
  'authorization_code',
];

export interface OidcServices {
  provider: Provider;
  tokens: TokenClient;
  metrics: OidcMetrics;
  log: Logger;
  /** Used when the config has no `session_secret`: per proxy, shared by its workers. */
  fallbackSessionSecret: string;
  /** Per config: the Applications consumers map to. */
  consumers: (config: CompiledConfig) => ConsumerIndex;
  /** This instance's bound on new token and introspection calls (per worker). */
  idpCalls: IdpCallGate;
}

/** A verified caller, before the authorization rules. */
interface Authenticated {
  method: AuthMethod;
  claims: Claims;
  accessToken: string;
  idToken?: string;
  /** The refresh token to send upstream: the IdP's new one, else the one presented. */
  refreshToken?: string;
  /** The introspection answer, when the access token was introspected. */
  introspection?: Claims;
  /** The userinfo answer, when the userinfo endpoint judged the access token. */
  userinfo?: Claims;
  /** Unix seconds the credential stops being valid. */
  expiresAt?: number;
  /**
   * Without `expiresAt`: Unix seconds by which the IdP must judge the token
   * again (a userinfo answer has no `exp`), so a session ends then, not up to
   * `session_absolute_timeout` after the token was revoked.
   */
  recheckBy?: number;
  location?: Location;
  /** Renew or start a session after the request is let through; `method` started it. */
  session?: { startedAt?: number; renew: boolean; method: string };
}

type Outcome = { ok: true; value: Authenticated } | { ok: false; refusal: Refusal; reason: string };
type Verdict = { ok: true } | { ok: false; refusal: Refusal; reason: string };
const ALLOWED: Verdict = { ok: true };

/**
 * One `openid-connect` plugin instance on one config: finds the caller's
 * credential in Kong's order, verifies it (JWKS, introspection or an
 * exchange at the token endpoint), applies the claim rules, maps the
 * consumer to an Application, and sets the upstream identity headers.
 * Anything that throws is refused by the caller (fail closed).
 */
export class OpenIdConnectPlugin implements PluginRuntime {
  readonly name = 'openid-connect';
  readonly #id: string;
  readonly #config: OpenIdConnectConfig;
  readonly #services: OidcServices;
  readonly #enabled: Set<AuthMethod>;
  readonly #client: Client | undefined;
  readonly #verifier: JwtVerifier;
  readonly #session: SessionCookie | undefined;
  readonly #flow: AuthorizationFlow | undefined;
  readonly #realm: string;
  /** Whether an enabled method may find credentials in a form body. */
  readonly #wantsBody: boolean;
  /** `consumer_claims`, or `consumer_claim` as its one-path form; none when no consumer is mapped. */
  readonly #consumerPaths: readonly (readonly string[])[] | undefined;
  /** Which tokens' verifying keys go in a header, upstream or downstream. */
  readonly #sendsKeys: { access: boolean; id: boolean };
  /** Whether the userinfo answer goes in a header, upstream or downstream. */
  readonly #sendsUserinfo: boolean;
  #lastOutageLog = 0;
  #lastUserinfoLog = 0;

  constructor(instance: PluginInstance, config: OpenIdConnectConfig, services: OidcServices) {
    this.#id = instance.id;
    this.#config = config;
    this.#services = services;
    this.#enabled = new Set(config.auth_methods);
    const id = config.client_id?.[0];
    const auth = config.client_auth?.[0];
    const jwk = config.client_jwk?.[0];
    this.#client = id
      ? {
          id,
          ...(config.client_secret?.[0] !== undefined && { secret: config.client_secret[0] }),
          ...(auth !== undefined && { auth }),
          ...((auth === 'client_secret_jwt' || auth === 'private_key_jwt') && {
            alg: assertionAlg(auth, jwk, config.client_alg?.[0]),
          }),
          ...(auth === 'private_key_jwt' && jwk && { jwk }),
        }
      : undefined;
    this.#verifier = new JwtVerifier({
      provider: services.provider,
      issuersAllowed: config.issuers_allowed ?? [],
      leeway: config.leeway,
      hsSecrets: config.enable_hs_signatures ? (config.client_secret ?? []) : [],
      clientIds: config.client_id ?? [],
    });
    const secret = sessionSecret(config.session_secret, instance.source, services.fallbackSessionSecret);
    const binding = sessionBinding(config);
    if (this.#enabled.has('session') || this.#enabled.has('authorization_code')) {
      this.#session = new SessionCookie({
        secret,
        issuer: config.issuer,
        clientId: id ?? '',
        binding,
        cookieName: config.session_cookie_name,
        path: config.session_cookie_path,
        ...(config.session_cookie_domain !== undefined && { domain: config.session_cookie_domain }),
        sameSite: config.session_cookie_same_site,
        httpOnly: config.session_cookie_http_only,
        ...(config.session_cookie_secure !== undefined && { secure: config.session_cookie_secure }),
        idlingTimeout: config.session_idling_timeout,
        rollingTimeout: config.session_rolling_timeout,
        absoluteTimeout: config.session_absolute_timeout,
      });
    }
    if ((this.#enabled.has('authorization_code') || this.#enabled.has('session')) && this.#client) {
      this.#flow = new AuthorizationFlow({
        config,
        client: this.#client,
        secret,
        binding,
        provider: services.provider,
        tokens: services.tokens,
        idpCalls: services.idpCalls,
        log: services.log,
        verify: async (tokens) => {
          const outcome = await this.principalOf(tokens, Date.now() / 1000);
          return outcome.ok ? { ...outcome.value, expiresAt: sessionDeadline(outcome.value) } : undefined;
        },
      });
    }
    this.#realm = new URL(config.issuer).host;
    this.#consumerPaths =
      config.consumer_claims ?? (config.consumer_claim ? [config.consumer_claim] : undefined);
    this.#sendsKeys = {
      access: !!(config.upstream_access_token_jwk_header || config.downstream_access_token_jwk_header),
      id: !!(config.upstream_id_token_jwk_header || config.downstream_id_token_jwk_header),
    };
    this.#sendsUserinfo = !!(config.upstream_user_info_header || config.downstream_user_info_header);
    this.#wantsBody =
      ((this.#enabled.has('bearer') || this.#enabled.has('introspection') || this.#enabled.has('userinfo')) &&
        config.bearer_token_param_type.includes('body')) ||
      (this.#enabled.has('refresh_token') && config.refresh_token_param_type.includes('body')) ||
      (this.#enabled.has('password') && config.password_param_type.includes('body')) ||
      (this.#enabled.has('client_credentials') && config.client_credentials_param_type.includes('body'));
  }

  async access(request: FastifyRequest, reply: FastifyReply, context: PluginContext): Promise<boolean> {
    const config = this.#config;
    if (!config.run_on_preflight && isPreflight(request)) {
      context.preflightSkipped = true;
      return true;
    }
    const record = (m: string, outcome: string) => {
      this.#services.metrics.decision(context.route.id, this.#id, m, outcome);
      // The reason is never in the answer (it would help an attacker); operators find it here.
      if (outcome !== 'allowed') {
        this.#services.log.debug(
          { route: context.route.id, plugin: this.#id, method: m, outcome },
          'decision',
        );
      }
    };
    const attempt = { method: 'none' };
    try {
      const view = this.#view(request, context);
      if (
        (this.#wantsBody && request.method !== 'GET' && request.method !== 'HEAD') ||
        this.#flow?.wantsBody(request, context)
      ) {
        await this.#readBody(request, context, view);
      }
      if (this.#flow) {
        const handled = await this.#flow.handle(request, reply, context, view, this.#session);
        if (handled) {
          record('authorization_code', handled);
          return false;
        }
      }
      const outcome = await this.#authenticate(view, request, context, attempt);
      if (!outcome.ok) {
        record(attempt.method, outcome.reason);
        if (outcome.reason === 'no_credentials' && this.#flow?.canStart(request)) {
          await this.#flow.start(request, reply, context);
          record('authorization_code', 'redirected');
          return false;
        }
        if (this.#anonymous(outcome.refusal, context, attempt.method)) return true;
        return this.#refuse(request, reply, context, outcome.refusal);
      }
      const pending = this.#authorize(outcome.value, request, context);
      const verdict = pending instanceof Promise ? await pending : pending;
      record(outcome.value.method, verdict.ok ? 'allowed' : verdict.reason);
      if (!verdict.ok) {
        const ends = this.#endsSession(outcome.value, verdict.refusal);
        if (this.#anonymous(verdict.refusal, context, outcome.value.method)) {
          // As in Kong, the refused session still ends; the request goes on as anonymous.
          if (ends && this.#session) {
            context.upstream.setCookies.push(
              ...this.#session.clear(context.proto === 'https', request.headers.cookie),
            );
          }
          return true;
        }
        return this.#refuse(request, reply, context, verdict.refusal, ends);
      }
      return !this.#answerLogin(outcome.value, reply, context);
    } catch (error) {
      if (error instanceof IdpCallRefused) {
        // No warning per refusal (a flood would become a log flood): the metric counts them.
        record(attempt.method, 'idp_overloaded');
        this.#services.metrics.idpCallRefused(context.route.id, this.#id, error.reason);
        if (this.#redirectsUnexpected(request, reply)) return false;
        reply
          .code(503)
          .header('content-type', 'application/json; charset=utf-8')
          .header('retry-after', '1')
          .send(ERROR_BODIES.PCS_IDP_OVERLOADED);
        return false;
      }
      if (error instanceof PortcullisError && error.code === 'PCS_IDP_UNAVAILABLE') {
        record(attempt.method, 'idp_unavailable');
        // Once per 10 s per instance: an outage must not become a log flood.
        if (Date.now() - this.#lastOutageLog > 10_000) {
          this.#lastOutageLog = Date.now();
          this.#services.log.warn({ plugin: this.#id, err: error.message }, 'identity provider unavailable');
        }
        if (this.#redirectsUnexpected(request, reply)) return false;
        reply
          .code(503)
          .header('content-type', 'application/json; charset=utf-8')
          .header('retry-after', '5')
          .send(errorBody('PCS_IDP_UNAVAILABLE'));
        return false;
      }
      throw error;
    }
  }

  /** What the credential search reads of the request, without its body. */
  #view(request: FastifyRequest, context: PluginContext): RequestView {
    return {
      headers: request.headers,
      rawHeaders: request.raw.rawHeaders,
      query: new URLSearchParams(context.query),
    };
  }

  /** A small form body, when a method may find credentials in it; the bytes then go upstream as read. */
  async #readBody(request: FastifyRequest, context: PluginContext, view: RequestView): Promise<void> {
    const form = await readFormBody(request.raw);
    if (form) {
      view.body = form.params;
      context.upstream.body = form.bytes;
    }
  }

  /** Finds and verifies the caller's credential; `attempt.method` names the method that judged it, for metrics. */
  async #authenticate(
    view: RequestView,
    request: FastifyRequest,
    context: PluginContext,
    attempt: { method: string },
  ): Promise<Outcome> {
    const config = this.#config;
    const now = Date.now() / 1000;
    let presented = false;
    let last: Outcome | undefined;
    for (const method of SEARCH_ORDER) {
      // A login by authorization code is kept in a session even when `session` is not listed.
      const on =
        this.#enabled.has(method) || (method === 'session' && this.#enabled.has('authorization_code'));
      if (!on) continue;
      if (method === 'session' && this.#session) {
        const session = await this.#session.read(request.headers.cookie, now);
        if (session && acceptsSessionOf(session.data.method, this.#enabled)) {
          return {
            ok: true,
            value: {
              method: 'session',
              claims: session.data.claims,
              accessToken: session.data.accessToken,
              ...(session.data.idToken !== undefined && { idToken: session.data.idToken }),
              ...(session.data.tokenExpiresAt !== undefined && { expiresAt: session.data.tokenExpiresAt }),
              session: { startedAt: session.startedAt, renew: session.renew, method: session.data.method },
            },
          };
        }
      } else if (method === 'bearer' || method === 'introspection' || method === 'userinfo') {
        const found = findBearerToken(view, config.bearer_token_param_type, config.bearer_token_cookie_name);
        if (!found) continue;
        attempt.method = method;
        if (!found.ok) return invalidRequest(found.problem, config);
        presented = true;
        // A browser sends cookies on requests other sites cause: a token in one is not proof of intent (CSRF).
        if (
          found.location.in === 'cookie' &&
          // A WebSocket handshake is a GET, but the page that opened it reads what comes back.
          (!SAFE_METHODS.has(request.method) || request.headers.upgrade !== undefined) &&
          !isSameOriginRequest(request.headers, () => requestOrigin(context.proto, request.headers.host))
        ) {
          return {
            ok: false,
            refusal: { status: 403, message: config.forbidden_error_message },
            reason: 'cross_site_cookie',
          };
        }
        // A JWT is settled locally when `bearer` is on; only opaque tokens (or
        // every token, without `bearer`) are introspected, so made-up JWTs never
        // cost an IdP call.
        if (method === 'bearer') {
          if (found.value.split('.').length !== 3) {
            attempt.method = 'none';
            continue;
          }
          return this.#verifyJwt(found.value, now, found.location);
        }
        // The first of introspection and userinfo that is on judges the token (Kong's order).
        return method === 'introspection'
          ? this.#introspect(found.value, found.location)
          : this.#userinfo(found.value, found.location);
      } else if (method === 'refresh_token') {
        const name = config.refresh_token_param_name;
        const found = name ? findNamedToken(view, config.refresh_token_param_type, name) : undefined;
        if (!found) continue;
        attempt.method = method;
        if (!found.ok) return invalidRequest(found.problem, config);
        return this.#refresh(found.value, found.location, now);
      } else if (method === 'password' || method === 'client_credentials') {
        const names: [string, string] =
          method === 'password' ? ['username', 'password'] : ['client_id', 'client_secret'];
        const types =
          method === 'password' ? config.password_param_type : config.client_credentials_param_type;
        const found = findPair(view, types, names);
        if (!found) continue;
        attempt.method = method;
        if (!found.ok) return invalidRequest(found.problem, config);
        presented = true;
        last = await this.#exchange(method, found.value, found.location, now);
        // Basic credentials are tried as a password first, then as client credentials (both use the header).
        if (last.ok || method === 'client_credentials' || found.location.in !== 'header') return last;
      }
    }
    if (last) return last;
    return presented
      ? unauthorized(config, 'invalid_token', 'unsupported_credential')
      : {
          ok: false,
          refusal: { status: 401, message: config.unauthorized_error_message },
          reason: 'no_credentials',
        };
  }

  #verifyJwt(token: string, now: number, location: Location): Outcome | Promise<Outcome> {
    const result = this.#verifier.verify(token, now);
    return result instanceof Promise
      ? result.then((r) => this.#jwtOutcome(r, token, location))
      : this.#jwtOutcome(result, token, location);
  }

  #jwtOutcome(result: JwtResult, token: string, location: Location): Outcome {
    if (result.ok) {
      return {
        ok: true,
        value: {
          method: 'bearer',
          claims: result.claims,
          accessToken: token,
          expiresAt: result.expiresAt,
          location,
        },
      };
    }
    if ('unavailable' in result) throw result.unavailable;
    return unauthorized(this.#config, 'invalid_token', result.reason);
  }

  async #introspect(token: string, location: Location): Promise<Outcome> {
    if (!this.#client) return unauthorized(this.#config, 'invalid_token', 'no_client');
    const config = this.#config;
    const result = await this.#services.tokens.introspect(
      this.#client,
      token,
      config.cache_ttl,
      config.cache_introspection,
      this.#services.idpCalls,
    );
    if (!result.ok) return unauthorized(config, 'invalid_token', result.reason);
    const claims = result.value;
    const expiresAt = typeof claims.exp === 'number' ? claims.exp : undefined;
    const issuers = config.issuers_allowed ?? [(await this.#services.provider.metadata()).issuer];
    if (typeof claims.iss === 'string' && !issuers.includes(claims.iss)) {
      return unauthorized(config, 'invalid_token', 'iss');
    }
    return {
      ok: true,
      value: {
        method: 'introspection',
        claims,
        accessToken: token,
        introspection: claims,
        ...(expiresAt !== undefined && { expiresAt }),
        location,
      },
    };
  }

  /**
   * An access token judged by the IdP's userinfo endpoint; the answer's
   * claims are the caller's (Kong takes the token's own, which an opaque
   * token does not have).
   */
  async #userinfo(token: string, location: Location): Promise<Outcome> {
    const config = this.#config;
    const result = await this.#services.tokens.userinfo(
      token,
      config.cache_ttl,
      config.cache_user_info,
      this.#services.idpCalls,
    );
    if (!result.ok) return unauthorized(config, 'invalid_token', result.reason);
    const exp = result.value.exp;
    return {
      ok: true,
      value: {
        method: 'userinfo',
        claims: result.value,
        accessToken: token,
        userinfo: result.value,
        ...(typeof exp === 'number'
          ? { expiresAt: exp }
          : { recheckBy: Math.floor(Date.now() / 1000) + config.cache_ttl }),
        location,
      },
    };
  }

  /** A caller's refresh token exchanged at the token endpoint as the proxy's client; the new tokens are verified. */
  async #refresh(refreshToken: string, location: Location, now: number): Promise<Outcome> {
    const config = this.#config;
    if (!this.#client) return unauthorized(config, 'invalid_token', 'no_client');
    const result = await this.#services.tokens.refresh(this.#client, refreshToken, this.#services.idpCalls);
    if (!result.ok) return unauthorized(config, 'invalid_token', result.reason);
    const principal = await this.principalOf(result.value, Math.max(now, Date.now() / 1000));
    if (!principal.ok) return principal;
    return {
      ok: true,
      value: {
        ...principal.value,
        method: 'refresh_token',
        location,
        refreshToken: result.value.refreshToken ?? refreshToken,
      },
    };
  }

  /** Exchanges a caller's credentials at the token endpoint, then verifies the token it got. */
  async #exchange(
    method: 'password' | 'client_credentials',
    pair: { id: string; secret: string },
    location: Location,
    now: number,
  ): Promise<Outcome> {
    const config = this.#config;
    const tokens = this.#services.tokens;
    let result;
    if (method === 'password') {
      if (!this.#client) return unauthorized(config, 'invalid_token', 'no_client');
      result = await tokens.password(
        this.#client,
        pair.id,
        pair.secret,
        config.scopes,
        config.cache_tokens,
        this.#services.idpCalls,
      );
    } else {
      result = await tokens.clientCredentials(
        { id: pair.id, secret: pair.secret, ...callerAuth(this.#client) },
        config.scopes,
        config.cache_tokens,
        this.#services.idpCalls,
      );
    }
    if (!result.ok) return unauthorized(config, 'invalid_token', result.reason);
    // The clock is read again: `now` predates the exchange, and a token issued during it can carry
    // an `iat` (or `nbf`) of the next second, which would be refused as issued in the future.
    const principal = await this.principalOf(result.value, Math.max(now, Date.now() / 1000));
    if (!principal.ok) return principal;
    return { ok: true, value: { ...principal.value, method, location } };
  }

  /**
   * The verified claims of tokens the IdP just issued: the access token's
   * own when it is a JWT, else its introspection or its userinfo (when
   * enabled), else the ID token's claims (already checked by openid-client) or none.
   */
  async principalOf(tokens: Tokens & { idTokenClaims?: Claims }, now: number): Promise<Outcome> {
    const base = {
      accessToken: tokens.accessToken,
      ...(tokens.idToken !== undefined && { idToken: tokens.idToken }),
    };
    if (tokens.accessToken.split('.').length === 3) {
      const verified = await this.#verifyJwt(tokens.accessToken, now, {
        in: 'header',
        name: 'authorization',
      });
      if (!verified.ok) return verified;
      return { ok: true, value: { ...verified.value, ...base } };
    }
    if (this.#enabled.has('introspection') && this.#client) {
      const introspected = await this.#introspect(tokens.accessToken, {
        in: 'header',
        name: 'authorization',
      });
      if (!introspected.ok) return introspected;
      return { ok: true, value: { ...introspected.value, ...base } };
    }
    if (this.#enabled.has('userinfo')) {
      const known = await this.#userinfo(tokens.accessToken, { in: 'header', name: 'authorization' });
      if (!known.ok) return known;
      // The token endpoint's `expires_in` is the expiry the answer lacks.
      const expiresAt = known.value.expiresAt ?? tokens.expiresAt;
      return { ok: true, value: { ...known.value, ...base, ...(expiresAt !== undefined && { expiresAt }) } };
    }
    const claims: Claims = {
      ...(tokens.idTokenClaims ?? {}),
      ...(tokens.scope !== undefined && { scope: tokens.scope }),
    };
    return {
      ok: true,
      value: {
        method: 'bearer',
        claims,
        ...base,
        ...(tokens.expiresAt !== undefined && { expiresAt: tokens.expiresAt }),
      },
    };
  }

  /** Claim rules, consumer mapping, upstream headers and the session cookie. */
  #authorize(
    auth: Authenticated,
    request: FastifyRequest,
    context: PluginContext,
  ): Verdict | Promise<Verdict> {
    const config = this.#config;
    const verdict = checkClaimRules(auth.claims, config);
    if (!verdict.ok) {
      const refusal: Refusal =
        verdict.status === 403
          ? {
              status: 403,
              error: verdict.error as 'insufficient_scope',
              message: config.forbidden_error_message,
            }
          : { status: 401, error: 'invalid_token', message: config.unauthorized_error_message };
      return { ok: false, refusal, reason: verdict.reason };
    }
    const paths = this.#consumerPaths;
    const consumer = paths
      ? this.#services.consumers(context.config).findFirst(auth.claims, paths, config.consumer_by)
      : undefined;
    if (paths && !consumer && !config.consumer_optional) {
      return {
        ok: false,
        refusal: { status: 403, message: config.forbidden_error_message },
        reason: 'consumer',
      };
    }
    context.principal = consumer ? { plugin: this.#id, application: consumer } : { plugin: this.#id };
    const changes = context.upstream;
    if (config.hide_credentials && auth.location) hideCredential(auth.location, context);
    const principal: Principal = {
      claims: auth.claims,
      accessToken: auth.accessToken,
      ...(auth.idToken !== undefined && { idToken: auth.idToken }),
      ...(auth.refreshToken !== undefined && { refreshToken: auth.refreshToken }),
      ...(auth.introspection !== undefined && { introspection: auth.introspection }),
      ...(auth.userinfo !== undefined && { userinfo: auth.userinfo }),
      scopes: verdict.scopes,
      ...(consumer && { consumer }),
    };
    const finish = (): Verdict | Promise<Verdict> => {
      Object.assign(changes.setHeaders, upstreamIdentityHeaders(principal, config));
      const downstream = downstreamHeaders(principal, config);
      if (Object.keys(downstream).length > 0) {
        changes.setResponseHeaders = { ...changes.setResponseHeaders, ...downstream };
      }
      if (this.#startsSession(auth)) return this.#issueSession(auth, request, context).then(() => ALLOWED);
      return ALLOWED;
    };
    const lookups: Promise<void>[] = [];
    if (this.#sendsKeys.access || this.#sendsKeys.id) lookups.push(this.#addKeys(principal));
    if (this.#sendsUserinfo && !principal.userinfo) lookups.push(this.#addUserinfo(principal, context));
    return lookups.length > 0 ? Promise.all(lookups).then(finish) : finish();
  }

  /**
   * The IdP's userinfo answer for the `*_user_info_header` fields, when the
   * method that judged the token did not fetch it (a session's stored
   * access token included; cached by token). As in Kong the header is
   * informational: the token is already verified, so an answer the IdP
   * refuses or cannot give leaves the header out and the request goes on.
   * The proxy owns the header name, so the upstream never gets the client's instead.
   */
  async #addUserinfo(principal: Principal, context: PluginContext): Promise<void> {
    const config = this.#config;
    let reason: string;
    try {
      const result = await this.#services.tokens.userinfo(
        principal.accessToken,
        config.cache_ttl,
        config.cache_user_info,
        this.#services.idpCalls,
      );
      if (result.ok) {
        principal.userinfo = result.value;
        return;
      }
      reason = result.reason;
    } catch (error) {
      if (error instanceof IdpCallRefused) reason = 'idp_overloaded';
      else if (error instanceof PortcullisError && error.code === 'PCS_IDP_UNAVAILABLE')
        reason = 'idp_unavailable';
      else throw error;
    }
    // Once per 10 s per instance: an outage must not become a log flood. Never the token or the answer.
    if (Date.now() - this.#lastUserinfoLog > 10_000) {
      this.#lastUserinfoLog = Date.now();
      this.#services.log.warn(
        { route: context.route.id, plugin: this.#id, reason },
        'userinfo header not set: no userinfo answer for the access token',
      );
    }
  }

  /** The public keys that verify the principal's JWTs, for the `*_jwk_header` fields. */
  async #addKeys(principal: Principal): Promise<void> {
    const provider = this.#services.provider;
    const isJwt = (token: string | undefined): token is string => token?.split('.').length === 3;
    const [access, id] = await Promise.all([
      this.#sendsKeys.access && isJwt(principal.accessToken)
        ? provider.signingKey(principal.accessToken)
        : undefined,
      this.#sendsKeys.id && isJwt(principal.idToken) ? provider.signingKey(principal.idToken) : undefined,
    ]);
    if (access) principal.accessTokenJwk = access;
    if (id) principal.idTokenJwk = id;
  }

  /**
   * Kong's `login_action` for a login by one of `login_methods` other than the
   * browser's (the authorization code flow answers its own callback): the
   * tokens as JSON, or a redirect with them in the fragment. True when answered.
   */
  #answerLogin(auth: Authenticated, reply: FastifyReply, context: PluginContext): boolean {
    const config = this.#config;
    if (config.login_action === 'upstream' || !config.login_methods.includes(auth.method)) return false;
    const redirectTo = config.login_redirect_uri?.[0];
    // Kong proxies a redirect login that has nowhere to go.
    if (config.login_action === 'redirect' && !redirectTo) return false;
    const login: LoginTokens = {
      access_token: auth.accessToken,
      ...(auth.idToken !== undefined && { id_token: auth.idToken }),
      ...(auth.refreshToken !== undefined && { refresh_token: auth.refreshToken }),
      ...(auth.expiresAt !== undefined && {
        expires_in: Math.max(0, Math.floor(auth.expiresAt - Date.now() / 1000)),
      }),
      ...(auth.introspection !== undefined && { introspection: auth.introspection }),
    };
    reply.header('cache-control', 'no-store');
    if (context.upstream.setCookies.length > 0) reply.header('set-cookie', context.upstream.setCookies);
    if (config.login_action === 'response') {
      reply
        .code(200)
        .header('content-type', 'application/json; charset=utf-8')
        .send(JSON.stringify(loginResponseBody(login, config.login_tokens)));
    } else {
      reply
        .code(302)
        .header('location', loginRedirectTarget(redirectTo!, login, config.login_tokens))
        .send();
    }
    return true;
  }

  #startsSession(auth: Authenticated): boolean {
    if (!this.#session || !this.#enabled.has('session')) return false;
    return auth.method === 'session'
      ? auth.session?.renew === true
      : !this.#config.disable_session?.includes(auth.method);
  }

  async #issueSession(auth: Authenticated, request: FastifyRequest, context: PluginContext): Promise<void> {
    if (!this.#session) return;
    const data: SessionData = {
      accessToken: auth.accessToken,
      claims: auth.claims,
      // A renewed session keeps the method that started it: the next instance re-checks it.
      method: auth.session?.method ?? auth.method,
      ...(auth.idToken !== undefined && { idToken: auth.idToken }),
      ...(sessionDeadline(auth) !== undefined && { tokenExpiresAt: sessionDeadline(auth) }),
    };
    try {
      const cookies = await this.#session.issue(
        data,
        Date.now() / 1000,
        context.proto === 'https',
        auth.session?.startedAt,
        request.headers.cookie,
      );
      context.upstream.setCookies.push(...cookies);
    } catch (error) {
      // Too large for cookies: the request is still authenticated, it just gets no session.
      this.#services.log.warn({ plugin: this.#id, err: (error as Error).message }, 'session not issued');
    }
  }

  /**
   * Kong's `anonymous`: a request refused as unauthenticated (401) or
   * forbidden (403) goes on as that Application instead, as Kong does for
   * both. Never one refused as malformed (400), nor an identity provider
   * outage (503, thrown before this): a caller must not be downgraded, or
   * let in, by making the IdP fail. A missing Application fails closed.
   * Counted as `anonymous` after the refusal reason (as a login redirect is).
   */
  #anonymous(refusal: Refusal, context: PluginContext, method: string): boolean {
    const id = this.#config.anonymous;
    if (id === undefined || refusal.status === 400) return false;
    const application = this.#services.consumers(context.config).byId(id);
    if (!application)
      throw new PortcullisError('PCS_PLUGIN_FAILED', `anonymous Application "${id}" not found`);
    context.principal = { plugin: this.#id, application, anonymous: true };
    Object.assign(context.upstream.setHeaders, anonymousHeaders(application));
    this.#services.metrics.decision(context.route.id, this.#id, method, 'anonymous');
    return true;
  }

  /**
   * Answers a refusal, or redirects a browser to the configured page; `endSession` also clears
   * the session the request was judged on (Kong's `*_destroy_session`).
   */
  #refuse(
    request: FastifyRequest,
    reply: FastifyReply,
    context: PluginContext,
    refusal: Refusal,
    endSession = false,
  ): false {
    const location = refusalRedirect(this.#config, refusal.status, request.headers);
    const response = location ? redirectResponse(location) : refusalResponse(refusal, this.#realm);
    reply.code(response.status).headers(response.headers);
    if (endSession && this.#session) {
      reply.header('set-cookie', this.#session.clear(context.proto === 'https', request.headers.cookie));
    }
    reply.send(response.body);
    return false;
  }

  /**
   * Kong's `*_destroy_session` (default true): a session refused by this instance's rules is
   * ended. Only the session the request was judged on: a cookie this instance cannot read may be
   * a sibling route's session, which this refusal says nothing about.
   */
  #endsSession(auth: Authenticated, refusal: Refusal): boolean {
    if (auth.method !== 'session') return false;
    if (refusal.status === 401) return this.#config.unauthorized_destroy_session;
    return refusal.status === 403 && this.#config.forbidden_destroy_session;
  }

  /** Kong's `unexpected_redirect_uri`, for a browser the plugin would answer 503 because of the IdP. */
  #redirectsUnexpected(request: FastifyRequest, reply: FastifyReply): boolean {
    const location = refusalRedirect(this.#config, 503, request.headers);
    if (!location) return false;
    const response = redirectResponse(location);
    reply.code(response.status).headers(response.headers).send(response.body);
    return true;
  }
}

function hideCredential(location: Location, context: PluginContext): void {
  const changes = context.upstream;
  if (location.in === 'header') {
    changes.removeHeaders.add(location.name);
    return;
  }
  if (location.in === 'cookie') {
    (changes.removeCookies ??= []).push(location.name);
    return;
  }
  if (location.in === 'query') {
    const params = new URLSearchParams(changes.query ?? context.query);
    for (const name of location.names) params.delete(name);
    const rest = params.toString();
    changes.query = rest ? `?${rest}` : '';
    return;
  }
  if (changes.body) {
    const params = new URLSearchParams(changes.body.toString('utf8'));
    for (const name of location.names) params.delete(name);
    changes.body = Buffer.from(params.toString(), 'utf8');
  }
}

/** When a session of `auth` must end: the token's expiry, else the IdP's next check. */
function sessionDeadline(auth: Authenticated): number | undefined {
  return auth.expiresAt ?? auth.recheckBy;
}

/** Methods a cross-site page may cause without changing anything (RFC 9110 §9.2.1). */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * How a caller's own client id and secret authenticate at the token endpoint:
 * as the proxy's client does, except that `private_key_jwt` (the proxy's key
 * never signs for another client) and `none` send the presented secret with Basic.
 */
function callerAuth(client: Client | undefined): Pick<Client, 'auth' | 'alg'> {
  if (client?.auth === 'client_secret_post') return { auth: 'client_secret_post' };
  if (client?.auth === 'client_secret_jwt') return { auth: 'client_secret_jwt', alg: client.alg ?? 'HS256' };
  return { auth: 'client_secret_basic' };
}

function isPreflight(request: FastifyRequest): boolean {
  return (
    request.method === 'OPTIONS' &&
    request.headers.origin !== undefined &&
    request.headers['access-control-request-method'] !== undefined
  );
}

function unauthorized(config: OpenIdConnectConfig, error: 'invalid_token', reason: string): Outcome {
  return { ok: false, refusal: { status: 401, error, message: config.unauthorized_error_message }, reason };
}

function invalidRequest(problem: string, config: OpenIdConnectConfig): Outcome {
  return problem === 'malformed'
    ? unauthorized(config, 'invalid_token', 'malformed')
    : {
        ok: false,
        refusal: { status: 400, error: 'invalid_request', message: config.unauthorized_error_message },
        reason: 'duplicate_credentials',
      };
}
