/**
 * `PATCH /config`: a config patch applied to the config in service is served
 * by every worker exactly as a full push of the result would be (same hash,
 * same state file), and a patch that does not fit changes nothing. Each
 * worker's answers are told apart by the access log's pid.
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { rm } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CompiledConfig, VirtualHost } from '../../../contract/compiled-config.js';
import { configChanges, type ConfigPatch } from '../../../contract/config-patch.js';
import { ConfigWriter } from '../../../contract/config-writer.js';
import { ConfigBuilder, route, upstream } from '../../support/config-builder.js';
import { eventually, http } from '../../support/http-client.js';
import {
  answersByWorker as workerAnswers,
  startProxy,
  tempDir,
  type ProxyProcess,
  type PushResult,
} from '../../support/proxy-process.js';
import { startEcho, type EchoResponse, type EchoServer } from '../../support/upstreams.js';

const HOSTS = ['a.test', 'b.test', 'c.test'];

let proxy: ProxyProcess;
let echo: EchoServer;
let other: EchoServer;
let stateDir: string;
/** The config the proxy should serve, as the controller would hold it. */
let served: CompiledConfig;

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const writer = new ConfigWriter();

/** A host whose one route `/` answers with `marker` as the first path segment the upstream sees. */
function vhost(host: string, marker: string, upstreamName = 'echo'): VirtualHost {
  return { host, routes: [route(`${host}-${marker}`, '/', upstreamName, { upstreamPath: `/${marker}` })] };
}

function initialConfig(): CompiledConfig {
  const builder = new ConfigBuilder().upstream('echo', [echo.port]);
  for (const host of HOSTS) builder.route(`${host}-v1`, '/', 'echo', { host, upstreamPath: '/v1' });
  return builder.build();
}

/** `config` with its virtual hosts replaced (in host order, as translate emits them). */
function withHosts(config: CompiledConfig, hosts: VirtualHost[]): CompiledConfig {
  const virtualHosts = [...hosts].sort((a, b) => (a.host < b.host ? -1 : a.host > b.host ? 1 : 0));
  return { ...config, virtualHosts };
}

/** The patch from `previous` to `next`, as the controller builds it. */
function patchOf(previous: CompiledConfig, next: CompiledConfig): ConfigPatch {
  const before = writer.digest(previous);
  const after = writer.digest(next);
  expect(before.text()).toBe(JSON.stringify(previous));
  expect(after.text()).toBe(JSON.stringify(next));
  return {
    base: sha256(before.text()),
    hash: sha256(after.text()),
    ...configChanges({ config: previous, rest: before.rest }, { config: next, rest: after.rest }),
  };
}

