#!/usr/bin/env node
/**
 * Where Portcullis's tail latency comes from, and how work spreads over its
 * workers (issue 15). Not a pass/fail benchmark: a diagnosis, side by side.
 *
 * Starts the nginx upstream, the nginx proxy (reference) and Portcullis with
 * bench/worker-probe.cjs preloaded in its primary and workers, then, round
 * by round:
 * - constant rate (bench/constant-rate.mjs) against the upstream (the load
 *   generator's floor), the nginx proxy and Portcullis at the same rate;
 * - with --wrk, also closed-loop wrk against Portcullis (the spread of
 *   connections and requests at full load).
 * For Portcullis each measured run is framed by SIGUSR2 to its process
 * group, so the probe reports exactly those seconds per process: requests,
 * connections, CPU, GC pauses (count, share of wall time, longest) and
 * event-loop delay.
 *
 * Progress on stderr, the Markdown report on stdout, JSON with --out.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runConstantRate } from './constant-rate.mjs';
import { startNginxProxy, startNginxUpstream } from './nginx.mjs';
import { BENCH_HOST, MEASURED_PATH, benchConfig, startPortcullis } from './portcullis.mjs';
import { installCleanup, stopAll } from './processes.mjs';
import { median } from './report.mjs';
import { benchOptions, boundRunTime, fail, positive } from './options.mjs';
import { checkRequirements, NGINX, PORTCULLIS, WRK } from './requirements.mjs';
import { runWrk } from './wrk.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const PROBE = pathToFileURL(path.join(ROOT, 'bench/worker-probe.mjs')).href;
const CONNECTIONS = 64;

const HELP = `Usage: node bench/tail.mjs [options]

Latency at a constant rate for the upstream (generator floor), the nginx
proxy and Portcullis, with GC, event-loop delay, CPU and requests per
process of Portcullis from a preloaded probe.

Options:
  --rate <n>          constant rate, req/s [default: half of Portcullis's wrk peak, measured first]
  --workers <n>       Portcullis workers                    [1]
  --node <path>       Node binary for Portcullis            [this one]
  --node-options <s>  extra NODE_OPTIONS for Portcullis (e.g. --max-semi-space-size=64)
  --wrk               also measure Portcullis closed-loop with wrk -c${CONNECTIONS}
  --cpu-profile <dir> write each worker's V8 CPU profile of every measured run
                      there, and report the top functions by self time
  --rounds <n>        rounds, round-robin                   [env BENCH_ROUNDS, 2]
  --duration <s>      measured seconds per run              [env BENCH_DURATION, 10]
  --warmup <s>        unmeasured seconds per run            [env BENCH_WARMUP, 2]
  --out <file>        also write the results as JSON
  -h, --help          this help`;

function options() {
  const { parsed, ...common } = benchOptions(HELP, {
    rate: { type: 'string' },
    workers: { type: 'string' },
    node: { type: 'string' },
    'node-options': { type: 'string' },
    wrk: { type: 'boolean' },
    'cpu-profile': { type: 'string' },
  });
  return {
    ...common,
    rate: parsed.rate === undefined ? undefined : Math.round(positive('rate', parsed.rate)),
    workers: Math.round(positive('workers', parsed.workers, 1)),
    node: parsed.node ? path.resolve(parsed.node) : process.execPath,
    nodeOptions: parsed['node-options'] ?? '',
    wrk: parsed.wrk ?? false,
    cpuProfile: parsed['cpu-profile'] ? path.resolve(parsed['cpu-profile']) : undefined,
    out: parsed.out ? path.resolve(parsed.out) : undefined,
  };
}

/** SIGUSR2 to Portcullis's process group, then the probe's newest line per process. */
async function probeCut(pid, probeDir) {
  process.kill(-pid, 'SIGUSR2');
  await sleep(300);
  const lines = [];
  for (const f of readdirSync(probeDir).filter((n) => n.endsWith('.jsonl'))) {
    const last = readFileSync(path.join(probeDir, f), 'utf8').trim().split('\n').at(-1);
    if (last) lines.push(JSON.parse(last));
  }
  return lines.sort((a, b) => a.role.localeCompare(b.role));
}

/**
 * Copy the measured runs' CPU profiles (every second cut: the odd ones are
 * warm-ups) to `outDir` and sum self time per function over them.
 */
