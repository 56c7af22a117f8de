/**
 * The proxy's process lifecycle through the built CLI: a push racing the
 * start-up config, traffic ports it cannot bind, and a graceful drain on
 * SIGTERM under load. Build first: `npx tsc -p tsconfig.build.json`.
 */
import { request as httpRequest, Agent, type IncomingHttpHeaders } from 'node:http';
import { connect, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigBuilder } from '../../support/config-builder.js';
import { eventually, http } from '../../support/http-client.js';
import {
  REPO_ROOT,
  startProxy,
  startProxyExpectingExit,
  type ProxyProcess,
} from '../../support/proxy-process.js';
import { freePorts, startEcho, type EchoServer } from '../../support/upstreams.js';

let echo: EchoServer;

beforeAll(async () => {
  echo = await startEcho({ name: 'echo' });
});

afterAll(async () => {
  await echo?.close();
});

/** Holds `port` on 127.0.0.1 as some other program would. */
async function occupy(port: number): Promise<Server> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return server;
}

describe('a push during start-up', () => {
  it('wins over the --config being applied, and the proxy keeps running', async () => {
    const pushed = new ConfigBuilder()
      .upstream('echo', [echo.port])
      .route('pushed', '/pushed', 'echo')
      .build();
    const proxy = await startProxy({
      configFile: join(REPO_ROOT, 'examples', 'compiled-config.json'),
      wait: 'status',
    });
    try {
      // As early as the admin API answers: the start-up config is most likely still being applied.
      const result = await proxy.push(pushed);
      expect(result, proxy.output()).toMatchObject({ status: 200, body: { changed: true } });
      expect((await http({ port: proxy.httpPort, path: '/pushed' })).status).toBe(200);
      expect(proxy.hasExited).toBe(false);
      expect(proxy.output()).not.toContain('superseded');
    } finally {
      await proxy.dispose();
    }
  });
});

describe('traffic ports that cannot be bound are fatal at start-up', () => {
  const expectOneClearLine = (output: string, flag: string) => {
    // One line naming the flag, no stack trace, no restart loop.
    expect(output.split('\n').filter((l) => l.includes(flag))).toHaveLength(1);
    expect(output).not.toContain('worker exited; starting a new one');
    expect(output).not.toMatch(/\n\s+at /);
  };

  it('--http-port in use: one line naming it, exit 1', async () => {
    const [port] = (await freePorts(1)) as [number];
    const holder = await occupy(port);
    try {
      const exit = await startProxyExpectingExit({
        config: new ConfigBuilder().upstream('echo', [echo.port]).route('r', '/', 'echo').build(),
        args: ['--http-port', String(port)],
      });
      expect(exit.code, exit.output).toBe(1);
      expectOneClearLine(exit.output, '--http-port');
      expect(exit.output).toContain('EADDRINUSE');
    } finally {
      holder.close();
    }
  });

  it('--https-port in use: one line naming it, exit 1', async () => {
    const [port] = (await freePorts(1)) as [number];
    const holder = await occupy(port);
    try {
      const exit = await startProxyExpectingExit({ args: ['--https-port', String(port)] });
      expect(exit.code, exit.output).toBe(1);
      expectOneClearLine(exit.output, '--https-port');
    } finally {
      holder.close();
    }
  });

  it('an --address this host does not have: one line naming it, exit 1', async () => {
    // 192.0.2.1 is TEST-NET-1: never a local address.
    const exit = await startProxyExpectingExit({ args: ['--address', '192.0.2.1'] });
    expect(exit.code, exit.output).toBe(1);
    expectOneClearLine(exit.output, '--address');
  });
});

interface Outcome {
  path: string;
  status?: number;
  headers?: IncomingHttpHeaders;
  body?: string;
  error?: string;
}

