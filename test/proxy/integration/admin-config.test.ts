/**
 * The admin API and config life cycle: authentication, validation with
 * problems naming their source, no-op pushes, readiness, secrets kept out of
 * answers and logs, start-up refusals, and the last known good config
 * surviving a restart.
 */
import { createHash } from 'node:crypto';
import { readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CompiledConfig } from '../../../contract/compiled-config.js';
import { configHash } from '../../../contract/hash.js';
import { ConfigBuilder } from '../../support/config-builder.js';
import { eventually, http } from '../../support/http-client.js';
import {
  startProxy,
  startProxyExpectingExit,
  tempDir,
  type ProxyProcess,
} from '../../support/proxy-process.js';
import {
  selfSignedCertificate,
  startEcho,
  type EchoResponse,
  type EchoServer,
} from '../../support/upstreams.js';

const TOKEN = 'admin-token-5f1d0c2e9b7a4c31';
const CLIENT_SECRET = 'client-secret-value-93b1';

let proxy: ProxyProcess;
let echo: EchoServer;
let stateDir: string;
let first: CompiledConfig;
let second: CompiledConfig;
let privateKey: string;

/** A config whose single route answers with `marker` in the path the upstream sees. */
function configNamed(marker: string, extend?: (b: ConfigBuilder) => void): CompiledConfig {
  const builder = new ConfigBuilder()
    .upstream('echo', [echo.port])
    .route(`route-${marker}`, '/', 'echo', { upstreamPath: `/${marker}` });
  extend?.(builder);
  return builder.build();
}

/** Which config the traffic port serves now: the marker its route adds. */
async function servedMarker(p: ProxyProcess): Promise<string> {
  const res = await http({ port: p.httpPort, path: '/' });
  expect(res.status, res.text).toBe(200);
  return res.json<EchoResponse>().url.slice(1);
}

const statePath = () => join(stateDir, 'last-good-config.json');

beforeAll(async () => {
  echo = await startEcho();
  const pem = await selfSignedCertificate(['secret.example.test']);
  privateKey = pem.key;
  first = configNamed('first', (b) =>
    b
      .certificate('secret-cert', ['secret.example.test'], pem, true)
      .plugin('okta', 'openid-connect', { issuer: 'https://idp.example.test', client_secret: CLIENT_SECRET }),
  );
  second = configNamed('second');
  stateDir = await tempDir('portcullis-state-');
  proxy = await startProxy({ token: TOKEN, stateDir });
});

afterAll(async () => {
  await proxy?.dispose();
  await echo?.close();
  await rm(stateDir, { recursive: true, force: true });
});

describe('before any config', () => {
  it('is alive but not ready, and the traffic port answers 503', async () => {
    expect((await proxy.status('/healthz')).status).toBe(200);
    const ready = await proxy.status('/readyz');
    expect(ready.status).toBe(503);
    expect(ready.json()).toMatchObject({ error: 'PCS_NOT_READY' });
    const traffic = await eventually(
      () => http({ port: proxy.httpPort, path: '/' }),
      'the traffic port to listen',
    );
    expect(traffic.status).toBe(503);
    expect(traffic.json()).toMatchObject({ error: 'PCS_NOT_READY' });
    expect((await proxy.getConfig()).json()).toMatchObject({ hash: null, generation: 0 });
  });
});

describe('authentication', () => {
  it.each([
    ['no token', null],
    ['a wrong token', 'not-the-token'],
    ['the token with a suffix', `${TOKEN}x`],
    ['a prefix of the token', TOKEN.slice(0, -1)],
  ])('refuses a push with %s', async (_what, token) => {
    const res = await proxy.push(first, token);
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ error: 'PCS_ADMIN_UNAUTHORIZED' });
    expect((await proxy.status('/readyz')).status).toBe(503);
  });

  it('refuses another scheme, and GET /config without the token', async () => {
    const basic = await http({
      port: proxy.adminPort,
      method: 'PUT',
      path: '/config',
      headers: {
        authorization: `Basic ${Buffer.from(`admin:${TOKEN}`).toString('base64')}`,
        'content-type': 'application/json',
      },
      body: JSON.stringify(first),
    });
    expect(basic.status).toBe(401);
    expect(basic.headers['www-authenticate']).toMatch(/^Bearer/);
    expect((await http({ port: proxy.adminPort, path: '/config' })).status).toBe(401);
  });
});