function profileSummary(probeDir, outDir) {
  mkdirSync(outDir, { recursive: true });
  const self = new Map();
  let total = 0;
  const files = readdirSync(probeDir).filter((n) => /-\d*[02468]\.cpuprofile$/.test(n));
  for (const f of files) {
    const text = readFileSync(path.join(probeDir, f), 'utf8');
    writeFileSync(path.join(outDir, f), text);
    const profile = JSON.parse(text);
    const dt = new Map();
    // Time per sample: the gap to the next one (timeDeltas[i] precedes samples[i]).
    profile.samples.forEach((id, i) => dt.set(id, (dt.get(id) ?? 0) + (profile.timeDeltas[i + 1] ?? 0)));
    for (const node of profile.nodes) {
      const us = dt.get(node.id) ?? 0;
      const { functionName, url, lineNumber } = node.callFrame;
      const where = url
        ? `${url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/dist\//, 'dist/')}:${lineNumber + 1}`
        : '';
      const key = `${functionName || '(anonymous)'} ${where}`.trim();
      self.set(key, (self.get(key) ?? 0) + us);
      total += us;
    }
  }
  const top = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, 20);
  return [
    `CPU profiles of the measured runs (${files.length}) in ${outDir}; top functions by self time:`,
    '',
    '| Function | self time | share |',
    '| --- | ---: | ---: |',
    ...top.map(([k, us]) => `| \`${k}\` | ${fmt(us / 1000, 0)} ms | ${fmt((100 * us) / total, 1)}% |`),
  ];
}

const fmt = (v, d = 2) => (Number.isFinite(v) ? v.toFixed(d) : '-');

