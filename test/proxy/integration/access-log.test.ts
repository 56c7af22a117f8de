/**
 * The JSON access log (`--access-log`): one line per request with what an
 * operator needs, and never a credential from headers, cookies or the query.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigBuilder } from '../../support/config-builder.js';
import { eventually, http } from '../../support/http-client.js';
import { startProxy, type ProxyProcess } from '../../support/proxy-process.js';
import { head, RawConnection } from '../../support/raw-socket.js';
import { deadPort, startEcho, type EchoServer } from '../../support/upstreams.js';

const SECRETS = {
  bearer: 'secret-token-123',
  cookie: 'cookie-secret-456',
  queryToken: 'access_token=abc',
  queryKey: 'qs-secret-789',
  basic: 'basic-secret-321',
  proxyAuth: 'proxy-secret-654',
  apiKey: 'apikey-secret-987',
};

let proxy: ProxyProcess;
let echo: EchoServer;

interface AccessLine {
  type: string;
  method: string;
  path: string;
  status: number;
  route?: string;
  host?: string;
  durationMs: number;
  peer: string;
  incomplete?: boolean;
}

beforeAll(async () => {
  echo = await startEcho();
  const config = new ConfigBuilder()
    .upstream('echo', [echo.port])
    .upstream('dead', [await deadPort()])
    .route('logged', '/logged', 'echo')
    .route('logged-dead', '/dead', 'dead', { retries: 0 })
    .build();
  proxy = await startProxy({ config, accessLog: true, workers: 2 });
});

afterAll(async () => {
  await proxy?.dispose();
  await echo?.close();
});

/** Waits for the access line of the request whose path is `path`. */
function accessLine(path: string): Promise<AccessLine> {
  return eventually(
    () => proxy.logLines().find((l) => l.type === 'access' && l.path === path) as AccessLine | undefined,
    `an access log line for ${path}`,
  );
}

const credentials = {
  authorization: `Bearer ${SECRETS.bearer}`,
  cookie: `session=${SECRETS.cookie}; theme=dark`,
  'proxy-authorization': `Basic ${Buffer.from(`u:${SECRETS.proxyAuth}`).toString('base64')}`,
  'x-api-key': SECRETS.apiKey,
};

describe('access log', () => {
  it('writes one JSON line per request with method, path, status and route', async () => {
    const res = await http({
      port: proxy.httpPort,
      path: `/logged/orders?${SECRETS.queryToken}&api_key=${SECRETS.queryKey}`,
      headers: { ...credentials, host: 'shop.example.test' },
    });
    expect(res.status).toBe(200);
    // The request itself went through with its credentials: only the log leaves them out.
    expect(echo.requests.at(-1)?.headers.authorization).toBe(`Bearer ${SECRETS.bearer}`);

    const line = await accessLine('/logged/orders');
    expect(line).toMatchObject({
      type: 'access',
      method: 'GET',
      path: '/logged/orders',
      status: 200,
      route: 'logged',
      host: 'shop.example.test',
      peer: '127.0.0.1',
    });
    expect(line.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('logs failures and unmatched requests too', async () => {
    const basic = `Basic ${Buffer.from(`client:${SECRETS.basic}`).toString('base64')}`;
    const dead = await http({
      port: proxy.httpPort,
      method: 'POST',
      path: `/dead/pay?${SECRETS.queryToken}`,
      headers: { ...credentials, authorization: basic },
      body: 'x',
    });
    expect(dead.status).toBe(502);
    expect(await accessLine('/dead/pay')).toMatchObject({
      method: 'POST',
      status: 502,
      route: 'logged-dead',
    });

    const missing = await http({
      port: proxy.httpPort,
      path: `/missing?${SECRETS.queryToken}`,
      headers: credentials,
    });
    expect(missing.status).toBe(404);
    const line = await accessLine('/missing');
    expect(line).toMatchObject({ method: 'GET', status: 404 });
    expect(line.route).toBeUndefined();
  });

  it('logs 499 for a client that closed the connection before the answer', async () => {
    const conn = await RawConnection.open(proxy.httpPort);
    await conn.write(head(['GET /logged/gave-up?delay=1000 HTTP/1.1', 'Host: shop.example.test']));
    await new Promise((resolve) => setTimeout(resolve, 200));
    conn.destroy();
    const line = await accessLine('/logged/gave-up');
    expect(line).toMatchObject({ method: 'GET', status: 499, route: 'logged' });
    expect(line.incomplete).toBeUndefined();
    expect(await proxy.metrics()).toMatch(
      /portcullis_http_requests_total\{[^}]*route="logged"[^}]*status="499"[^}]*\} 1/,
    );
  });

  it('marks a response that started but did not finish', async () => {
    const conn = await RawConnection.open(proxy.httpPort);
    await conn.write(head(['GET /logged/cut?chunks=30 HTTP/1.1', 'Host: shop.example.test']));
    await conn.waitFor(/chunk-0;/);
    conn.destroy();
    expect(await accessLine('/logged/cut')).toMatchObject({ status: 200, route: 'logged', incomplete: true });
    const whole = await http({ port: proxy.httpPort, path: '/logged/whole?chunks=2' });
    expect(whole.status).toBe(200);
    expect((await accessLine('/logged/whole')).incomplete).toBeUndefined();
  });

  it('never writes a credential anywhere in the output', async () => {
    // Every request above has been logged by now.
    await accessLine('/missing');
    const output = proxy.output();
    for (const [what, secret] of Object.entries(SECRETS)) expect(output, what).not.toContain(secret);
    expect(output).not.toContain('access_token');
    expect(output).not.toContain(Buffer.from(`client:${SECRETS.basic}`).toString('base64'));
    expect(output).not.toContain(proxy.token);
  });
});
