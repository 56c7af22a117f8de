import type { Logger } from 'pino';
import type { FastifyReply, FastifyRequest } from 'fastify';
import * as oidc from 'openid-client';
import { ERROR_BODIES } from '../../../common/errors.js';
import type { OpenIdConnectConfig } from '../../../contract/plugins/openid-connect.js';
import type { PluginContext } from '../registry.js';
import { authorizationResponse } from './authorization-response.js';
import { AuthorizationStateCookie } from './authorization-state.js';
import { IdpCallRefused, type IdpCallGate } from './idp-call-limiter.js';
import { acceptsHtml, redirectResponse, refusalRedirect, refusalResponse } from './challenge.js';
import type { Claims } from './claims.js';
import type { Provider } from './provider.js';
import { safeReturnPath } from './return-path.js';
import { loginRedirectTarget, loginResponseBody, type LoginTokens } from './login-action.js';
import { isSameOriginRequest, requestOrigin } from './same-origin.js';
import type { SessionCookie, SessionData } from './session-cookie.js';
import type { Client, TokenClient, Tokens } from './token-client.js';

export interface VerifiedTokens {
  claims: Claims;
  accessToken: string;
  idToken?: string;
  expiresAt?: number;
}

export interface AuthorizationFlowOptions {
  config: OpenIdConnectConfig;
  client: Client;
  secret: string;
  /** The acceptance rules' digest: a login started by an instance with other rules does not finish here. */
  binding: string;
  provider: Provider;
  tokens: TokenClient;
  /** Bounds the code exchanges at the callback, which anyone holding a login's state cookie can cause. */
  idpCalls: IdpCallGate;
  /** Turns the tokens of a finished login into verified claims, as any other credential. */
  verify: (tokens: Tokens & { idTokenClaims?: Claims }) => Promise<VerifiedTokens | undefined>;
  log: Logger;
}

/**
 * The browser login (authorization code with PKCE S256, `state` and
 * `nonce`), run by the proxy for a browser that has no credentials, and the
 * logout. The login's state lives in an encrypted cookie, so any worker can
 * finish it; the callback checks `state`, `nonce`, PKCE and, where the IdP
 * offers it, the RFC 9207 `iss` parameter (openid-client does), then starts
 * a session and sends the browser back to the same-origin path it came
 * from (and its query, with `preserve_query_args`).
 *
 * With `response_mode: form_post` the IdP returns with a POST whose form
 * body carries the response (the code stays out of URLs, so out of logs
 * and Referer headers). Only that POST is then a callback, and it is always
 * answered here, never proxied: without a valid state cookie it is refused.
 */
export class AuthorizationFlow {
  readonly #options: AuthorizationFlowOptions;
  readonly #state: AuthorizationStateCookie;
  /** With `authorization_code` off this only handles logout. */
  readonly #login: boolean;
  readonly #formPost: boolean;

