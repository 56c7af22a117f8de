/**
 * /metrics on the status port: request counts by route, method and status
 * summed over both workers, duration histograms, and the config metrics the
 * primary keeps.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CompiledConfig } from '../../../contract/compiled-config.js';
import { configHash } from '../../../contract/hash.js';
import { ConfigBuilder } from '../../support/config-builder.js';
import { eventually, http } from '../../support/http-client.js';
import { parseMetrics, samplesOf, sumOf, type Sample } from '../../support/metrics.js';
import { startProxy, type ProxyProcess } from '../../support/proxy-process.js';
import { deadPort, startEcho, type EchoServer } from '../../support/upstreams.js';

let proxy: ProxyProcess;
let echo: EchoServer;
let config: CompiledConfig;

beforeAll(async () => {
  echo = await startEcho();
  config = new ConfigBuilder()
    .upstream('echo', [echo.port])
    .upstream('dead', [await deadPort()])
    .route('m-ok', '/ok', 'echo')
    .route('m-created', '/created', 'echo')
    .route('m-dead', '/dead', 'dead', { retries: 0 })
    .build();
  proxy = await startProxy({ config, workers: 2 });
});

afterAll(async () => {
  await proxy?.dispose();
  await echo?.close();
});

async function scrape(): Promise<Sample[]> {
  return parseMetrics(await proxy.metrics());
}

const requests = (samples: Sample[], route: string, method: string, status: string) =>
  samplesOf(samples, 'portcullis_http_requests_total', { route, method, status });

describe('traffic metrics', () => {
  it('counts requests by route, method and status, summed over the workers', async () => {
    for (let i = 0; i < 10; i++)
      expect((await http({ port: proxy.httpPort, path: `/ok/${i}` })).status).toBe(200);
    for (let i = 0; i < 3; i++) {
      const res = await http({
        port: proxy.httpPort,
        method: 'POST',
        path: '/created?status=201',
        body: 'x',
      });
      expect(res.status).toBe(201);
    }
    for (let i = 0; i < 2; i++)
      expect((await http({ port: proxy.httpPort, path: '/nothing' })).status).toBe(404);
    expect((await http({ port: proxy.httpPort, path: '/dead' })).status).toBe(502);
    // Each worker keeps its own upstream pool: two connections mean both workers served.
    expect(echo.connections).toBeGreaterThanOrEqual(2);

    // Workers count a request once its answer is written; give them a moment.
    const samples = await eventually(async () => {
      const s = await scrape();
      return sumOf(s, 'portcullis_http_requests_total') >= 16 ? s : undefined;
    }, 'all 16 requests to be counted');

    const ok = requests(samples, 'm-ok', 'GET', '200');
    expect(ok).toHaveLength(1);
    expect(ok[0]!.value).toBe(10);
    expect(requests(samples, 'm-created', 'POST', '201')[0]?.value).toBe(3);
    expect(requests(samples, 'none', 'GET', '404')[0]?.value).toBe(2);
    expect(requests(samples, 'm-dead', 'GET', '502')[0]?.value).toBe(1);
    expect(sumOf(samples, 'portcullis_http_requests_total')).toBe(16);
  });

  it('has request and upstream duration histograms per route', async () => {
    const samples = await scrape();
    expect(sumOf(samples, 'portcullis_http_request_duration_seconds_count', { route: 'm-ok' })).toBe(10);
    expect(sumOf(samples, 'portcullis_upstream_duration_seconds_count', { route: 'm-ok' })).toBe(10);
    expect(sumOf(samples, 'portcullis_upstream_duration_seconds_bucket', { route: 'm-ok', le: '+Inf' })).toBe(
      10,
    );
    expect(sumOf(samples, 'portcullis_upstream_duration_seconds_sum', { route: 'm-ok' })).toBeGreaterThan(0);
    // Buckets are cumulative.
    const buckets = samplesOf(samples, 'portcullis_upstream_duration_seconds_bucket', { route: 'm-ok' })
      .map((s) => ({ le: s.labels.le === '+Inf' ? Infinity : Number(s.labels.le), value: s.value }))
      .sort((a, b) => a.le - b.le);
    expect(buckets.length).toBeGreaterThan(5);
    for (let i = 1; i < buckets.length; i++)
      expect(buckets[i]!.value).toBeGreaterThanOrEqual(buckets[i - 1]!.value);
    // No upstream answered the dead route.
    expect(sumOf(samples, 'portcullis_upstream_duration_seconds_count', { route: 'm-dead' })).toBe(0);
  });

  it('is served as Prometheus text', async () => {
    const res = await proxy.status('/metrics');
    expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(res.text).toMatch(/^# HELP portcullis_http_requests_total /m);
    expect(res.text).toMatch(/^# TYPE portcullis_http_requests_total counter$/m);
  });
});

describe('config metrics', () => {
  it('report the generation, the hash, the load time and the workers', async () => {
    const samples = await eventually(async () => {
      const s = await scrape();
      return sumOf(s, 'portcullis_workers') === 2 ? s : undefined;
    }, 'portcullis_workers 2');
    expect(sumOf(samples, 'portcullis_config_generation')).toBe(1);
    const info = samplesOf(samples, 'portcullis_config_info');
    expect(info).toEqual([
      { name: 'portcullis_config_info', labels: { hash: configHash(config) }, value: 1 },
    ]);
    const loaded = sumOf(samples, 'portcullis_config_last_load_timestamp_seconds');
    expect(loaded).toBeGreaterThan(Date.now() / 1000 - 300);
    expect(loaded).toBeLessThanOrEqual(Date.now() / 1000 + 1);
  });

  it('follow a new config: generation up, the info metric names only the new hash', async () => {
    const next = structuredClone(config);
    next.virtualHosts[0]!.routes[0]!.id = 'm-ok-renamed';
    expect(await proxy.pushOk(next)).toMatchObject({ generation: 2 });
    const samples = await scrape();
    expect(sumOf(samples, 'portcullis_config_generation')).toBe(2);
    expect(samplesOf(samples, 'portcullis_config_info').map((s) => s.labels.hash)).toEqual([
      configHash(next),
    ]);
  });

  it('count rejected pushes', async () => {
    const before = sumOf(await scrape(), 'portcullis_config_rejected_pushes_total');
    const broken = { ...config, upstreams: [] };
    expect((await proxy.push(broken)).status).toBe(400);
    expect(sumOf(await scrape(), 'portcullis_config_rejected_pushes_total')).toBe(before + 1);
    expect((await proxy.push('not json')).status).toBe(400);
    expect(sumOf(await scrape(), 'portcullis_config_rejected_pushes_total')).toBe(before + 2);
    // A rejected push leaves the generation alone.
    expect(sumOf(await scrape(), 'portcullis_config_generation')).toBe(2);
  });
});
