import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ProxyAnswerError, ProxyClient } from '../../controller/proxy-client.js';

interface Seen {
  method: string;
  url: string;
  authorization: string | undefined;
  body: string;
}

let server: Server | undefined;

/** An admin API stand-in that answers every request with `status` and `body`. */
async function admin(status: number, body: unknown): Promise<{ url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  server = createServer(async (req: IncomingMessage, res) => {
    let text = '';
    for await (const chunk of req) text += chunk;
    seen.push({ method: req.method!, url: req.url!, authorization: req.headers.authorization, body: text });
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

afterEach(async () => {
  const open = server;
  server = undefined;
  if (open) await new Promise((resolve) => open.close(resolve));
});

describe('ProxyClient', () => {
  it('PUTs the config with the bearer token and returns the hash', async () => {
    const { url, seen } = await admin(200, { hash: 'abc', generation: 2, changed: true });
    const client = new ProxyClient({ url, token: 't0ken' });
    await expect(client.push('{"schemaVersion":1}')).resolves.toEqual({ hash: 'abc', changed: true });
    expect(seen).toEqual([
      { method: 'PUT', url: '/config', authorization: 'Bearer t0ken', body: '{"schemaVersion":1}' },
    ]);
    expect(client.name).toBe(url);
  });

  it('keeps a path prefix in the admin URL', async () => {
    const { url, seen } = await admin(200, { hash: null });
    await new ProxyClient({ url: `${url}/admin/` }).currentHash();
    expect(seen[0]).toMatchObject({ method: 'GET', url: '/admin/config', authorization: undefined });
  });

  it('reads the hash in service (null before any config)', async () => {
    const { url } = await admin(200, { hash: null, generation: 0 });
    await expect(new ProxyClient({ url }).currentHash()).resolves.toBeNull();
  });

  it.each([
    [400, { error: 'PCS_CONFIG_INVALID', problems: [] }, true],
    [413, { error: 'PCS_CONFIG_TOO_LARGE' }, true],
    [401, { error: 'PCS_ADMIN_UNAUTHORIZED' }, false],
    [503, { error: 'PCS_APPLY_TIMEOUT' }, false],
  ])('a %i answer is an error (rejected: %s)', async (status, body, rejected) => {
    const { url } = await admin(status, body);
    const error = await new ProxyClient({ url }).push('{}').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProxyAnswerError);
    expect((error as ProxyAnswerError).rejected).toBe(rejected);
    expect((error as ProxyAnswerError).code).toBe('PCS_PROXY_PUSH_FAILED');
    expect((error as Error).message).toContain(body.error);
  });

  it('fails when nothing listens', async () => {
    // Port 1 (tcpmux) is never served here; a just-closed ephemeral port could be reused by a parallel test.
    await expect(new ProxyClient({ url: 'http://127.0.0.1:1' }).currentHash()).rejects.toThrow();
  });
});