describe('pushes', () => {
  it('accepts a valid config: 200 with the hash of its bytes, then ready, serving and storing it', async () => {
    const res = await proxy.push(first);
    expect(res.status).toBe(200);
    // push() sends JSON.stringify(first): the hash is sha256 of exactly that text.
    expect(res.body).toEqual({ hash: configHash(first), generation: 1, changed: true });
    expect(configHash(first)).toBe(createHash('sha256').update(JSON.stringify(first)).digest('hex'));
    expect((await proxy.status('/readyz')).status).toBe(200);
    expect(await servedMarker(proxy)).toBe('first');
    // The state file is written after the answer; it then holds the bytes received, unchanged.
    const state = await eventually(() => readFile(statePath(), 'utf8'), 'the state file to be written');
    expect(state).toBe(JSON.stringify(first));
    // The state file holds private keys: only its owner may read it.
    expect((await stat(statePath())).mode & 0o777).toBe(0o600);
  });

  it('treats the same config again as a no-op', async () => {
    const again = await proxy.push(first);
    expect(again).toEqual({ status: 200, body: { hash: configHash(first), generation: 1, changed: false } });
  });

  it('never shows secrets in GET /config', async () => {
    const res = await proxy.getConfig();
    expect(res.status).toBe(200);
    expect(res.json()).toMatchObject({ hash: configHash(first), generation: 1 });
    expect(res.text).not.toContain('PRIVATE KEY');
    expect(res.text).not.toContain(CLIENT_SECRET);
  });

  describe('rejects an invalid config with problems naming the element and its source', () => {
    const bad: [string, () => unknown, (problems: unknown[]) => void][] = [
      [
        'an unknown upstream',
        () => {
          const config = configNamed('bad').virtualHosts;
          const broken = structuredClone(first);
          broken.virtualHosts = config;
          broken.virtualHosts[0]!.routes[0]!.upstream = 'missing';
          return broken;
        },
        (problems) =>
          expect(problems).toContainEqual({
            path: '/virtualHosts/0/routes/0/upstream',
            message: expect.stringContaining('missing'),
            source: { kind: 'Ingress', namespace: 'test', name: 'route-bad' },
          }),
      ],
      [
        'a schema violation',
        () => {
          const broken = structuredClone(first) as unknown as {
            virtualHosts: { routes: { pathType: string }[] }[];
          };
          broken.virtualHosts[0]!.routes[0]!.pathType = 'Sometimes';
          return broken;
        },
        (problems) =>
          expect(problems).toContainEqual(
            expect.objectContaining({
              path: '/virtualHosts/0/routes/0/pathType',
              source: { kind: 'Ingress', namespace: 'test', name: 'route-first' },
            }),
          ),
      ],
      [
        'a certificate that cannot be loaded',
        () => {
          const broken = structuredClone(first);
          broken.certificates[0]!.key =
            '-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n';
          return broken;
        },
        (problems) =>
          expect(problems).toContainEqual(
            expect.objectContaining({
              path: '/certificates/0',
              source: { kind: 'Secret', namespace: 'test', name: 'secret-cert' },
            }),
          ),
      ],
      [
        'a wrong schema version',
        () => ({ ...first, schemaVersion: 2 }),
        (p) => expect(p).not.toHaveLength(0),
      ],
      ['a body that is not JSON', () => '{"schemaVersion": 1,', (p) => expect(p).not.toHaveLength(0)],
      [
        // JSON.parse keeps the last: this would serve no route at all.
        'a duplicate key at the top level',
        () => `${JSON.stringify(first).slice(0, -1)},"virtualHosts":[]}`,
        (problems) =>
          expect(problems).toEqual([{ path: '/virtualHosts', message: 'duplicate key "virtualHosts"' }]),
      ],
      [
        'a duplicate key inside a route, spelt with an escape',
        () => JSON.stringify(first).replace('{"id":"route-first",', '{"id":"route-first","\\u0069d":"x",'),
        (problems) =>
          expect(problems).toEqual([{ path: '/virtualHosts/0/routes/0/id', message: 'duplicate key "id"' }]),
      ],
      [
        'nesting 10,000 deep',
        () => `{"deep":${'['.repeat(10_000)}${']'.repeat(10_000)},${JSON.stringify(first).slice(1)}`,
        (problems) =>
          expect(problems).toEqual([
            {
              path: `/deep${'/0'.repeat(63)}`,
              message: 'nested deeper than 64 objects and arrays',
            },
          ]),
      ],
    ];

    it.each(bad)('%s; the previous config stays in service and on disk', async (_what, make, check) => {
      const stateBefore = await readFile(statePath());
      const mtimeBefore = (await stat(statePath())).mtimeMs;
      const res = await proxy.push(make());
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('PCS_CONFIG_INVALID');
      check(res.body.problems ?? []);
      expect((await proxy.getConfig()).json()).toMatchObject({ hash: configHash(first), generation: 1 });
      expect(await servedMarker(proxy)).toBe('first');
      expect(Buffer.compare(await readFile(statePath()), stateBefore)).toBe(0);
      expect((await stat(statePath())).mtimeMs).toBe(mtimeBefore);
    });
  });

  it('refuses a body that is not UTF-8, naming the byte offset; the previous config stays', async () => {
    const mtimeBefore = (await stat(statePath())).mtimeMs;
    const text = JSON.stringify(configNamed('latin1'));
    const at = Buffer.byteLength(text.slice(0, text.indexOf('route-latin1') + 'route-'.length));
    // "route-\xe9latin1": Latin-1, not UTF-8; decoded it would be U+FFFD and the hash not of these bytes.
    const body = Buffer.concat([
      Buffer.from(text.slice(0, at)),
      Buffer.from([0xe9]),
      Buffer.from(text.slice(at)),
    ]);
    const res = await http({
      port: proxy.adminPort,
      method: 'PUT',
      path: '/config',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body,
    });
    expect(res.status, res.text).toBe(400);
    expect(res.json()).toMatchObject({
      error: 'PCS_CONFIG_INVALID',
      problems: [{ path: '/', message: `not UTF-8: invalid byte sequence at byte offset ${at}` }],
    });
    expect((await proxy.getConfig()).json()).toMatchObject({ hash: configHash(first), generation: 1 });
    expect((await stat(statePath())).mtimeMs).toBe(mtimeBefore);
  });

  it('applies a changed config under a new generation', async () => {
    const res = await proxy.push(second);
    expect(res.body).toEqual({ hash: configHash(second), generation: 2, changed: true });
    expect(await servedMarker(proxy)).toBe('second');
  });

  it('never writes the admin token, private keys or plugin secrets to its output', () => {
    const output = proxy.output();
    expect(output).toContain('config push rejected');
    expect(output).not.toContain(TOKEN);
    expect(output).not.toContain(TOKEN.slice(0, 16));
    expect(output).not.toContain('PRIVATE KEY');
    expect(output).not.toContain(privateKey.split('\n')[1]);
    expect(output).not.toContain(CLIENT_SECRET);
  });
});