async function sendPatch(patch: unknown): Promise<PushResult & { body: { hash?: string | null } }> {
  const res = await http({
    port: proxy.adminPort,
    method: 'PATCH',
    path: '/config',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${proxy.token}` },
    body: typeof patch === 'string' || Buffer.isBuffer(patch) ? patch : JSON.stringify(patch),
  });
  const result = { status: res.status, body: res.json<PushResult['body'] & { hash?: string | null }>() };
  if (res.status === 200) await proxy.waitReady();
  return result;
}

/**
 * What each worker answers for `host`: fresh connections until every
 * current worker has answered at least twice. An answer is
 * `upstream:/marker`, or the status when it is not 200.
 */
async function answersByWorker(host: string): Promise<Map<number, Set<string>>> {
  return workerAnswers(proxy, async (path) => {
    const res = await http({ port: proxy.httpPort, path, headers: { host } });
    if (res.status !== 200) return String(res.status);
    const body = res.json<EchoResponse>();
    return `${body.upstream}:/${body.url.split('/')[1]!}`;
  });
}

/** Every worker answers `expected` for `host`, and only that. */
async function expectEverywhere(host: string, expected: string): Promise<void> {
  const seen = await answersByWorker(host);
  expect(seen.size).toBe(2);
  for (const answers of seen.values()) expect([...answers], host).toEqual([expected]);
}

/** Every worker serves `config` (each host's marker and upstream), and GET /config reports its text's hash. */
async function expectServed(config: CompiledConfig): Promise<void> {
  expect((await proxy.getConfig()).json()).toMatchObject({ hash: sha256(JSON.stringify(config)) });
  const hosts = new Map(config.virtualHosts.map((v) => [v.host, v]));
  for (const host of HOSTS) {
    const vh = hosts.get(host);
    if (!vh) {
      await expectEverywhere(host, '404');
      continue;
    }
    const r = vh.routes[0]!;
    const target = config.upstreams.find((u) => u.name === r.upstream)!.targets[0]!.port;
    const name = target === echo.port ? echo.name : target === other.port ? other.name : '?';
    await expectEverywhere(host, `${name}:${r.upstreamPath!}`);
  }
}

async function generation(): Promise<number> {
  return (await proxy.getConfig()).json<{ generation: number }>().generation;
}

beforeAll(async () => {
  echo = await startEcho({ name: 'echo' });
  other = await startEcho({ name: 'other' });
  stateDir = join(await tempDir(), 'state');
  proxy = await startProxy({ workers: 2, accessLog: true, stateDir });
  served = initialConfig();
  await proxy.pushOk(served);
});

afterAll(async () => {
  await proxy?.dispose();
  await Promise.all([echo?.close(), other?.close()]);
  if (stateDir) await rm(join(stateDir, '..'), { recursive: true, force: true });
});

describe('PATCH /config', () => {
  it('serves a one-host change on every worker, with the hash of the full text', async () => {
    await expectServed(served);
    const before = await generation();
    const next = withHosts(served, [
      ...served.virtualHosts.filter((v) => v.host !== 'b.test'),
      vhost('b.test', 'v2'),
    ]);
    const patch = patchOf(served, next);
    // Only the changed host travels.
    expect(patch.set.map((v) => v.host)).toEqual(['b.test']);
    expect(patch.remove).toEqual([]);
    expect(patch.rest).toBeUndefined();

    const res = await sendPatch(patch);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toEqual({ hash: sha256(JSON.stringify(next)), generation: before + 1, changed: true });
    served = next;
    await expectServed(served);
    // Every worker applied the patch itself: none needed the full config.
    expect(proxy.output()).not.toContain('worker had not prepared the pushed config');
  });

  it('answers changed: false for a patch to the config already in service', async () => {
    const before = await generation();
    const hash = sha256(JSON.stringify(served));
    const res = await sendPatch({ base: hash, hash, set: [], remove: [] });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ hash, generation: before, changed: false });
  });

  it('refuses a patch based on another config (409) and changes nothing', async () => {
    const before = await generation();
    const next = withHosts(served, [
      ...served.virtualHosts.filter((v) => v.host !== 'a.test'),
      vhost('a.test', 'x'),
    ]);
    const patch = { ...patchOf(served, next), base: 'f'.repeat(64) };
    const res = await sendPatch(patch);
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({
      error: 'PCS_CONFIG_PATCH_BASE_MISMATCH',
      hash: sha256(JSON.stringify(served)),
    });
    expect(await generation()).toBe(before);
    await expectServed(served);
  });

  it('refuses a patch whose result has another hash (409) and every worker keeps the old config', async () => {
    const before = await generation();
    const next = withHosts(served, [
      ...served.virtualHosts.filter((v) => v.host !== 'a.test'),
      vhost('a.test', 'x'),
    ]);
    const patch = { ...patchOf(served, next), hash: 'e'.repeat(64) };
    const res = await sendPatch(patch);
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({
      error: 'PCS_CONFIG_PATCH_MISMATCH',
      hash: sha256(JSON.stringify(served)),
    });
    expect(await generation()).toBe(before);
    await expectServed(served);
  });

  it('refuses a patch whose result is invalid (400) and changes nothing', async () => {
    const before = await generation();
    const next = withHosts(served, [
      ...served.virtualHosts.filter((v) => v.host !== 'c.test'),
      vhost('c.test', 'broken', 'missing-upstream'),
    ]);
    const res = await sendPatch(patchOf(served, next));
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('PCS_CONFIG_INVALID');
    expect(res.body.problems?.length).toBeGreaterThan(0);
    expect(JSON.stringify(res.body.problems)).toContain('missing-upstream');
    expect(await generation()).toBe(before);
    await expectServed(served);
  });

  it('refuses a body that is not a patch, or not JSON (400 at /)', async () => {
    const hash = sha256(JSON.stringify(served));
    for (const body of [JSON.stringify(served), JSON.stringify({ base: hash, hash, set: [] }), '{"base":']) {
      const res = await sendPatch(body);
      expect(res.status, body.slice(0, 40)).toBe(400);
      expect(res.body.error).toBe('PCS_CONFIG_INVALID');
      expect(res.body.problems?.[0]?.path).toBe('/');
    }
    const unauthorized = await http({
      port: proxy.adminPort,
      method: 'PATCH',
      path: '/config',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ base: hash, hash, set: [], remove: [] }),
    });
    expect(unauthorized.status).toBe(401);
    expect((await proxy.getConfig()).json()).toMatchObject({ hash });
  });

  it('refuses a patch with a duplicate key, nested too deep, or not UTF-8 (400) and changes nothing', async () => {
    const before = await generation();
    const hash = sha256(JSON.stringify(served));
    const removeC = JSON.stringify(patchOf(served, withHosts(served, served.virtualHosts.slice(0, 2))));
    const head = `{"base":"${hash}","hash":"`;
    const cases: [Buffer | string, { path: string; message: string }][] = [
      // JSON.parse keeps the last "remove": the patch would remove c.test.
      [
        removeC.replace('"remove":', '"remove":[],"remove":'),
        { path: '/remove', message: 'duplicate key "remove"' },
      ],
      [
        `${head}${hash}","set":${'['.repeat(100)}${']'.repeat(100)},"remove":[]}`,
        { path: `/set${'/0'.repeat(63)}`, message: 'nested deeper than 64 objects and arrays' },
      ],
      [
        // C3 28: a two-byte sequence whose second byte is not a continuation byte.
        Buffer.concat([Buffer.from(head), Buffer.from([0xc3, 0x28]), Buffer.from('","set":[],"remove":[]}')]),
        { path: '/', message: `not UTF-8: invalid byte sequence at byte offset ${head.length}` },
      ],
    ];
    for (const [body, problem] of cases) {
      const res = await sendPatch(body);
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.body.error).toBe('PCS_CONFIG_INVALID');
      expect(res.body.problems).toEqual([problem]);
    }
    expect(await generation()).toBe(before);
    await expectServed(served);
  });

  it('removes a host', async () => {
    const next = withHosts(
      served,
      served.virtualHosts.filter((v) => v.host !== 'c.test'),
    );
    const patch = patchOf(served, next);
    expect(patch).toMatchObject({ set: [], remove: ['c.test'] });
    const res = await sendPatch(patch);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    served = next;
    await expectServed(served);
  });

  it('applies a change outside the virtual hosts (rest): a new upstream target', async () => {
    const next: CompiledConfig = { ...served, upstreams: [upstream('echo', [other.port])] };
    const patch = patchOf(served, next);
    expect(patch.set).toEqual([]);
    expect(patch.rest?.upstreams[0]?.targets[0]?.port).toBe(other.port);
    const res = await sendPatch(patch);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    served = next;
    await expectServed(served);
    await expectEverywhere('a.test', 'other:/v1');
  });

  it('persists the full text: a restart serves the patched config with the same hash', async () => {
    // Host c.test back, so the restarted proxy serves three hosts again.
    const next = withHosts(served, [...served.virtualHosts, vhost('c.test', 'v3')]);
    const res = await sendPatch(patchOf(served, next));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    served = next;
    await proxy.stop();
    const files = readdirSync(stateDir).map((f) => readFileSync(join(stateDir, f), 'utf8'));
    expect(files).toContain(JSON.stringify(served));

    await proxy.dispose();
    proxy = await startProxy({ workers: 2, accessLog: true, stateDir, wait: 'ready' });
    await expectServed(served);

    // The restarted proxy accepts patches on the config it loaded from disk.
    const after = withHosts(served, [
      ...served.virtualHosts.filter((v) => v.host !== 'a.test'),
      vhost('a.test', 'v4'),
    ]);
    const patched = await sendPatch(patchOf(served, after));
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    served = after;
    await expectServed(served);
  });

  it('gives a worker restarted after a patch, or during one, the current config', async () => {
    const before = proxy.workerPids();
    expect(before).toHaveLength(2);
    await proxy.replaceWorker(before[0]!);
    expect(proxy.workerPids()).not.toContain(before[0]);
    await expectServed(served);

    // A patch while a worker is gone: the survivor applies it, the replacement gets the full config.
    const survivors = proxy.workerPids();
    process.kill(survivors[1]!, 'SIGKILL');
    await proxy.waitForOutput(/worker exited; starting a new one[\s\S]*worker exited; starting a new one/);
    const next = withHosts(served, [
      ...served.virtualHosts.filter((v) => v.host !== 'b.test'),
      vhost('b.test', 'v5'),
    ]);
    const res = await sendPatch(patchOf(served, next));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    served = next;
    await eventually(() => (proxy.workerPids().length === 2 ? true : undefined), 'a replacement worker');
    await proxy.waitReady();
    await expectServed(served);
  });
});
