/**
 * The sync loop with fake timers and fake proxies: every wait is virtual
 * time, so these run in milliseconds and never flake.
 */
import { pino } from 'pino';
import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { CompiledConfig } from '../../contract/compiled-config.js';
import { applyConfigPatch, type ConfigPatch } from '../../contract/config-patch.js';
import { ConfigWriter } from '../../contract/config-writer.js';
import { configHash, configTextHash } from '../../contract/hash.js';
import { ControllerMetrics } from '../../controller/metrics.js';
import { ObjectStore } from '../../controller/object-store.js';
import { ProxyAnswerError, type ProxyAdmin, type PushAnswer } from '../../controller/proxy-client.js';
import { WATCHED_KINDS } from '../../controller/source.js';
import { SyncLoop, type SyncLoopOptions } from '../../controller/sync-loop.js';
import type { TranslateResult } from '../../controller/translate/index.js';
import { endpointSlice, ingress, ingressClass, service } from '../fixtures/k8s.js';

class FakeProxy implements ProxyAdmin {
  readonly name: string;
  served: string | null = null;
  /** Hashes of accepted pushes, in order. */
  accepted: string[] = [];
  /** Bodies of accepted pushes, in order. */
  bodies: string[] = [];
  attempts = 0;
  down = false;
  /** Answer pushes with 400, as a proxy that finds the config invalid. */
  rejecting = false;
  /** Pushes wait for this, when set (a slow proxy). */
  gate: Promise<void> | undefined;
  /** Patches accepted, in order. */
  patches: ConfigPatch[] = [];
  /** Answer patches with 409, as a proxy that cannot apply them. */
  refusingPatches = false;
  /** Answer patches with 404, as a proxy from before PATCH /config. */
  withoutPatch = false;
  /** The config in service, parsed, as the real proxy keeps it for patches. */
  config: CompiledConfig | undefined;
  readonly #writer = new ConfigWriter();

  constructor(name: string) {
    this.name = name;
  }

  async push(body: string): Promise<PushAnswer> {
    this.attempts++;
    await this.gate;
    if (this.down) throw new Error('connect ECONNREFUSED');
    if (this.rejecting) throw new ProxyAnswerError(400, { error: 'PCS_CONFIG_INVALID' });
    // As the real proxy does: the hash of the bytes received.
    this.bodies.push(body);
    return this.#serve(JSON.parse(body) as CompiledConfig, configTextHash(body));
  }

  /** As the real proxy does: apply to the config in service, and check the result's hash. */
  async patch(body: string): Promise<PushAnswer> {
    this.attempts++;
    await this.gate;
    if (this.down) throw new Error('connect ECONNREFUSED');
    if (this.withoutPatch) throw new ProxyAnswerError(404, {});
    const patch = JSON.parse(body) as ConfigPatch;
    if (this.refusingPatches || !this.config || patch.base !== this.served) {
      throw new ProxyAnswerError(409, { error: 'PCS_CONFIG_PATCH_BASE_MISMATCH' });
    }
    const next = applyConfigPatch(this.config, patch);
    const hash = configTextHash(this.#writer.write(next));
    if (hash !== patch.hash) throw new ProxyAnswerError(409, { error: 'PCS_CONFIG_PATCH_MISMATCH' });
    this.patches.push(patch);
    return this.#serve(next, hash);
  }

  #serve(config: CompiledConfig, hash: string): PushAnswer {
    const changed = hash !== this.served;
    this.served = hash;
    this.config = config;
    this.accepted.push(hash);
    return { hash, changed };
  }

  async currentHash(): Promise<string | null> {
    if (this.down) throw new Error('connect ECONNREFUSED');
    return this.served;
  }

  /** A restart without a state dir: it comes back serving nothing. */
  restart(): void {
    this.served = null;
    this.config = undefined;
  }
}