  constructor(options: AuthorizationFlowOptions) {
    this.#options = options;
    this.#login = options.config.auth_methods.includes('authorization_code');
    this.#formPost = options.config.response_mode === 'form_post';
    this.#state = new AuthorizationStateCookie({
      secret: options.secret,
      issuer: options.config.issuer,
      clientId: options.client.id,
      binding: options.binding,
      cookieName: options.config.authorization_cookie_name,
      crossSitePost: this.#formPost,
    });
  }

  /** Whether the request may be a form_post callback, whose body must be read before `handle`. */
  wantsBody(request: FastifyRequest, context: PluginContext): boolean {
    return this.#formPost && this.#login && request.method === 'POST' && this.#isCallbackPath(context);
  }

  /** Browsers get redirected to log in; API clients get a plain 401. */
  canStart(request: FastifyRequest): boolean {
    return (
      this.#login &&
      // Without a configured redirect_uri the callback URL is made from the Host: none, no login.
      (this.#options.config.redirect_uri?.[0] !== undefined || request.headers.host !== undefined) &&
      (request.method === 'GET' || request.method === 'HEAD') &&
      acceptsHtml(request.headers)
    );
  }

  async start(request: FastifyRequest, reply: FastifyReply, context: PluginContext): Promise<void> {
    const https = context.proto === 'https';
    // Kong's default drops the query on the way back: it may hold what was never meant to be replayed.
    const { state, setCookie } = await this.#state.begin(
      context.path + (this.#options.config.preserve_query_args ? context.query : ''),
      https,
      Date.now() / 1000,
    );
    const config = await this.#configuration();
    const url = oidc.buildAuthorizationUrl(config, {
      redirect_uri: this.#redirectUri(request, context),
      scope: this.#options.config.scopes.join(' '),
      response_type: 'code',
      state: state.state,
      nonce: state.nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(state.codeVerifier),
      code_challenge_method: 'S256',
      ...(this.#formPost && { response_mode: 'form_post' }),
      ...(this.#options.config.audience?.length && { audience: this.#options.config.audience.join(' ') }),
    });
    reply
      .code(302)
      .header('location', url.href)
      .header('set-cookie', setCookie)
      .header('cache-control', 'no-store')
      .send();
  }

  /**
   * Answers the request when it is a login callback or a logout; returns
   * the metric outcome then, or undefined for any other request.
   * `params.body` is the form body `wantsBody` asked for, when it was one.
   */
  async handle(
    request: FastifyRequest,
    reply: FastifyReply,
    context: PluginContext,
    params: { query: URLSearchParams; body?: URLSearchParams | undefined },
    session: SessionCookie | undefined,
  ): Promise<string | undefined> {
    if (this.#isLogout(request, context)) return this.#logout(request, reply, context, session);
    const response = authorizationResponse(this.#options.config.response_mode, request.method, params);
    if (!response || !this.#login || !this.#isCallbackPath(context)) return undefined;
    const https = context.proto === 'https';
    const saved = await this.#state.read(request.headers.cookie, Date.now() / 1000);
    const clear = this.#state.clear(https);
    const fail = (reason: string) => {
      // A 401 must carry a challenge (RFC 9110 §15.5.2), like every other refusal of the plugin,
      // unless unauthorized_redirect_uri sends the browser elsewhere.
      const location = refusalRedirect(this.#options.config, 401, request.headers);
      const refusal = location
        ? redirectResponse(location)
        : refusalResponse(
            { status: 401, message: this.#options.config.unauthorized_error_message },
            new URL(this.#options.config.issuer).host,
          );
      reply.code(refusal.status).headers(refusal.headers).header('set-cookie', clear).send(refusal.body);
      return `callback_${reason}`;
    };
    if (!saved) {
      // A GET is then not a login this proxy started: an ordinary request. A form_post callback
      // POST is never one, and its body is read: refused rather than passed on.
      return this.#formPost ? fail('no_state') : undefined;
    }
    if (response.get('state') !== saved.state) return fail('state');
    const refused = this.#options.idpCalls.tryAcquire();
    if (refused) throw new IdpCallRefused(refused);
    let tokens;
    try {
      const config = await this.#configuration();
      const current = new URL(this.#redirectUri(request, context));
      if (this.#formPost) for (const [name, value] of response) current.searchParams.append(name, value);
      else current.search = context.query;
      tokens = await oidc.authorizationCodeGrant(config, current, {
        pkceCodeVerifier: saved.codeVerifier,
        expectedState: saved.state,
        expectedNonce: saved.nonce,
        idTokenExpected: this.#options.config.scopes.includes('openid'),
      });
    } catch (error) {
      if ((error as { code?: string }).code === 'PCS_IDP_UNAVAILABLE') throw error;
      return fail('rejected');
    } finally {
      this.#options.idpCalls.release();
    }
    const claims = tokens.claims();
    const verified = await this.#options.verify({
      accessToken: tokens.access_token,
      ...(tokens.id_token !== undefined && { idToken: tokens.id_token }),
      ...(typeof tokens.expires_in === 'number' && {
        expiresAt: Math.floor(Date.now() / 1000) + tokens.expires_in,
      }),
      ...(tokens.scope !== undefined && { scope: tokens.scope }),
      ...(claims && { idTokenClaims: claims as Claims }),
    });
    if (!verified) return fail('token');
    const cookies = session
      ? await session.issue(
          sessionData(verified),
          Date.now() / 1000,
          https,
          undefined,
          request.headers.cookie,
        )
      : [];
    const config = this.#options.config;
    const action = config.login_methods.includes('authorization_code') ? config.login_action : 'upstream';
    const login: LoginTokens = {
      access_token: tokens.access_token,
      ...(tokens.id_token !== undefined && { id_token: tokens.id_token }),
      ...(tokens.refresh_token !== undefined && { refresh_token: tokens.refresh_token }),
      ...(typeof tokens.expires_in === 'number' && { expires_in: tokens.expires_in }),
    };
    reply.header('set-cookie', [clear, ...cookies]).header('cache-control', 'no-store');
    if (action === 'response') {
      reply
        .code(200)
        .header('content-type', 'application/json; charset=utf-8')
        .send(JSON.stringify(loginResponseBody(login, config.login_tokens)));
      return 'logged_in';
    }
    const redirectTo = action === 'redirect' ? config.login_redirect_uri?.[0] : undefined;
    const target = redirectTo
      ? loginRedirectTarget(redirectTo, login, config.login_tokens)
      : safeReturnPath(saved.returnTo);
    reply.code(302).header('location', target).send();
    return 'logged_in';
  }

  #isLogout(request: FastifyRequest, context: PluginContext): boolean {
    const suffix = this.#options.config.logout_uri_suffix;
    return (
      suffix !== undefined &&
      context.path.endsWith(suffix) &&
      (this.#options.config.logout_methods as string[]).includes(request.method)
    );
  }

  async #logout(
    request: FastifyRequest,
    reply: FastifyReply,
    context: PluginContext,
    session: SessionCookie | undefined,
  ): Promise<string> {
    // Another site must not end the session (logout CSRF): the answer would carry the clearing cookies.
    if (!isSameOriginRequest(request.headers, () => requestOrigin(context.proto, request.headers.host))) {
      reply
        .code(403)
        .header('content-type', 'application/json; charset=utf-8')
        .header('cache-control', 'no-store')
        .send(ERROR_BODIES.PCS_LOGOUT_CROSS_SITE);
      return 'logout_cross_site';
    }
    const https = context.proto === 'https';
    const current = session ? await session.read(request.headers.cookie, Date.now() / 1000) : undefined;
    const cookies = session ? session.clear(https, request.headers.cookie) : [];
    const config = this.#options.config;
    if (current && config.logout_revoke && config.logout_revoke_access_token) {
      await this.#revoke(current.data.accessToken);
    }
    const after = config.logout_redirect_uri?.[0];
    const metadata = await this.#options.provider.metadata().catch(() => undefined);
    let location = after;
    if (metadata?.end_session_endpoint) {
      const config = await this.#configuration();
      location = oidc.buildEndSessionUrl(config, {
        ...(current?.data.idToken !== undefined && { id_token_hint: current.data.idToken }),
        ...(after !== undefined && { post_logout_redirect_uri: after }),
      }).href;
    }
    reply.header('set-cookie', cookies).header('cache-control', 'no-store');
    if (location) reply.code(302).header('location', location).send();
    else
      reply
        .code(200)
        .header('content-type', 'application/json; charset=utf-8')
        .send('{"message":"logged out"}');
    return 'logged_out';
  }

  /**
   * RFC 7009 revocation, through the same IdP call gate as code exchanges: one replayed session
   * cookie must not become a flood of revocations. A refused or failed call is logged and the
   * logout goes on: the cookies are cleared either way.
   */
  async #revoke(token: string): Promise<void> {
    const refused = this.#options.idpCalls.tryAcquire();
    if (refused) {
      this.#options.log.debug({ reason: refused }, 'token revocation at logout skipped: IdP call limit');
      return;
    }
    try {
      const config = await this.#options.tokens.configuration(
        this.#options.client,
        'token',
        'revocation_endpoint',
      );
      await oidc.tokenRevocation(config, token, { token_type_hint: 'access_token' });
    } catch (error) {
      // The IdP's error code (invalid_client for a wrong secret or key) says what to fix; it holds no token.
      const code = error instanceof oidc.ResponseBodyError ? error.error : undefined;
      this.#options.log.warn({ err: (error as Error).message, code }, 'token revocation at logout failed');
    } finally {
      this.#options.idpCalls.release();
    }
  }

  /** The configured callback URL, or Kong's default: this request's own URL without its query. */
  #redirectUri(request: FastifyRequest, context: PluginContext): string {
    return (
      this.#options.config.redirect_uri?.[0] ?? `${context.proto}://${request.headers.host}${context.path}`
    );
  }

  #isCallbackPath(context: PluginContext): boolean {
    const configured = this.#options.config.redirect_uri?.[0];
    return configured === undefined || new URL(configured).pathname === context.path;
  }

  #configuration(): Promise<oidc.Configuration> {
    return this.#options.tokens.configuration(this.#options.client, 'token');
  }
}

function sessionData(verified: VerifiedTokens): SessionData {
  return {
    accessToken: verified.accessToken,
    claims: verified.claims,
    method: 'authorization_code',
    ...(verified.idToken !== undefined && { idToken: verified.idToken }),
    ...(verified.expiresAt !== undefined && { tokenExpiresAt: verified.expiresAt }),
  };
}
