/**
 * Pipelined config pushes (prepare, then commit or discard): whatever the
 * primary decides, every worker ends up serving exactly the config the
 * admin API answered with. Checked per worker through the access log's pid.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CompiledConfig } from '../../../contract/compiled-config.js';
import { validateConfig } from '../../../contract/validate.js';
import { ConfigBuilder } from '../../support/config-builder.js';
import { eventually, http } from '../../support/http-client.js';
import { answersByWorker, startProxy, type ProxyProcess } from '../../support/proxy-process.js';
import { startEcho, type EchoResponse, type EchoServer } from '../../support/upstreams.js';

const NOT_PREPARED = 'worker had not prepared the pushed config';

let proxy: ProxyProcess;
let echo: EchoServer;

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * A config whose route `/` answers with `marker` as the first path segment
 * the upstream sees, as the exact text validation returns unchanged (so the
 * workers' prepared build is what gets committed).
 */
function completeText(marker: string): string {
  const config = new ConfigBuilder()
    .upstream('echo', [echo.port])
    .route(`route-${marker}`, '/', 'echo', { upstreamPath: `/${marker}` })
    .build();
  const text = JSON.stringify(config);
  const input: unknown = JSON.parse(text);
  const checked = validateConfig(input);
  // The premise of the commit path: the text needs no defaults filled in.
  if (!checked.ok || checked.config !== input) throw new Error('fixture must be complete');
  return text;
}

/** The same kind of config without the fields the schema has defaults for. */
function minimalText(marker: string): string {
  const text = JSON.stringify({
    schemaVersion: 1,
    certificates: [],
    virtualHosts: [
      {
        host: '*',
        routes: [
          {
            id: `route-${marker}`,
            path: '/',
            pathType: 'Prefix',
            upstream: 'echo',
            upstreamPath: `/${marker}`,
            plugins: [],
            timeouts: { connectMs: 2000, readMs: 5000, writeMs: 5000 },
            source: { kind: 'Ingress', namespace: 'test', name: marker },
          },
        ],
      },
    ],
    upstreams: [
      {
        name: 'echo',
        targets: [{ host: '127.0.0.1', port: echo.port }],
        source: { kind: 'Service', namespace: 'test', name: 'echo' },
      },
    ],
    plugins: [],
    applications: [],
  });
  const input: unknown = JSON.parse(text);
  const checked = validateConfig(input);
  if (!checked.ok) throw new Error(`fixture must be valid: ${JSON.stringify(checked.problems)}`);
  if (checked.config === input) throw new Error('fixture must lack defaults');
  return text;
}

/**
 * The markers each worker serves: fresh connections (spread over the
 * workers) until every current worker has answered at least twice, each
 * answer attributed to its worker by the access log's pid.
 */
async function markersByWorker(): Promise<Map<number, Set<string>>> {
  return answersByWorker(proxy, async (path) => {
    const res = await http({ port: proxy.httpPort, path });
    expect(res.status, res.text).toBe(200);
    return res.json<EchoResponse>().url.split('/')[1]!;
  });
}

/** Every worker serves `marker`, and only it. */
async function expectServedEverywhere(marker: string): Promise<void> {
  const seen = await markersByWorker();
  expect(seen.size).toBe(2);
  for (const markers of seen.values()) expect([...markers]).toEqual([marker]);
}

async function expectInService(text: string): Promise<void> {
  expect((await proxy.getConfig()).json()).toMatchObject({ hash: sha256(text) });
}

beforeAll(async () => {
  echo = await startEcho();
  proxy = await startProxy({ workers: 2, accessLog: true });
});

afterAll(async () => {
  await proxy?.dispose();
  await echo?.close();
});

describe('pipelined config pushes', () => {
  it('serves a valid push on every worker and answers with its hash', async () => {
    for (const marker of ['alpha', 'beta']) {
      const text = completeText(marker);
      const res = await proxy.push(text);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ hash: sha256(text), changed: true });
      await expectServedEverywhere(marker);
      await expectInService(text);
    }
    // Both workers had the pushes prepared: each was committed, never resent in full.
    expect(proxy.output()).not.toContain(NOT_PREPARED);
  });

  it('an unchanged push changes nothing and is still served', async () => {
    const text = completeText('beta');
    const before = (await proxy.getConfig()).json<{ generation: number }>().generation;
    const res = await proxy.push(text);
    expect(res.body).toMatchObject({ hash: sha256(text), changed: false, generation: before });
    await expectServedEverywhere('beta');
  });

  it('an invalid push leaves the previous config served by every worker', async () => {
    const valid = completeText('beta');
    // Builds fine in a worker (only validation looks at the version), so a
    // prepared copy that leaked into service would answer `rejected`.
    const invalid = JSON.stringify({ ...JSON.parse(completeText('rejected')), schemaVersion: 2 });
    const res = await proxy.push(invalid);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('PCS_CONFIG_INVALID');
    await expectServedEverywhere('beta');
    await expectInService(valid);

    // Not JSON at all: the workers' prepare fails, the push is refused, nothing changes.
    const broken = await proxy.push('{"schemaVersion": 1,');
    expect(broken.status).toBe(400);
    await expectServedEverywhere('beta');

    // The next valid push is served, not the discarded one.
    const next = completeText('gamma');
    expect((await proxy.push(next)).status).toBe(200);
    await expectServedEverywhere('gamma');
    expect(proxy.output()).not.toContain(NOT_PREPARED);
  });

  it('serves a push whose text lacks defaults (the primary fills them in)', async () => {
    const text = minimalText('minimal');
    const res = await proxy.push(text);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ hash: sha256(text), changed: true });
    await expectServedEverywhere('minimal');
    await expectInService(text);
  });

  it('ends on the last of rapid successive pushes', async () => {
    const markers = ['r1', 'r2', 'r3', 'r4', 'r5', 'r6'];
    // Alternate complete and incomplete texts, all in flight at once.
    const texts = markers.map((m, i) => (i % 2 === 0 ? completeText(m) : minimalText(m)));
    const results = await Promise.all(texts.map((text) => proxy.push(text)));
    for (const r of results) expect(r.status, JSON.stringify(r.body)).toBe(200);
    const generations = results.map((r) => r.body.generation!);
    // Serialised: each push got its own generation.
    expect(new Set(generations).size).toBe(markers.length);
    const last = generations.indexOf(Math.max(...generations));
    expect(results[last]!.body.hash).toBe(sha256(texts[last]!));
    await expectServedEverywhere(markers[last]!);
    await expectInService(texts[last]!);
  });

  it('gives a restarted worker the current config, also when pushed while it was gone', async () => {
    const current = completeText('delta');
    await proxy.pushOk(JSON.parse(current) as CompiledConfig);
    const before = proxy.workerPids();
    expect(before).toHaveLength(2);

    await proxy.replaceWorker(before[0]!);
    expect(proxy.workerPids()).not.toContain(before[0]);
    await expectServedEverywhere('delta');

    // A push in the restart delay: the surviving worker commits its prepared
    // copy, the replacement (forked after the prepare) gets the full config.
    const survivors = proxy.workerPids();
    process.kill(survivors[1]!, 'SIGKILL');
    await proxy.waitForOutput(/worker exited; starting a new one[\s\S]*worker exited; starting a new one/);
    const next = completeText('epsilon');
    const res = await proxy.push(next);
    expect(res.status).toBe(200);
    await eventually(() => (proxy.workerPids().length === 2 ? true : undefined), 'a replacement worker');
    await proxy.waitReady();
    await expectServedEverywhere('epsilon');
    await expectInService(next);
  });
});