interface Harness {
  store: ObjectStore;
  loop: SyncLoop;
  proxies: FakeProxy[];
  results: TranslateResult[];
  logs: { msg: string; level: number }[];
  metrics: ControllerMetrics;
}

function harness(proxyCount = 1, options: Partial<SyncLoopOptions> = {}): Harness {
  const logs: Harness['logs'] = [];
  const log = pino({ level: 'debug' }, { write: (line: string) => logs.push(JSON.parse(line)) });
  const store = new ObjectStore();
  const proxies = Array.from({ length: proxyCount }, (_, i) => new FakeProxy(`proxy-${i}`));
  const metrics = new ControllerMetrics(new Registry());
  const loop = new SyncLoop({ store, proxies, log, metrics, pollIntervalMs: 5000, ...options });
  const results: TranslateResult[] = [];
  loop.onResult((result) => results.push(result));
  loop.start();
  return { store, loop, proxies, results, logs, metrics };
}

function syncAll(store: ObjectStore): void {
  for (const { kind } of WATCHED_KINDS) store.synced(kind);
}

function seed(store: ObjectStore): void {
  store.upsert(ingressClass());
  store.upsert(service('shop', 'web'));
  store.upsert(endpointSlice('shop', 'web', { addresses: ['10.0.0.1'] }));
  store.upsert(ingress('shop', 'web', { rules: [{ paths: [{ path: '/web', service: 'web' }] }] }));
}

const later = (ms: number) => vi.advanceTimersByTimeAsync(ms);

let current: Harness | undefined;

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  current?.loop.stop();
  current = undefined;
  vi.useRealTimers();
});

function start(proxyCount = 1, options: Partial<SyncLoopOptions> = {}): Harness {
  current = harness(proxyCount, options);
  return current;
}

