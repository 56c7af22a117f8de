/**
 * Shared helpers of the openid-connect attack tests: every attack request
 * carries a unique marker in its path, so a test can assert that the
 * upstream never received that request (fail closed), not merely that the
 * client got an error status.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'vitest';
import type { HttpResult } from '../../support/http-client.js';
import type { EchoServer } from '../../support/upstreams.js';

/** A path under `prefix` that no other request uses. */
export function probePath(prefix: string, suffix = ''): string {
  return `${prefix}/probe-${randomUUID()}${suffix}`;
}

/** The probe id of a path made by `probePath`. */
function probeOf(path: string): string {
  const match = /probe-[0-9a-f-]{36}/.exec(path);
  if (!match) throw new Error(`not a probe path: ${path}`);
  return match[0];
}

/** Whether the upstream received the request with this probe path. */
export function reachedUpstream(echo: EchoServer, path: string): boolean {
  const probe = probeOf(path);
  return echo.requests.some((r) => r.url.includes(probe));
}

/**
 * The refusal contract: the status, nothing upstream, and for a 401 the
 * RFC 6750 challenge.
 */
export function expectRefused(
  echo: EchoServer,
  path: string,
  res: Pick<HttpResult, 'status' | 'headers' | 'text'>,
  status: number | number[],
): void {
  const allowed = Array.isArray(status) ? status : [status];
  expect(allowed, `status ${res.status}: ${res.text.slice(0, 300)}`).toContain(res.status);
  expect(reachedUpstream(echo, path), 'the upstream received the attack request').toBe(false);
  if (res.status === 401) expect(String(res.headers['www-authenticate'])).toMatch(/^Bearer /);
}

/** The positive control: the request went through to the upstream. */
export function expectAccepted(
  echo: EchoServer,
  path: string,
  res: Pick<HttpResult, 'status' | 'text'>,
): void {
  expect(res.status, res.text.slice(0, 300)).toBe(200);
  expect(reachedUpstream(echo, path)).toBe(true);
}

export interface CountingServer {
  readonly url: string;
  /** Requests received so far. */
  readonly hits: string[];
  close(): Promise<void>;
}

/** An attacker's server answering every request with `body` (JSON) and counting them. */
export async function startCountingServer(body: unknown): Promise<CountingServer> {
  const hits: string[] = [];
  const server: Server = createServer((req, res) => {
    hits.push(req.url ?? '');
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
