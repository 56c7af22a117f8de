/**
 * Real upstream servers on ephemeral loopback ports for integration tests:
 * an HTTP(S) echo server, a slow variant, a WebSocket echo, a port where
 * nothing listens, and self-signed certificates for SNI host names.
 */
import { createHash, X509Certificate } from 'node:crypto';
import {
  createServer as createHttpServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { connect as connectNet, createServer as createNetServer, type AddressInfo } from 'node:net';
import { Worker } from 'node:worker_threads';
import { generate } from 'selfsigned';
import { WebSocketServer, type WebSocket } from 'ws';

export interface PemPair {
  cert: string;
  key: string;
}

/** One request as an upstream received it. */
export interface RecordedRequest {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  rawHeaders: string[];
  body: string;
  bodyLength: number;
  bodySha256: string;
  remotePort: number | undefined;
}

/** What the echo server answers (JSON), so tests can see what the proxy sent. */
export interface EchoResponse extends RecordedRequest {
  upstream: string;
}

export interface EchoServer {
  readonly name: string;
  readonly port: number;
  readonly server: Server | HttpsServer;
  /** Every request received, in order. */
  readonly requests: RecordedRequest[];
  /** TCP (or TLS) connections accepted so far. */
  connections: number;
  /** Forgets recorded requests and connections. */
  reset(): void;
  close(): Promise<void>;
}

export interface EchoOptions {
  /** Returned in every answer (`upstream` field, `x-upstream-name` header) to tell targets apart. */
  name?: string;
  /** Serve HTTPS with this certificate. */
  tls?: PemPair;
  /** Wait this long before answering every request (a slow upstream). */
  delayMs?: number;
}

/**
 * An echo server. It answers 200 with JSON describing the request it got,
 * and obeys a few query parameters (they are forwarded untouched):
 * `status=N` answers N, `delay=MS` waits first, `set=name:value` adds a
 * response header (repeatable), `hop=1` adds hop-by-hop response headers,
 * `chunks=N` streams N chunks of the body with a pause between them.
 */
export async function startEcho(options: EchoOptions = {}): Promise<EchoServer> {
  const name = options.name ?? 'echo';
  const requests: RecordedRequest[] = [];
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    // A request whose body the proxy aborted (a body limit) is not recorded: it never completed.
    answer(req, res, name, options.delayMs ?? 0, requests).catch(() => res.destroy());
  };
  const server = options.tls ? createHttpsServer(options.tls, handler) : createHttpServer(handler);
  const state = {
    name,
    port: 0,
    server,
    requests,
    connections: 0,
    reset() {
      requests.length = 0;
      state.connections = 0;
    },
    close: () => closeServer(server),
  };
  server.on(options.tls ? 'secureConnection' : 'connection', () => {
    state.connections += 1;
  });
  state.port = await listen(server);
  return state;
}

/** An echo server that waits `delayMs` before every answer. */
export function startSlowServer(delayMs: number, name = 'slow'): Promise<EchoServer> {
  return startEcho({ name, delayMs });
}

