/**
 * Counters across worker deaths: summed over workers, a counter must never
 * go down when a worker dies (Prometheus would read a reset), and /metrics
 * answers within a bound even while a worker does not.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ConfigBuilder } from '../../support/config-builder.js';
import { http } from '../../support/http-client.js';
import { parseMetrics, sumOf } from '../../support/metrics.js';
import { startProxy, type ProxyProcess } from '../../support/proxy-process.js';
import { startEcho, type EchoServer } from '../../support/upstreams.js';

let proxy: ProxyProcess;
let echo: EchoServer;

beforeAll(async () => {
  echo = await startEcho();
  proxy = await startProxy({
    config: new ConfigBuilder().upstream('echo', [echo.port]).route('w', '/', 'echo').build(),
    workers: 2,
  });
});

afterAll(async () => {
  await proxy?.dispose();
  await echo?.close();
});

async function served(): Promise<number> {
  return sumOf(parseMetrics(await proxy.metrics()), 'portcullis_http_requests_total', { route: 'w' });
}

/** `n` requests on fresh connections, so both workers get some. */
async function load(n: number): Promise<void> {
  for (let i = 0; i < n; i++) expect((await http({ port: proxy.httpPort, path: `/x${i}` })).status).toBe(200);
}

it('keeps a dead worker’s counts: the sum never goes down', async () => {
  await load(40);
  const before = await served();
  expect(before).toBeGreaterThanOrEqual(40);
  // Scrapes keep coming while workers die: a metrics request to a worker that
  // is going away must not take the primary with it.
  let scraping = true;
  const scraper = (async () => {
    while (scraping) await proxy.metrics().catch(() => undefined);
  })();
  try {
    for (let round = 0; round < 3; round++) {
      for (const pid of proxy.workerPids()) {
        await proxy.replaceWorker(pid);
        const after = await served();
        expect(after, 'requests_total summed over workers').toBeGreaterThanOrEqual(before);
      }
    }
  } finally {
    scraping = false;
    await scraper;
  }
  expect(proxy.hasExited, proxy.output()).toBe(false);
  await load(10);
  expect(await served()).toBeGreaterThanOrEqual(before + 10);
});

it('answers /metrics within a bound while a worker is stopped', async () => {
  const [pid] = proxy.workerPids();
  const counted = await served();
  process.kill(pid!, 'SIGSTOP');
  try {
    const started = performance.now();
    const res = await http({ port: proxy.statusPort, path: '/metrics', timeoutMs: 5_000 });
    const elapsed = performance.now() - started;
    expect(res.status).toBe(200);
    // A generous bound: the old gather waited 5 s for the stopped worker, then failed.
    expect(elapsed).toBeLessThan(4_000);
    // The stopped worker counts with its last answer.
    expect(
      sumOf(parseMetrics(res.text), 'portcullis_http_requests_total', { route: 'w' }),
    ).toBeGreaterThanOrEqual(counted);
  } finally {
    process.kill(pid!, 'SIGCONT');
  }
});