async function main() {
  const opts = options();
  if (opts.help) return void console.log(HELP);
  const problems = checkRequirements([NGINX, WRK, PORTCULLIS], ROOT);
  if (problems.length > 0) fail(`Cannot run bench/tail.mjs:\n  ${problems.join('\n  ')}`);
  const tmpDir = mkdtempSync(path.join(os.tmpdir(), 'portcullis-bench-tail-'));
  const shutdown = installCleanup(() => rmSync(tmpDir, { recursive: true, force: true }));
  boundRunTime(opts.rounds * (opts.wrk ? 4 : 3) + 1, opts, (m) => shutdown(124, m));
  const probeDir = path.join(tmpDir, 'probe');
  mkdirSync(probeDir);

  const ctx = { tmpDir, root: ROOT };
  const upstream = await startNginxUpstream(ctx);
  const nginx = await startNginxProxy(ctx, { upstreamPort: upstream.port, host: BENCH_HOST });
  const portcullis = await startPortcullis(ctx, {
    name: 'portcullis-tail',
    workers: opts.workers,
    execPath: opts.node,
    config: benchConfig({ routeCount: 1, upstreamPort: upstream.port }),
    env: {
      NODE_OPTIONS: `--import=${PROBE} ${opts.nodeOptions}`.trim(),
      PORTCULLIS_PROBE_DIR: probeDir,
      ...(opts.cpuProfile && { PORTCULLIS_PROBE_CPU_PROFILE: '1' }),
    },
  });
  const nodeVersion = spawnSync(opts.node, ['--version'], { encoding: 'utf8' }).stdout.trim();
  const load = () => os.loadavg().map((x) => x.toFixed(2));
  console.error(
    `Portcullis ${opts.workers} worker(s) on Node ${nodeVersion}` +
      `${opts.nodeOptions ? ` (${opts.nodeOptions})` : ''}; load ${load().join(' ')}`,
  );
  const headers = { Host: BENCH_HOST };
  const targets = [
    { name: 'upstream', label: 'upstream direct (generator floor)', url: upstream.baseUrl },
    { name: 'nginx', label: 'nginx proxy, 1 worker', url: nginx.baseUrl },
    { name: 'portcullis', label: `Portcullis, ${opts.workers} worker(s)`, url: portcullis.baseUrl },
  ];

  let rate = opts.rate;
  if (!rate) {
    const w = await runWrk({
      url: portcullis.baseUrl + MEASURED_PATH,
      headers,
      durationS: opts.durationS,
      connections: CONNECTIONS,
    });
    rate = Math.round(w.rps / 2);
    console.error(
      `Portcullis peak ${Math.round(w.rps)} req/s (wrk -c${CONNECTIONS}); constant rate ${rate}/s`,
    );
  }

  /** @type {Record<string, { runs: object[], probes: object[][] }>} */
  const results = Object.fromEntries(
    [...targets.map((t) => t.name), 'portcullis-wrk'].map((n) => [n, { runs: [], probes: [] }]),
  );
  for (let round = 0; round < opts.rounds; round++) {
    const order = targets.map((_, i) => targets[(i + round) % targets.length]);
    for (const t of order) {
      const run = { url: t.url + MEASURED_PATH, headers, rate, connections: CONNECTIONS };
      if (opts.warmupS > 0) await runConstantRate({ ...run, durationS: opts.warmupS, warmupS: 0 });
      if (t.name === 'portcullis') await probeCut(portcullis.pid, probeDir);
      const r = await runConstantRate({ ...run, durationS: opts.durationS, warmupS: 0 });
      results[t.name].runs.push(r);
      if (t.name === 'portcullis') results[t.name].probes.push(await probeCut(portcullis.pid, probeDir));
      console.error(
        `  round ${round + 1} ${t.name.padEnd(10)} ${r.achievedRps}/s  p50 ${r.latency.p50}  p99 ${r.latency.p99}` +
          `  p99.9 ${r.latency.p999}  max ${r.latency.max} ms  (dispatch lag p99 ${r.dispatchLag.p99} ms; ` +
          `${r.non2xx + r.errors} failed)  load ${load()[0]}`,
      );
    }
    if (opts.wrk) {
      const target = { url: portcullis.baseUrl + MEASURED_PATH, headers, connections: CONNECTIONS };
      if (opts.warmupS > 0) await runWrk({ ...target, durationS: opts.warmupS });
      await probeCut(portcullis.pid, probeDir);
      const w = await runWrk({ ...target, durationS: opts.durationS });
      results['portcullis-wrk'].runs.push(w);
      results['portcullis-wrk'].probes.push(await probeCut(portcullis.pid, probeDir));
      console.error(
        `  round ${round + 1} wrk        ${Math.round(w.rps)} req/s  p50 ${w.p50Ms} ms  p99 ${w.p99Ms} ms`,
      );
    }
  }
  await stopAll();

  const lines = [
    `Constant rate ${rate} req/s, ${CONNECTIONS} connections, ${opts.rounds} x ${opts.durationS} s; ` +
      `Portcullis ${opts.workers} worker(s), Node ${nodeVersion}${opts.nodeOptions ? `, ${opts.nodeOptions}` : ''}; ` +
      `load at the end ${load().join(' ')}.`,
    '',
    '| Target | p50 | p90 | p99 | p99.9 | max | generator dispatch lag p99 |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  const med = (runs, f) => median(runs.map(f));
  for (const t of targets) {
    const runs = results[t.name].runs;
    lines.push(
      `| ${t.label} | ${fmt(med(runs, (r) => r.latency.p50))} ms | ${fmt(med(runs, (r) => r.latency.p90))} ms | ` +
        `${fmt(med(runs, (r) => r.latency.p99))} ms | ${fmt(med(runs, (r) => r.latency.p999))} ms | ` +
        `${fmt(med(runs, (r) => r.latency.max))} ms | ${fmt(med(runs, (r) => r.dispatchLag.p99))} ms |`,
    );
  }
  lines.push(
    '',
    '| Portcullis process (load) | requests | connections | CPU | GC pauses | GC share of wall time | longest GC | loop delay p99 | loop delay max |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  );
  for (const [name, what] of [
    ['portcullis', 'constant rate'],
    ['portcullis-wrk', 'wrk'],
  ]) {
    for (const [i, probe] of results[name].probes.entries()) {
      for (const p of probe) {
        lines.push(
          `| ${p.role} (${what}, round ${i + 1}) | ${p.requests} | ${p.connections} | ` +
            `${fmt((100 * p.cpuMs) / p.wallMs, 0)}% | ${p.gc.count} | ${fmt(100 * p.gc.share, 1)}% | ` +
            `${fmt(p.gc.maxMs)} ms | ${fmt(p.loopDelayMs.p99)} ms | ${fmt(p.loopDelayMs.max)} ms |`,
        );
      }
    }
  }
  if (results['portcullis-wrk'].runs.length > 0) {
    const w = results['portcullis-wrk'].runs;
    lines.push(
      '',
      `wrk -c${CONNECTIONS} against Portcullis: ${Math.round(med(w, (r) => r.rps))} req/s (median), ` +
        `p99 ${fmt(med(w, (r) => r.p99Ms))} ms.`,
    );
  }
  if (opts.cpuProfile) lines.push('', ...profileSummary(probeDir, opts.cpuProfile));
  const markdown = lines.join('\n');
  console.log(`\n${markdown}\n`);
  if (opts.out)
    writeFileSync(opts.out, `${JSON.stringify({ rate, opts, nodeVersion, results, markdown }, null, 2)}\n`);
  await shutdown(0);
}

await main();
