/**
 * A config swap drops no request: keep-alive clients hammer a route on two
 * workers while configs with other target sets and route ids are pushed.
 * Also: a worker that dies is replaced and serves the current config.
 */
import { Pool } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CompiledConfig } from '../../../contract/compiled-config.js';
import { ConfigBuilder } from '../../support/config-builder.js';
import { http } from '../../support/http-client.js';
import { startProxy, type ProxyProcess } from '../../support/proxy-process.js';
import { startEcho, type EchoResponse, type EchoServer } from '../../support/upstreams.js';

const CLIENTS = 8;
const PUSHES = 20;

let proxy: ProxyProcess;
let upstreams: EchoServer[];

/** Target sets the pushes rotate through; every one keeps /load servable. */
const TARGET_SETS = [['a', 'b'], ['b', 'c'], ['c'], ['a', 'c']];

function configFor(i: number): CompiledConfig {
  const names = TARGET_SETS[i % TARGET_SETS.length]!;
  const ports = names.map((name) => upstreams.find((u) => u.name === name)!.port);
  return new ConfigBuilder()
    .upstream(`pool-${i}`, ports)
    .upstream('other', [upstreams[0]!.port])
    .route(`load-${i}`, '/load', `pool-${i}`, {
      timeouts: { connectMs: 1_000, readMs: 5_000, writeMs: 5_000 },
    })
    .route(`extra-${i}`, `/extra-${i}`, 'other')
    .build();
}

beforeAll(async () => {
  upstreams = await Promise.all(['a', 'b', 'c'].map((name) => startEcho({ name })));
  proxy = await startProxy({ config: configFor(0), workers: 2 });
});

afterAll(async () => {
  await proxy?.dispose();
  await Promise.all((upstreams ?? []).map((u) => u.close()));
});

describe('config swaps under load', () => {
  it(`answers every request 2xx while ${PUSHES} configs are pushed`, async () => {
    const client = new Pool(`http://127.0.0.1:${proxy.httpPort}`, { connections: CLIENTS, pipelining: 1 });
    const statuses = new Map<number, number>();
    const errors: string[] = [];
    const servedBy = new Set<string>();
    let stop = false;
    let total = 0;

    async function loop(): Promise<void> {
      while (!stop) {
        try {
          const res = await client.request({ path: '/load', method: 'GET' });
          const text = await res.body.text();
          statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
          if (res.statusCode === 200) servedBy.add((JSON.parse(text) as EchoResponse).upstream);
          total += 1;
        } catch (error) {
          errors.push(String(error));
          total += 1;
        }
      }
    }

    const started = Date.now();
    const clients = Array.from({ length: CLIENTS }, loop);
    const pushes: { status: number; changed?: boolean; generation?: number }[] = [];
    try {
      // Let the load settle in, then swap back to back with short pauses (about 3 s in all).
      await new Promise((resolve) => setTimeout(resolve, 300));
      for (let i = 1; i <= PUSHES; i++) {
        const res = await proxy.push(configFor(i));
        pushes.push({ status: res.status, changed: res.body.changed, generation: res.body.generation });
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await new Promise((resolve) => setTimeout(resolve, 300));
    } finally {
      stop = true;
      await Promise.all(clients);
      await client.close();
    }
    const elapsed = Date.now() - started;

    expect(pushes.every((p) => p.status === 200 && p.changed === true)).toBe(true);
    expect(pushes.at(-1)?.generation).toBe(PUSHES + 1);
    expect(errors).toEqual([]);
    expect(Object.fromEntries(statuses)).toEqual({ 200: total });
    // The load was real, and spanned the swaps: every target served some of it.
    expect(total).toBeGreaterThan(200);
    expect([...servedBy].sort()).toEqual(['a', 'b', 'c']);
    console.log(`swap under load: ${total} requests in ${elapsed} ms, ${PUSHES} pushes, 0 failures`);

    // After the last swap only its targets serve the route.
    const finalSet = TARGET_SETS[PUSHES % TARGET_SETS.length]!;
    for (let i = 0; i < 8; i++) {
      const res = await http({ port: proxy.httpPort, path: '/load' });
      expect(finalSet).toContain(res.json<EchoResponse>().upstream);
    }
  });
});

describe('worker failure', () => {
  it('replaces a killed worker, which then serves the current config', async () => {
    const current = configFor(PUSHES + 1);
    await proxy.pushOk(current);
    const before = proxy.workerPids();
    expect(before).toHaveLength(2);
    const victim = before[0]!;

    process.kill(victim, 'SIGKILL');
    await proxy.waitForOutput('worker exited; starting a new one');
    await proxy.waitReady();
    const after = proxy.workerPids();
    expect(after).toHaveLength(2);
    expect(after).not.toContain(victim);
    expect(after).toContain(before[1]);

    // Fresh connections are spread over both workers, the new one included.
    const targets = TARGET_SETS[(PUSHES + 1) % TARGET_SETS.length]!;
    for (let i = 0; i < 10; i++) {
      const res = await http({ port: proxy.httpPort, path: '/load' });
      expect(res.status, res.text).toBe(200);
      expect(targets).toContain(res.json<EchoResponse>().upstream);
    }
    expect((await proxy.getConfig()).json()).toMatchObject({ generation: PUSHES + 2 });
  });
});
