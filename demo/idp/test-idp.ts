/**
 * In-process OpenID Provider for the proxy's end-to-end and attack tests,
 * and the identity provider of `portcullis demo`.
 *
 * Built on `oidc-provider` (a certified OP) rather than a hand-rolled mock so
 * discovery, PKCE, client authentication, introspection and the redirect
 * rules behave like a real IdP; the profiles (profiles.ts) then shape issuer
 * URLs and token claims like Okta, Entra ID or PingFederate. The Provider is
 * mounted under the issuer path behind a plain node:http(s) server, which also
 * serves the login page, counts requests and simulates outages.
 *
 *   const idp = await startTestIdp({ profile: 'okta', redirectUris: [cb] });
 *   ...
 *   await idp.stop();
 */
import { randomBytes, randomUUID } from 'node:crypto';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { Agent, fetch } from 'undici';
import type Provider from 'oidc-provider';
import { defaultClients, mergeClients } from './clients.js';
import { signJwt } from './forge.js';
import { completeLogin, parseImplicitCallback } from './http-login.js';
import { handleInteraction } from './interactions.js';
import { KeyRing } from './key-rotation.js';
import { MemoryStore } from './memory-adapter.js';
import { Outage } from './outage.js';
import { profileDefinition } from './profiles.js';
import { buildProvider } from './provider.js';
import { RequestCounter } from './request-counts.js';
import { selfSignedCertificate, type TlsMaterial } from './tls.js';
import type { TestClient, TestIdp, TestIdpOptions, TokenResponse } from './types.js';
import { DEFAULT_USERS, UserStore } from './users.js';

export type * from './types.js';

