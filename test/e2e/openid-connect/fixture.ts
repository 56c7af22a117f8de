/**
 * Shared fixture of the openid-connect flow tests: test IdPs, an echo
 * upstream and one proxy (2 workers) per test file. Each file pushes one
 * config holding a route per scenario, each route with its own plugin
 * instance, so scenarios do not share caches unless they mean to (a
 * different `timeout` gives an instance its own provider and token cache).
 */
import type { OutgoingHttpHeaders } from 'node:http';
import { decodeJwt } from 'jose';
import { ConfigBuilder } from '../../support/config-builder.js';
import { http, type HttpResult } from '../../support/http-client.js';
import { parseMetrics, type Sample } from '../../support/metrics.js';
import { startProxy, type ProxyProcess } from '../../support/proxy-process.js';
import { startEcho, type EchoResponse, type EchoServer } from '../../support/upstreams.js';
import {
  startTestIdp,
  type IdpProfile,
  type TestIdp,
  type TestIdpOptions,
} from '../../../demo/idp/test-idp.js';

export const SESSION_SECRET = 'flows-session-secret-0123456789abcdef';

/** Applications (Kong consumers) known to every config: `namespace/name` → IdP client id. */
export const APPLICATIONS: Record<string, string> = {
  'billing/billing': 'app-billing',
  'opaque/opaque': 'app-opaque',
  'web/gateway': 'gateway',
};

export interface Scenario {
  /** Route id and plugin name; the route serves `/<id>` (Prefix). */
  id: string;
  /** The openid-connect config; omit for a route without the plugin. */
  plugin?: Record<string, unknown>;
}

export interface Fixture {
  idps: Record<string, TestIdp>;
  echo: EchoServer;
  proxy: ProxyProcess;
  port: number;
  /** `http://127.0.0.1:<proxy port>` */
  origin: string;
  /** Pushes a config with one route per scenario (plus the applications). */
  push(scenarios: Scenario[]): Promise<void>;
  stop(): Promise<void>;
}

export async function startFixture(idpOptions: Record<string, TestIdpOptions>): Promise<Fixture> {
  const idps: Record<string, TestIdp> = {};
  const echo = await startEcho();
  const started = await Promise.all(
    Object.entries(idpOptions).map(async ([name, options]) => [name, await startTestIdp(options)] as const),
  );
  for (const [name, idp] of started) idps[name] = idp;
  const proxy = await startProxy({
    config: new ConfigBuilder().upstream('echo', [echo.port]).route('root', '/', 'echo').build(),
  });
  const port = proxy.httpPort;
  return {
    idps,
    echo,
    proxy,
    port,
    origin: `http://127.0.0.1:${port}`,
    async push(scenarios) {
      const builder = new ConfigBuilder().upstream('echo', [echo.port]);
      for (const [id, clientId] of Object.entries(APPLICATIONS)) builder.application(id, clientId);
      for (const s of scenarios) {
        if (s.plugin) builder.plugin(`test/${s.id}`, 'openid-connect', s.plugin);
        builder.route(s.id, `/${s.id}`, 'echo', {
          plugins: s.plugin ? [`test/${s.id}`] : [],
          service: 'test/echo',
        });
      }
      await proxy.pushOk(builder.build());
    },
    async stop() {
      await proxy?.dispose();
      await echo?.close();
      await Promise.all(Object.values(idps).map((idp) => idp.stop()));
    },
  };
}

/** An openid-connect config for `idp` with the gateway as the proxy's client. */
export function oidc(idp: TestIdp, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    issuer: idp.issuer,
    client_id: [idp.gateway.clientId],
    client_secret: [idp.gateway.clientSecret!],
    ...overrides,
  };
}

export function basic(id: string, secret: string): string {
  return `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;
}

export function bearer(token: string | undefined): string {
  if (!token) throw new Error('no access token');
  return `Bearer ${token}`;
}

export interface CallOptions {
  method?: string;
  headers?: OutgoingHttpHeaders;
  body?: string;
}

/** One request to the proxy on a fresh connection (so requests spread over both workers). */
export function call(fx: Fixture, path: string, options: CallOptions = {}): Promise<HttpResult> {
  return http({
    port: fx.port,
    path,
    method: options.method ?? 'GET',
    ...(options.headers && { headers: options.headers }),
    ...(options.body !== undefined && { body: options.body }),
  });
}

/** A form POST. */
export function postForm(
  fx: Fixture,
  path: string,
  form: Record<string, string>,
  headers: OutgoingHttpHeaders = {},
) {
  return call(fx, path, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(form).toString(),
  });
}

/** What the echo upstream received; fails with the answer when the proxy did not forward. */
export function upstreamSaw(res: HttpResult): EchoResponse {
  if (res.status !== 200 || res.headers['x-upstream-name'] === undefined) {
    throw new Error(`expected the upstream's answer, got ${res.status}: ${res.text.slice(0, 300)}`);
  }
  return res.json<EchoResponse>();
}

/** The claims of the bearer token the upstream received in Authorization. */
export function upstreamToken(seen: EchoResponse): Record<string, unknown> {
  const authorization = String(seen.headers.authorization ?? '');
  if (!authorization.startsWith('Bearer ')) throw new Error(`upstream Authorization: ${authorization}`);
  return decodeJwt(authorization.slice('Bearer '.length));
}

/** The `name=value` of the Set-Cookie header setting `name`, if any. */
export function cookieFrom(res: HttpResult, name: string): string | undefined {
  return setCookies(res)
    .map((line) => line.split(';')[0]!)
    .find((pair) => pair.startsWith(`${name}=`) && pair.length > name.length + 1);
}

export function setCookies(res: HttpResult): string[] {
  const value = res.headers['set-cookie'];
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

export const X_CONSUMER = ['x-consumer-id', 'x-consumer-custom-id', 'x-consumer-username'] as const;

/** Runs `fn` and returns the IdP requests it caused, per endpoint. */
export async function idpCalls<T>(
  idp: TestIdp,
  fn: () => Promise<T>,
): Promise<{ result: T; calls: ReturnType<TestIdp['requestCounts']> }> {
  const before = idp.requestCounts();
  const result = await fn();
  const after = idp.requestCounts();
  const calls = Object.fromEntries(
    Object.entries(after).map(([k, v]) => [k, v - before[k as keyof typeof before]]),
  ) as ReturnType<TestIdp['requestCounts']>;
  return { result, calls };
}

export async function metrics(fx: Fixture): Promise<Sample[]> {
  return parseMetrics(await fx.proxy.metrics());
}

export type { IdpProfile, TestIdp };
