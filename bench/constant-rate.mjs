/**
 * An open-loop, constant-rate HTTP load generator, for latency at a fixed
 * fraction of peak throughput (what wrk2's `-R` does; Debian's wrk has no `-R`).
 *
 * Run as a separate process so it never shares an event loop with the harness:
 *
 *   node bench/constant-rate.mjs '{"url":"http://127.0.0.1:8080/p","headers":{},
 *     "rate":5000,"durationS":10,"warmupS":2,"connections":64}'
 *
 * It prints one JSON line with the result.
 *
 * How it works. Request i of a phase is due at t0 + i/rate. A timer loop wakes
 * up (Node timers have ~1 ms resolution) and dispatches every request that is
 * due, so the rate is exact on average and requests go out in small bursts of
 * about rate/1000. Sending never waits for earlier responses (open loop), so a
 * slow server cannot slow the generator down and hide its own slowness
 * ("coordinated omission"). Requests go over at most `connections` keep-alive
 * connections, one request at a time on each; when all are busy, requests
 * wait in a queue and that wait counts in their latency.
 *
 * Two clients: `raw` (default), the minimal client of http-client.mjs, and
 * `agent`, Node's `http.request` with a keep-alive `http.Agent`, several times
 * heavier per request (option "engine", or BENCH_GENERATOR=agent in the
 * harness). The generator-floor scenario runs the same generator against the
 * bare upstream, to show what the generator and loopback cost by themselves.
 *
 * Two latencies are kept per request, both in milliseconds:
 * - `latency`: from dispatch (handing the request to the client) to the end
 *   of the response. This is the reported figure.
 * - `fromDue`: from the time the request was due to the end of the response.
 *   It adds the generator's own timer granularity and any pause of its event
 *   loop, so it is an upper bound. `dispatchLag` (due -> dispatch) is reported
 *   so that a generator that could not keep up is visible.
 * Only 2xx responses are counted in the latencies. Percentiles are exact:
 * every sample is kept and sorted.
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { setTimeout } from 'node:timers';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { createPool, encodeGet } from './http-client.mjs';
import { startProcess } from './processes.mjs';
import { pinned } from './requirements.mjs';

/**
 * @typedef {object} RateResult
 * @property {number} rate          requested rate (req/s)
 * @property {string} engine
 * @property {number} achievedRps   2xx responses / measured wall time
 * @property {number} sent
 * @property {number} ok            2xx responses
 * @property {number} non2xx
 * @property {number} errors        socket errors, timeouts, never answered
 * @property {{p50: number, p90: number, p99: number, p999: number, max: number}} latency
 * @property {{p50: number, p99: number, max: number}} fromDue
 * @property {{p50: number, p99: number, max: number}} dispatchLag
 */

/** Exact percentile of an ascending-sorted array (nearest rank). */
export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

/**
 * Harness side: run the generator in a child process; bounded in time.
 * @param {{url: string, headers: Record<string, string>, rate: number, durationS: number,
 *   warmupS: number, connections: number, engine?: 'raw' | 'agent', cpuList?: string}} opts
 *   cpuList: run the generator under taskset on these CPUs
 * @returns {Promise<RateResult>}
 */
export async function runConstantRate({ cpuList, ...opts }) {
  const self = fileURLToPath(import.meta.url);
  const cmd = pinned(cpuList, process.execPath, [self, JSON.stringify(opts)]);
  const child = startProcess('constant-rate', cmd.command, cmd.args, { capture: true });
  const limitS = opts.durationS + opts.warmupS + 20;
  const limit = sleep(limitS * 1000).then(() => 'timeout');
  const outcome = await Promise.race([child.exited, limit]);
  if (outcome === 'timeout') {
    await child.stop();
    throw new Error(`constant-rate generator did not finish within ${limitS} s`);
  }
  const out = child.output();
  const line = out.trim().split('\n').at(-1) ?? '';
  if (outcome.code !== 0 || !line.startsWith('{')) {
    throw new Error(`constant-rate generator failed (code ${outcome.code}):\n${out}`);
  }
  return JSON.parse(line);
}