/** Tests read stderr; the demo passes its logger instead. */
const stderrLine = (message: string, error: unknown): void => {
  process.stderr.write(
    `[test-idp] ${message}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
};

/** The request as oidc-provider's mount-path detection expects it (Express-style). */
type MountableRequest = IncomingMessage & { originalUrl?: string };

export async function startTestIdp(options: TestIdpOptions = {}): Promise<TestIdp> {
  const profileName = options.profile ?? 'okta';
  const profile = profileDefinition(profileName, {
    tenantId: options.tenantId,
    audience: options.audience,
    resourceScopes: options.resourceScopes,
  });
  const users = new UserStore(options.users ?? DEFAULT_USERS);
  const clientList = mergeClients(defaultClients(options), options.clients);
  const clients = new Map(clientList.map((c) => [c.clientId, c]));
  const store = new MemoryStore(clients);
  const keys = await KeyRing.create(profile.kidPrefix);
  const cookieKeys = [randomBytes(32).toString('hex')];
  const counter = new RequestCounter(profile.issuerPath, profile.routes);
  const tls: TlsMaterial | undefined = options.tls ? await selfSignedCertificate() : undefined;
  const onError = options.onError ?? stderrLine;

  let provider: Provider | undefined;
  let callback: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  const prefix = profile.issuerPath;

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const rawUrl = req.url ?? '/';
    const pathname = rawUrl.split('?')[0] ?? '/';
    counter.count(pathname, req.headers.authorization);
    if (outage.intercept(req, res)) return;
    if (!provider || !callback) {
      res.writeHead(503).end();
      return;
    }
    const inMount = pathname === prefix || pathname.startsWith(`${prefix}/`);
    if (!inMount) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    const current = provider;
    const mounted = callback;
    void handleInteraction(current, users, prefix, pathname, req, res).then(
      (handled) => {
        if (handled) return;
        const mreq = req as MountableRequest;
        mreq.originalUrl = rawUrl;
        mreq.url = rawUrl.slice(prefix.length) || '/';
        mounted(mreq, res);
      },
      (err: unknown) => {
        onError('handler error', err);
        if (!res.headersSent) res.writeHead(500);
        res.end();
      },
    );
  };

  const server: Server = tls
    ? (createHttpsServer({ cert: tls.certPem, key: tls.keyPem }, handler) as unknown as Server)
    : createHttpServer(handler);
  const outage = new Outage(server);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const origin = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  const issuer = `${origin}${prefix}`;

  const rebuild = (): void => {
    provider = buildProvider({
      issuer,
      profile,
      store,
      clients,
      users,
      keys,
      cookieKeys,
      accessTokenTtl: options.accessTokenTtl ?? 300,
      onError,
    });
    callback = provider.callback();
  };
  rebuild();

  const dispatcher = new Agent({ connect: tls ? { ca: tls.certPem } : {} });
  const endpoint = (name: string): string => `${issuer}${profile.routes[name] ?? ''}`;
  const basic = (id: string, secret: string): string =>
    `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

  const tokenRequest = async (
    auth: { clientId: string; clientSecret: string },
    form: Record<string, string | undefined>,
  ): Promise<TokenResponse> => {
    const body = new URLSearchParams();
    for (const [k, v] of Object.entries(form)) if (v !== undefined) body.set(k, v);
    const res = await fetch(endpoint('token'), {
      method: 'POST',
      headers: {
        authorization: basic(auth.clientId, auth.clientSecret),
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: body.toString(),
      dispatcher,
    });
    const text = await res.text();
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      json = { error: 'non_json_response', error_description: text.slice(0, 200) };
    }
    return { ...json, status: res.status } as TokenResponse;
  };

  const gateway = clients.get('gateway')!;
  const gatewayAuth = { clientId: gateway.clientId, clientSecret: gateway.clientSecret ?? '' };
  const spa = clients.get('spa')!;

  const idp: TestIdp = {
    profile: profileName,
    issuer,
    origin,
    port,
    discoveryUrl: `${issuer}/.well-known/openid-configuration`,
    clients: Object.fromEntries(clients) as Record<string, TestClient>,
    gateway,
    spa,
    users: users.all(),
    resources: { jwt: profile.jwtResource, jwtAudience: profile.jwtAudience, opaque: profile.opaqueResource },
    caPem: tls?.certPem,
    tlsKeyPem: tls?.keyPem,

    clientCredentials: (clientId, clientSecret, scope, resource) =>
      tokenRequest({ clientId, clientSecret }, { grant_type: 'client_credentials', scope, resource }),

    password: (username, password, scope = 'openid profile email', client = gatewayAuth) =>
      tokenRequest(client, { grant_type: 'password', username, password, scope }),

    async introspect(token, client = gatewayAuth) {
      const res = await fetch(endpoint('introspection'), {
        method: 'POST',
        headers: {
          authorization: basic(client.clientId, client.clientSecret),
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ token }).toString(),
        dispatcher,
      });
      return (await res.json()) as Record<string, unknown>;
    },

    completeLogin: (authorizationUrl, credentials) =>
      completeLogin(authorizationUrl, credentials, origin, dispatcher),

    async implicitLogin(authorizationUrl, credentials) {
      const { callbackUrl } = await completeLogin(authorizationUrl, credentials, origin, dispatcher);
      return parseImplicitCallback(callbackUrl);
    },

    implicitAuthorizationUrl(opts = {}) {
      const client = clients.get(opts.clientId ?? 'spa');
      const url = new URL(endpoint('authorization'));
      url.search = new URLSearchParams({
        client_id: opts.clientId ?? 'spa',
        response_type: 'id_token token',
        redirect_uri: opts.redirectUri ?? client?.redirectUris[0] ?? '',
        scope: opts.scope ?? 'openid profile email',
        state: opts.state ?? randomUUID(),
        nonce: opts.nonce ?? randomUUID(),
      }).toString();
      return url.href;
    },

    setRedirectUris(clientId, uris) {
      const client = clients.get(clientId);
      if (!client) throw new Error(`unknown client ${clientId}`);
      client.redirectUris = [...uris];
    },

    requestCounts: () => counter.snapshot(),
    resetCounts: () => counter.reset(),

    async rotateKeys({ keepOld = false } = {}) {
      const fresh = await keys.rotate(keepOld);
      rebuild();
      return fresh;
    },
    async retireOldKeys() {
      keys.retireOld();
      rebuild();
    },
    signingKeys: () => keys.list(),
    currentKey: () => keys.current(),
    signJwt: (payload, opts = {}) => signJwt(payload, opts, keys.current()),

    accessTokenClaims(clientId, username) {
      const user = username ? users.byUsername(username) : undefined;
      const now = Math.floor(Date.now() / 1000);
      const scopes = user ? ['openid', 'profile', 'email'] : ['api:read'];
      const jwt = {
        header: undefined,
        payload: {
          ...profile.claims({ issuer, clientId, client: clients.get(clientId), user, scopes }),
          jti: randomBytes(16).toString('base64url'),
          sub: user?.sub ?? clientId,
          iat: now,
          exp: now + 300,
          scope: scopes.join(' '),
          client_id: clientId,
          iss: issuer,
          aud: profile.jwtAudience,
        } as Record<string, unknown>,
      };
      profile.shapeJwt(jwt, user);
      return jwt.payload;
    },

    get isDown() {
      return outage.down;
    },
    setDown: (down, mode) => outage.set(down, mode),

    async stop() {
      outage.release();
      await dispatcher.close();
      await new Promise<void>((resolve) => {
        if (!server.listening) return resolve();
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
  return idp;
}