async function answer(
  req: IncomingMessage,
  res: ServerResponse,
  name: string,
  delayMs: number,
  requests: RecordedRequest[],
): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks);
  const recorded: RecordedRequest = {
    method: req.method ?? '',
    url: req.url ?? '',
    headers: req.headers,
    rawHeaders: req.rawHeaders,
    body: body.toString('utf8'),
    bodyLength: body.length,
    bodySha256: createHash('sha256').update(body).digest('hex'),
    remotePort: req.socket.remotePort,
  };
  requests.push(recorded);

  const query = new URL(req.url ?? '/', 'http://upstream').searchParams;
  const delay = Number(query.get('delay') ?? delayMs);
  if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
  if (res.destroyed) return;

  res.statusCode = Number(query.get('status') ?? 200);
  res.setHeader('x-upstream-name', name);
  for (const header of query.getAll('set')) {
    const colon = header.indexOf(':');
    res.appendHeader(header.slice(0, colon), header.slice(colon + 1));
  }
  if (query.get('hop') === '1') {
    res.setHeader('connection', 'keep-alive, x-upstream-secret');
    res.setHeader('x-upstream-secret', 'hop-by-hop');
    res.setHeader('keep-alive', 'timeout=7, max=3');
    res.setHeader('proxy-connection', 'keep-alive');
    res.setHeader('x-upstream-kept', 'end-to-end');
  }
  const json = JSON.stringify({ upstream: name, ...recorded } satisfies EchoResponse);
  const streamed = Number(query.get('chunks') ?? 0);
  if (streamed > 0) {
    res.setHeader('content-type', 'text/plain');
    for (let i = 0; i < streamed; i++) {
      res.write(`chunk-${i};`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    res.end();
    return;
  }
  res.setHeader('content-type', 'application/json');
  res.end(req.method === 'HEAD' ? undefined : json);
}

export interface WebSocketEcho {
  readonly name: string;
  readonly port: number;
  /** The upgrade requests received (url and headers). */
  readonly upgrades: { url: string; headers: IncomingHttpHeaders }[];
  close(): Promise<void>;
}

/**
 * A WebSocket server that first sends `{"hello": name, "url": ..., "headers": ...}`
 * and then echoes every message back, text as text and binary as binary.
 */
export async function startWebSocketEcho(
  options: { name?: string; tls?: PemPair } = {},
): Promise<WebSocketEcho> {
  const name = options.name ?? 'ws-echo';
  const server = options.tls ? createHttpsServer(options.tls) : createHttpServer();
  const wss = new WebSocketServer({ server });
  const upgrades: WebSocketEcho['upgrades'] = [];
  wss.on('connection', (socket: WebSocket, req: IncomingMessage) => {
    upgrades.push({ url: req.url ?? '', headers: req.headers });
    socket.send(JSON.stringify({ hello: name, url: req.url, headers: req.headers }));
    socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
  });
  const port = await listen(server);
  return {
    name,
    port,
    upgrades,
    close: async () => {
      for (const client of wss.clients) client.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await closeServer(server);
    },
  };
}

export interface UnacceptingServer {
  readonly port: number;
  close(): Promise<void>;
}

/**
 * A listening port that never accepts, with its accept queue already full:
 * the kernel drops further SYNs, so a connect neither succeeds nor fails
 * until the client's connect timeout. (The listener lives in a worker
 * thread parked in Atomics.wait, so its event loop never accepts.)
 */
export async function startUnacceptingServer(): Promise<UnacceptingServer> {
  const signal = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads');
     const server = require('node:net').createServer();
     server.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
       parentPort.postMessage(server.address().port);
       Atomics.wait(workerData, 0, 0);
       server.close();
     });`,
    { eval: true, workerData: signal },
  );
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  // Fill the accept queue (backlog 1 holds two); later connects hang.
  const fillers = Array.from({ length: 4 }, () => connectNet(port, '127.0.0.1').on('error', () => undefined));
  await new Promise((resolve) => setTimeout(resolve, 50));
  return {
    port,
    close: async () => {
      for (const filler of fillers) filler.destroy();
      Atomics.store(signal, 0, 1);
      Atomics.notify(signal, 0);
      await worker.terminate();
    },
  };
}

/** A loopback port on which nothing listens (connections are refused). */
export async function deadPort(): Promise<number> {
  return (await freePorts(1))[0]!;
}

/**
 * `count` distinct free loopback ports: all are held open at once, then
 * released, so they differ from each other.
 */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, async () => {
      const server = createNetServer();
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', resolve);
      });
      return server;
    }),
  );
  const ports = servers.map((s) => (s.address() as AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  return ports;
}

/**
 * A self-signed certificate (EC P-256) for `hosts`, the first one as
 * common name; every host is also a DNS subjectAltName. `fingerprint256`
 * is in the form `tls.PeerCertificate` reports.
 */
export async function selfSignedCertificate(
  hosts: string[],
  commonName = hosts[0] ?? 'test',
): Promise<PemPair & { fingerprint256: string }> {
  const pems = await generate([{ name: 'commonName', value: commonName }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notAfterDate: new Date(Date.now() + 24 * 3600 * 1000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'subjectAltName', altNames: hosts.map((value) => ({ type: 2 as const, value })) },
    ],
  });
  return {
    cert: pems.cert,
    key: pems.private,
    fingerprint256: new X509Certificate(pems.cert).fingerprint256,
  };
}

/**
 * A certificate issued by `issuer` (a CA from certificateAuthority), or a
 * CA itself when `ca` is set. `chain` is what a server sends: the
 * certificate and the intermediates above it, without the root (a root's
 * chain is empty).
 */
export interface IssuedCertificate extends PemPair {
  chain: string;
}

async function issue(
  commonName: string,
  options: { issuer?: IssuedCertificate; ca?: boolean; hosts?: string[]; ips?: string[] },
): Promise<IssuedCertificate> {
  const altNames = [
    ...(options.hosts ?? []).map((value) => ({ type: 2 as const, value })),
    ...(options.ips ?? []).map((ip) => ({ type: 7 as const, ip })),
  ];
  const pems = await generate([{ name: 'commonName', value: commonName }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notAfterDate: new Date(Date.now() + 24 * 3600 * 1000),
    extensions: [
      { name: 'basicConstraints', cA: options.ca === true, critical: true },
      options.ca === true
        ? { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true }
        : { name: 'keyUsage', digitalSignature: true, critical: true },
      ...(altNames.length > 0 ? [{ name: 'subjectAltName' as const, altNames }] : []),
    ],
    ...(options.issuer ? { ca: { key: options.issuer.key, cert: options.issuer.cert } } : {}),
  });
  // A root is not sent (its chain is empty); an intermediate is, after the certificate it issued.
  return {
    cert: pems.cert,
    key: pems.private,
    chain: options.issuer ? `${pems.cert.trim()}\n${options.issuer.chain}` : '',
  };
}

/** A root CA, or an intermediate CA issued by `issuer`. */
export function certificateAuthority(name: string, issuer?: IssuedCertificate): Promise<IssuedCertificate> {
  return issue(name, { ca: true, ...(issuer ? { issuer } : {}) });
}

/** A server certificate for `hosts` (DNS) and `ips`, issued by `issuer`. */
export function serverCertificate(
  issuer: IssuedCertificate,
  hosts: string[],
  ips: string[] = [],
): Promise<IssuedCertificate> {
  return issue(hosts[0] ?? ips[0] ?? 'server', { issuer, hosts, ips });
}

async function listen(server: Server | HttpsServer): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  return (server.address() as AddressInfo).port;
}

async function closeServer(server: Server | HttpsServer): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}