/** A client with `send(done)`, calling `done(status)` once (0: error). */
function makeClient(o) {
  const url = new URL(o.url);
  const headers = o.headers ?? {};
  const connections = o.connections ?? 64;
  const timeoutMs = o.timeoutMs ?? 5000;
  if ((o.engine ?? 'raw') === 'raw') {
    const request = encodeGet(url, headers);
    return createPool({ host: url.hostname, port: Number(url.port || 80), connections, request, timeoutMs });
  }
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections, scheduling: 'lifo' });
  return {
    send(done) {
      let settled = false;
      const settle = (status) => {
        if (settled) return;
        settled = true;
        done(status);
      };
      const req = http.request(
        { agent, hostname: url.hostname, port: url.port, path: url.pathname + url.search, headers },
        (res) => {
          res.on('end', () => settle(res.statusCode ?? 0));
          res.on('error', () => settle(0));
          res.resume();
        },
      );
      req.setTimeout(timeoutMs, () => req.destroy(new Error('timeout')));
      req.on('error', () => settle(0));
      req.end();
    },
    close: () => agent.destroy(),
  };
}

/** Generator side: one phase of `seconds` at `rate`; resolves with raw samples. */
function phase({ client, rate, seconds, timeoutMs }) {
  const total = Math.max(1, Math.round(rate * seconds));
  const interval = 1000 / rate;
  const latency = new Float64Array(total);
  const fromDue = new Float64Array(total);
  const lag = new Float64Array(total);
  const counts = { sent: 0, ok: 0, non2xx: 0, errors: 0, done: 0 };
  let recorded = 0;
  let finish;
  const finished = new Promise((resolve) => (finish = resolve));
  const t0 = performance.now();

  const send = (due) => {
    const dispatched = performance.now();
    lag[counts.sent++] = dispatched - due;
    client.send((status) => {
      const end = performance.now();
      if (status >= 200 && status < 300) {
        counts.ok++;
        latency[recorded] = end - dispatched;
        fromDue[recorded] = end - due;
        recorded++;
      } else if (status > 0) counts.non2xx++;
      else counts.errors++;
      if (++counts.done === total) finish(end);
    });
  };

  const tick = () => {
    const now = performance.now();
    while (counts.sent < total && t0 + counts.sent * interval <= now) send(t0 + counts.sent * interval);
    if (counts.sent < total) setTimeout(tick, Math.max(0, t0 + counts.sent * interval - performance.now()));
  };
  tick();

  const deadline = sleep(seconds * 1000 + timeoutMs + 2000).then(() => performance.now());
  return Promise.race([finished, deadline]).then((end) => ({
    counts,
    seconds: (end - t0) / 1000,
    latency: latency.subarray(0, recorded).sort(),
    fromDue: fromDue.subarray(0, recorded).sort(),
    lag: lag.subarray(0, counts.sent).sort(),
  }));
}

async function main() {
  const o = JSON.parse(process.argv[2] ?? '{}');
  if (!o.url || !(o.rate > 0) || !(o.durationS > 0)) {
    console.error(
      'usage: node bench/constant-rate.mjs \'{"url":..., "rate":N, "durationS":N, "warmupS":N}\'',
    );
    process.exit(2);
  }
  const client = makeClient(o);
  const common = { client, rate: o.rate, timeoutMs: o.timeoutMs ?? 5000 };
  if (o.warmupS > 0) await phase({ ...common, seconds: o.warmupS });
  const r = await phase({ ...common, seconds: o.durationS });
  const ms = (v) => Math.round(v * 1000) / 1000;
  const three = (a) => ({ p50: ms(percentile(a, 50)), p99: ms(percentile(a, 99)), max: ms(a.at(-1) ?? NaN) });
  /** @type {RateResult} */
  const result = {
    rate: o.rate,
    engine: o.engine ?? 'raw',
    achievedRps: Math.round(r.counts.ok / r.seconds),
    sent: r.counts.sent,
    ok: r.counts.ok,
    non2xx: r.counts.non2xx,
    errors: r.counts.errors + (r.counts.sent - r.counts.done),
    latency: {
      p50: ms(percentile(r.latency, 50)),
      p90: ms(percentile(r.latency, 90)),
      p99: ms(percentile(r.latency, 99)),
      p999: ms(percentile(r.latency, 99.9)),
      max: ms(r.latency.at(-1) ?? NaN),
    },
    fromDue: three(r.fromDue),
    dispatchLag: three(r.lag),
  };
  console.log(JSON.stringify(result));
  client.close();
  process.exit(0);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