describe('start-up refusals', () => {
  it('exits non-zero without an admin token, and with --allow-unauthenticated-admin off loopback', async () => {
    const [noToken, offLoopback] = await Promise.all([
      startProxyExpectingExit({ token: false, workers: 1 }),
      startProxyExpectingExit({
        token: false,
        allowUnauthenticatedAdmin: true,
        workers: 1,
        args: ['--admin-address', '0.0.0.0'],
      }),
    ]);
    expect(noToken.code).not.toBe(0);
    expect(noToken.output).toMatch(
      /admin API needs a token: set --admin-token-file or PORTCULLIS_ADMIN_TOKEN/,
    );
    expect(offLoopback.code).not.toBe(0);
    expect(offLoopback.output).toMatch(
      /--allow-unauthenticated-admin is only allowed on loopback, not 0\.0\.0\.0/,
    );
  });
});

describe('persistence across restarts', () => {
  it('serves the last pushed config at once after a restart with only --state-dir', async () => {
    const exit = await proxy.stop();
    expect(exit).toEqual({ code: 0, signal: null });

    // No token this time: the loopback-only escape hatch must work too.
    const restarted = await startProxy({
      stateDir,
      token: false,
      allowUnauthenticatedAdmin: true,
      workers: 1,
      wait: 'ready',
    });
    try {
      expect((await restarted.getConfig()).json()).toMatchObject({ hash: configHash(second), generation: 1 });
      expect(await servedMarker(restarted)).toBe('second');
      // The warning about the open admin API is given.
      expect(restarted.output()).toContain('admin API runs without a token');
      const res = await restarted.push(second, null);
      expect(res).toEqual({ status: 200, body: { hash: configHash(second), generation: 1, changed: false } });
      // The hash is over the bytes: the same config in another key order is a new text (one redundant swap).
      const reordered = JSON.stringify(Object.fromEntries(Object.entries(second).reverse()));
      const swapped = await restarted.push(reordered, null);
      expect(swapped).toEqual({
        status: 200,
        body: { hash: createHash('sha256').update(reordered).digest('hex'), generation: 2, changed: true },
      });
      expect(await servedMarker(restarted)).toBe('second');
      // Back to the controller's bytes; stopping waits for them to reach the state file (next test).
      expect((await restarted.push(second, null)).body).toMatchObject({ generation: 3, changed: true });
    } finally {
      await restarted.dispose();
    }
  });

  it('prefers the state over an older --config file, and a newer --config file over the state', async () => {
    const dir = await tempDir();
    const proxies: ProxyProcess[] = [];
    try {
      const older = join(dir, 'older.json');
      await writeFile(older, JSON.stringify(configNamed('older-file')));
      const hourAgo = new Date(Date.now() - 3600_000);
      await utimes(older, hourAgo, hourAgo);
      const newer = join(dir, 'newer.json');
      await writeFile(newer, JSON.stringify(configNamed('newer-file')));

      const a = await startProxy({ stateDir, configFile: older, workers: 1 });
      proxies.push(a);
      expect(await servedMarker(a)).toBe('second');
      expect((await a.getConfig()).json()).toMatchObject({ hash: configHash(second) });
      await a.dispose();

      const b = await startProxy({ stateDir, configFile: newer, workers: 1 });
      proxies.push(b);
      expect(await servedMarker(b)).toBe('newer-file');
    } finally {
      await Promise.all(proxies.map((p) => p.dispose()));
      await rm(dir, { recursive: true, force: true });
    }
  });
});