/** One GET on `agent`; never rejects. */
function get(port: number, path: string, agent: Agent | false): Promise<Outcome> {
  return new Promise((resolve) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, agent, timeout: 20_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('error', (error: NodeJS.ErrnoException) =>
        resolve({ path, error: error.code ?? error.message }),
      );
      res.on('end', () => resolve({ path, status: res.statusCode, headers: res.headers, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (error: NodeJS.ErrnoException) => resolve({ path, error: error.code ?? error.message }));
    req.end();
  });
}

describe('SIGTERM under load', () => {
  let proxy: ProxyProcess;

  beforeAll(async () => {
    const config = new ConfigBuilder()
      .upstream('echo', [echo.port])
      .route('load', '/', 'echo', { timeouts: { connectMs: 2_000, readMs: 15_000, writeMs: 15_000 } })
      .build();
    proxy = await startProxy({
      config,
      accessLog: true,
      env: { PORTCULLIS_SHUTDOWN_DELAY: '1500', PORTCULLIS_DRAIN_TIMEOUT: '12000' },
    });
  });

  afterAll(async () => {
    await proxy?.dispose();
  });

  it('fails /readyz first, then drains: a normal answer or a coded 503 with Connection: close, never a reset of a request read', async () => {
    const port = proxy.httpPort;
    const agents = Array.from({ length: 4 }, () => new Agent({ keepAlive: true, maxSockets: 1 }));
    const outcomes: Outcome[] = [];
    let stop = false;
    let n = 0;
    const loop = async (agent: Agent, id: number) => {
      while (!stop) {
        const outcome = await get(port, `/load/${id}/${++n}`, agent);
        outcomes.push(outcome);
        // Refused: the listeners are closed, which is the end of this client.
        if (outcome.error === 'ECONNREFUSED') return;
      }
    };
    const loops = agents.map((agent, i) => loop(agent, i));
    // Requests in flight when SIGTERM comes: read, so they must be answered normally.
    const slow = Array.from({ length: 3 }, (_, i) => get(port, `/slow/${i}?delay=4000`, false));
    await eventually(
      () => (echo.requests.filter((r) => r.url.startsWith('/slow/')).length === 3 ? true : undefined),
      'slow requests at the upstream',
    );
    const signalled = Date.now();
    proxy.child.kill('SIGTERM');

    // Readiness fails while traffic is still accepted (the shutdown delay).
    await eventually(
      async () => ((await proxy.status('/readyz')).status === 503 ? true : undefined),
      '/readyz 503',
      5000,
    );
    const during = await get(port, '/load/fresh-connection', false);
    expect(during.status, JSON.stringify(during)).toBe(200);

    const exit = await proxy.exited;
    const elapsed = Date.now() - signalled;
    stop = true;
    await Promise.all(loops);
    agents.forEach((agent) => agent.destroy());

    expect(exit, proxy.output()).toEqual({ code: 0, signal: null });
    for (const outcome of await Promise.all(slow)) expect(outcome.status, JSON.stringify(outcome)).toBe(200);
    expect(elapsed).toBeLessThan(12_000 + 5_000);

    const logged = new Set(
      proxy
        .logLines()
        .filter((l) => l.type === 'access')
        .map((l) => String(l.path)),
    );
    let shuttingDown = 0;
    for (const outcome of outcomes) {
      if (outcome.error !== undefined) {
        // Only a request the proxy never read may fail: refused, or sent on a connection closed as idle.
        expect(
          logged.has(outcome.path.split('?')[0]!),
          `${JSON.stringify(outcome)} was read, then reset`,
        ).toBe(false);
        continue;
      }
      if (outcome.status === 200) continue;
      expect(outcome.status, JSON.stringify(outcome)).toBe(503);
      expect(JSON.parse(outcome.body!)).toMatchObject({ error: 'PCS_SHUTTING_DOWN' });
      expect(outcome.headers!.connection).toBe('close');
      shuttingDown++;
    }
    expect(outcomes.filter((o) => o.status === 200).length).toBeGreaterThan(20);
    // Informational: how the drain went.
    console.log(
      `drain: ${outcomes.length} requests, ${shuttingDown} answered PCS_SHUTTING_DOWN, ` +
        `${outcomes.filter((o) => o.error).length} not read (${[...new Set(outcomes.map((o) => o.error).filter(Boolean))].join(', ')}), exit after ${elapsed} ms`,
    );
  }, 40_000);
});

/** Writes raw HTTP on one connection; `read()` is everything received until the server closes it. */
function rawConnection(port: number) {
  const socket = connect(port, '127.0.0.1');
  let received = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (received += chunk));
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  socket.on('error', () => undefined);
  return { socket, received: () => received, closed };
}

describe('a request that arrives during the drain', () => {
  it('on a connection promised keep-alive before SIGTERM: 503 PCS_SHUTTING_DOWN with Connection: close', async () => {
    const config = new ConfigBuilder().upstream('echo', [echo.port]).route('load', '/', 'echo').build();
    const proxy = await startProxy({
      config,
      env: { PORTCULLIS_SHUTDOWN_DELAY: '0', PORTCULLIS_DRAIN_TIMEOUT: '10000' },
    });
    try {
      const conn = rawConnection(proxy.httpPort);
      // Headers (keep-alive) come at once; the body streams for about 2 s.
      conn.socket.write('GET /stream?chunks=100 HTTP/1.1\r\nHost: proxy.test\r\n\r\n');
      await eventually(() => (conn.received().startsWith('HTTP/1.1 200') ? true : undefined), 'headers');
      expect(conn.received().toLowerCase()).toContain('connection: keep-alive');
      proxy.child.kill('SIGTERM');
      await eventually(
        async () =>
          (await proxy.status('/readyz').catch(() => ({ status: 0 }))).status !== 200 ? true : undefined,
        'drain begun',
      );
      // Pipelined behind the streaming answer: read after the drain began.
      conn.socket.write('GET /after HTTP/1.1\r\nHost: proxy.test\r\n\r\n');
      await conn.closed;
      const second = conn.received().slice(conn.received().indexOf('HTTP/1.1', 1));
      expect(second, conn.received()).toMatch(/^HTTP\/1\.1 503/);
      expect(second.toLowerCase()).toContain('connection: close');
      expect(second).toContain('"PCS_SHUTTING_DOWN"');
      expect(conn.received()).toContain('chunk-99;');
      expect(echo.requests.some((r) => r.url === '/after')).toBe(false);
      expect(await proxy.exited).toEqual({ code: 0, signal: null });
    } finally {
      await proxy.dispose();
    }
  }, 30_000);
});