describe('SyncLoop', () => {
  it('never builds before every kind has synced', async () => {
    const { store, proxies, results, loop } = start();
    seed(store);
    for (const { kind } of WATCHED_KINDS.slice(0, -1)) store.synced(kind);
    await later(5000);
    expect(results).toHaveLength(0);
    expect(proxies[0]!.attempts).toBe(0);
    expect(loop.ready).toBe(false);

    store.synced(WATCHED_KINDS.at(-1)!.kind);
    await later(100);
    expect(results).toHaveLength(1);
    expect(proxies[0]!.accepted).toHaveLength(1);
    expect(loop.ready).toBe(true);
    expect(loop.inSync).toBe(true);
  });

  it('builds the first config as soon as the last kind syncs, without the hold-off', async () => {
    const { store, results, proxies } = start();
    seed(store);
    syncAll(store);
    await later(0);
    expect(results).toHaveLength(1);
    expect(proxies[0]!.accepted).toHaveLength(1);
  });

  it('builds before the proxies are up, and pushes once they are', async () => {
    let up!: () => void;
    const proxiesUp = new Promise<void>((resolve) => (up = resolve));
    const { store, results, proxies, loop } = start(2, { proxiesUp });
    seed(store);
    syncAll(store);
    await later(1000);
    expect(results).toHaveLength(1);
    expect(proxies.map((p) => p.attempts)).toEqual([0, 0]);
    expect(loop.ready).toBe(false);
    // A change meanwhile: only the newest config is pushed.
    store.upsert(ingress('shop', 'web', { rules: [{ paths: [{ path: '/new', service: 'web' }] }] }));
    await later(100);
    up();
    await later(0);
    expect(proxies.map((p) => p.accepted)).toEqual([[loop.hash], [loop.hash]]);
    expect(loop.ready).toBe(true);
  });

  it('batches changes: 100 ms after the last one', async () => {
    const { store, results } = start();
    syncAll(store);
    await later(100);
    expect(results).toHaveLength(1);

    store.upsert(service('shop', 'a'));
    await later(60);
    store.upsert(service('shop', 'b'));
    await later(60);
    expect(results).toHaveLength(1); // 120 ms after the first change, 60 after the last
    await later(40);
    expect(results).toHaveLength(2);
    expect(results[1]!.config).toBeDefined();
  });

  it('builds at most 1 s after the first change, however busy', async () => {
    const { store, results } = start();
    syncAll(store);
    await later(100);
    const before = results.length;
    for (let i = 0; i < 20; i++) {
      store.upsert(service('shop', `s${i}`));
      await later(50); // a change every 50 ms: the 100 ms hold-off alone would never end
    }
    // 1000 ms of changes: exactly one build, at the 1 s cap.
    expect(results.length - before).toBe(1);
  });

  it('skips the push when the config hash is unchanged', async () => {
    const { store, proxies, results } = start();
    seed(store);
    syncAll(store);
    await later(100);
    expect(proxies[0]!.attempts).toBe(1);

    // A Service no Ingress uses changes nothing in the config.
    store.upsert(service('other', 'unused'));
    await later(100);
    expect(results).toHaveLength(2);
    expect(proxies[0]!.attempts).toBe(1);

    store.upsert(ingress('shop', 'web', { rules: [{ paths: [{ path: '/changed', service: 'web' }] }] }));
    await later(100);
    expect(proxies[0]!.attempts).toBe(2);
    expect(proxies[0]!.served).toBe(configHash(results.at(-1)!.config));
  });

  it('sends the JSON text it hashed: the loop, the proxy and the result agree on the hash', async () => {
    const hashes: string[] = [];
    const { store, proxies, results, loop } = start();
    loop.onResult((_result, hash) => hashes.push(hash));
    seed(store);
    syncAll(store);
    await later(100);
    const body = proxies[0]!.bodies[0]!;
    expect(body).toBe(JSON.stringify(results[0]!.config));
    expect(hashes[0]).toBe(configTextHash(body));
    expect(loop.hash).toBe(hashes[0]);
    expect(proxies[0]!.served).toBe(hashes[0]);
    expect(loop.inSync).toBe(true);
  });

  it('retries a failing proxy with exponential backoff', async () => {
    const { store, proxies, loop } = start(1, {
      backoffInitialMs: 250,
      backoffMaxMs: 2000,
      pollIntervalMs: 60_000,
    });
    const proxy = proxies[0]!;
    proxy.down = true;
    syncAll(store);
    await later(0); // the first build is not held off
    expect(proxy.attempts).toBe(1);
    const attemptsAt: number[] = [];
    for (let t = 0; t < 6000; t += 50) {
      const before = proxy.attempts;
      await later(50);
      if (proxy.attempts > before) attemptsAt.push(t + 50);
    }
    // Retries 250, 500, 1000, 2000 (capped), 2000 ms apart.
    expect(attemptsAt).toEqual([250, 750, 1750, 3750, 5750]);
    expect(loop.ready).toBe(false);

    proxy.down = false;
    await later(2000);
    expect(proxy.accepted).toHaveLength(1);
    expect(loop.ready).toBe(true);
  });

  it('keeps retrying a config the proxy rejects, and pushes a newer one at once', async () => {
    const { store, proxies, metrics } = start(1, { backoffInitialMs: 1000, pollIntervalMs: 60_000 });
    const proxy = proxies[0]!;
    proxy.rejecting = true;
    syncAll(store);
    await later(100);
    expect(proxy.attempts).toBe(1);
    proxy.rejecting = false;
    store.upsert(ingressClass());
    seed(store);
    await later(100); // well before the 1 s retry
    expect(proxy.attempts).toBe(2);
    expect(proxy.accepted).toHaveLength(1);
    const text = await metrics.registry.metrics();
    expect(text).toContain('portcullis_controller_pushes_total{proxy="proxy-0",result="rejected"} 1');
    expect(text).toContain('portcullis_controller_pushes_total{proxy="proxy-0",result="ok"} 1');
  });

  it('sends a change as a patch once the proxy serves our config: the result is the config built', async () => {
    const { store, proxies, results, metrics } = start(1, { pollIntervalMs: 60_000 });
    const proxy = proxies[0]!;
    seed(store);
    syncAll(store);
    await later(100);
    expect(proxy.bodies).toHaveLength(1);
    store.upsert(
      ingress('shop', 'api', {
        rules: [{ host: 'api.example.com', paths: [{ path: '/api', service: 'web' }] }],
      }),
    );
    await later(100);
    expect(proxy.bodies).toHaveLength(1); // no second full push
    expect(proxy.patches).toHaveLength(1);
    const patch = proxy.patches[0]!;
    expect(patch.set.map((v) => v.host)).toEqual(['api.example.com']);
    expect(patch.remove).toEqual([]);
    // The proxy, having applied the patch, serves exactly the config built.
    expect(proxy.served).toBe(configTextHash(JSON.stringify(results.at(-1)!.config)));
    store.remove('Ingress', 'shop', 'api');
    await later(100);
    expect(proxy.patches[1]!.remove).toEqual(['api.example.com']);
    expect(proxy.served).toBe(configTextHash(JSON.stringify(results.at(-1)!.config)));
    const text = await metrics.registry.metrics();
    expect(text).toContain('portcullis_controller_pushes_total{proxy="proxy-0",result="patched"} 2');
  });

  it('sends the whole config at once when the proxy cannot apply a patch (409)', async () => {
    const { store, proxies, results } = start(1, { pollIntervalMs: 60_000, backoffInitialMs: 10_000 });
    const proxy = proxies[0]!;
    seed(store);
    syncAll(store);
    await later(100);
    proxy.refusingPatches = true;
    store.upsert(ingress('shop', 'api', { rules: [{ paths: [{ path: '/api', service: 'web' }] }] }));
    await later(100); // no backoff: the whole config follows the refused patch
    expect(proxy.patches).toHaveLength(0);
    expect(proxy.bodies).toHaveLength(2);
    expect(proxy.served).toBe(configTextHash(JSON.stringify(results.at(-1)!.config)));
  });

  it('sends whole configs to a proxy without PATCH /config, and stops trying patches', async () => {
    const { store, proxies, results } = start(1, { pollIntervalMs: 60_000, backoffInitialMs: 10_000 });
    const proxy = proxies[0]!;
    proxy.withoutPatch = true;
    seed(store);
    syncAll(store);
    await later(100);
    store.upsert(ingress('shop', 'api', { rules: [{ paths: [{ path: '/api', service: 'web' }] }] }));
    await later(100);
    store.upsert(ingress('shop', 'admin', { rules: [{ paths: [{ path: '/admin', service: 'web' }] }] }));
    await later(100);
    expect(proxy.bodies).toHaveLength(3);
    expect(proxy.attempts).toBe(4); // one patch tried, then whole configs only
    expect(proxy.served).toBe(configTextHash(JSON.stringify(results.at(-1)!.config)));
  });

  it('sends the whole config to a proxy that restarted, never a patch', async () => {
    const { store, proxies } = start(1, { pollIntervalMs: 2000 });
    const proxy = proxies[0]!;
    seed(store);
    syncAll(store);
    await later(100);
    proxy.restart();
    await later(2000);
    store.upsert(ingress('shop', 'api', { rules: [{ paths: [{ path: '/api', service: 'web' }] }] }));
    await later(100);
    expect(proxy.bodies).toHaveLength(2);
    expect(proxy.patches).toHaveLength(1); // after the full push, patches again
  });

  it('pushes again when a proxy reports another hash (it restarted)', async () => {
    const { store, proxies } = start(1, { pollIntervalMs: 2000 });
    const proxy = proxies[0]!;
    seed(store);
    syncAll(store);
    await later(100);
    const hash = proxy.served;
    expect(proxy.accepted).toEqual([hash]);

    await later(4000); // polls see the same hash: nothing to do
    expect(proxy.attempts).toBe(1);

    proxy.restart();
    await later(2000);
    expect(proxy.attempts).toBe(2);
    expect(proxy.served).toBe(hash);
  });

  it('a proxy that is down during polls is pushed once it is back empty', async () => {
    const { store, proxies } = start(1, { pollIntervalMs: 1000 });
    const proxy = proxies[0]!;
    seed(store);
    syncAll(store);
    await later(100);
    proxy.down = true;
    await later(3000);
    expect(proxy.attempts).toBe(1); // polls fail quietly; nothing to push to
    proxy.restart();
    proxy.down = false;
    await later(1000);
    expect(proxy.attempts).toBe(2);
    expect(proxy.served).not.toBeNull();
  });

  it('pushes to every proxy; one failing proxy does not hold up the others', async () => {
    const { store, proxies, loop } = start(3, { pollIntervalMs: 60_000 });
    const [a, b, c] = proxies as [FakeProxy, FakeProxy, FakeProxy];
    b.down = true;
    let release!: () => void;
    c.gate = new Promise((resolve) => (release = resolve)); // c is slow
    seed(store);
    syncAll(store);
    await later(100);
    expect(a.accepted).toHaveLength(1);
    expect(b.accepted).toHaveLength(0);
    expect(c.accepted).toHaveLength(0);

    // A second change while c is still busy: a gets it at once; c gets the newest after its push ends.
    store.upsert(ingress('shop', 'web', { rules: [{ paths: [{ path: '/v2', service: 'web' }] }] }));
    await later(100);
    expect(a.accepted).toHaveLength(2);
    release();
    c.gate = undefined;
    await later(0);
    expect(c.served).toBe(a.served);
    expect(loop.ready).toBe(false); // b has never accepted anything

    b.down = false;
    await later(30_000);
    expect(b.served).toBe(a.served);
    expect(loop.ready).toBe(true);
    expect(loop.inSync).toBe(true);
  });

  it('logs each problem once per change, not once per build', async () => {
    const { store, logs, results } = start();
    syncAll(store);
    store.upsert(ingressClass());
    store.upsert(ingress('shop', 'web', { rules: [{ paths: [{ path: '/web', service: 'missing' }] }] }));
    await later(100);
    const problemLogs = () => logs.filter((l) => l.msg.startsWith('problem: '));
    expect(results.at(-1)!.problems.map((p) => p.code)).toEqual(['SERVICE_NOT_FOUND']);
    expect(problemLogs()).toHaveLength(1);

    // Unrelated changes rebuild, but the same problem is not logged again.
    store.upsert(service('other', 'a'));
    await later(100);
    store.upsert(service('other', 'b'));
    await later(100);
    expect(results).toHaveLength(3);
    expect(problemLogs()).toHaveLength(1);

    store.upsert(service('shop', 'missing'));
    await later(100);
    expect(results.at(-1)!.problems).toEqual([]);
    expect(logs.filter((l) => l.msg === 'problem resolved')).toHaveLength(1);
  });

  it('counts translations and problems in metrics', async () => {
    const { store, metrics } = start();
    syncAll(store);
    store.upsert(ingress('shop', 'web', { rules: [{ paths: [{ path: '/web', service: 'missing' }] }] }));
    await later(100);
    const text = await metrics.registry.metrics();
    expect(text).toContain('portcullis_controller_translations_total 1');
    expect(text).toContain('portcullis_controller_problems 1');
    expect(text).toMatch(
      /portcullis_controller_last_successful_push_timestamp_seconds\{proxy="proxy-0"\} \d+/,
    );
  });

  it('stops: no builds or pushes after stop()', async () => {
    const { store, proxies, loop, results } = start();
    syncAll(store);
    loop.stop();
    await later(5000);
    expect(results).toHaveLength(0);
    expect(proxies[0]!.attempts).toBe(0);
  });
});
