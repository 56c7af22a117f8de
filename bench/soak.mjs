#!/usr/bin/env node
/**
 * `npm run bench`, reliability part (issue 11): the fault-injection cases
 * that held up, kept passing. `portcullis run --workers 2 --manifests DIR`
 * under wrk load for `--duration` seconds while:
 *
 * - churn: an Ingress file is rewritten with a new path every 2 s, and each
 *   new path must be served before the next write;
 * - worker kill: one worker is killed with SIGKILL at 1/3 and at 2/3 of the
 *   run; the primary must replace it with the config in service;
 * - soak: the resident memory of the controller (the `run` process), the
 *   proxy primary and each worker is sampled every 5 s.
 *
 * Checks: no non-2xx answer; socket errors only around the two kills (the
 * requests in flight on a killed worker); every churn edit served; memory
 * of each process at the end within 1.25x of its level after the first
 * third (warm-up). Progress on stderr, Markdown on stdout, JSON in
 * bench/results/soak-latest.json; `--strict` exits 3 when a check fails.
 * See docs/benchmarks.md.
 */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { installCleanup } from './processes.mjs';
import { put, startRun } from './portcullis-run.mjs';
import { findBinary } from './requirements.mjs';
import { writeJson } from './report.mjs';
import { runWrk } from './wrk.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CHURN_EVERY_MS = 2_000;
const SAMPLE_EVERY_MS = 5_000;
const MEMORY_GROWTH_MAX = 1.25;
/** Requests in flight on a killed worker are lost (wrk's 32 connections over 2 workers). */
const SOCKET_ERRORS_PER_KILL_MAX = 32;
const round = (x, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

const ingress = (name, p) => `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: ${name}, namespace: soak }
spec:
  ingressClassName: portcullis
  rules:
    - http:
        paths:
          - { path: ${p}, pathType: Prefix, backend: { service: { name: api, port: { number: 80 } } } }
`;

const cluster = (upstreamPort) => `apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: { name: portcullis }
spec: { controller: portcullis.dev/ingress-controller }
---
apiVersion: v1
kind: Service
metadata: { name: api, namespace: soak }
spec: { ports: [{ name: http, port: 80, targetPort: ${upstreamPort} }] }
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: api-local, namespace: soak, labels: { kubernetes.io/service-name: api } }
addressType: IPv4
ports: [{ name: http, port: ${upstreamPort} }]
endpoints: [{ addresses: [127.0.0.1], conditions: { ready: true } }]
`;

/** Direct children of a process, from /proc (Linux). */
function childrenOf(pid) {
  const found = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The command may contain spaces and parentheses: fields start after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) found.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return found;
}

function rssMiB(pid) {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? round(Number(m[1]) / 1024) : undefined;
  } catch {
    return undefined;
  }
}

function status(port, urlPath) {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, agent: false, timeout: 2000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(0));
  });
}

async function main() {
  const { values } = parseArgs({
    strict: false,
    options: {
      duration: { type: 'string' },
      out: { type: 'string' },
      only: { type: 'string' },
      strict: { type: 'boolean' },
    },
  });
  if (values.only && !values.only.split(',').includes('soak')) {
    console.error('soak benchmark: skipped (--only does not name soak)');
    return;
  }
  if (process.platform !== 'linux' || !findBinary('wrk')) {
    console.error('soak benchmark skipped: needs Linux and wrk; apt-get install wrk');
    return;
  }
  const durationS = Math.max(30, Math.min(3600, Number(values.duration ?? 120) || 120));
  const out = path.resolve(values.out ?? path.join(ROOT, 'bench/results/soak-latest.json'));
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'portcullis-soak-bench-'));
  const shutdown = installCleanup(() => rmSync(tmp, { recursive: true, force: true }));
  setTimeout(
    () => void shutdown(4, `soak benchmark: over ${durationS + 120} s; stopping`),
    (durationS + 120) * 1000,
  ).unref();

  const upstream = http.createServer((_req, res) => res.writeHead(200).end('ok'));
  await new Promise((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const dir = path.join(tmp, 'manifests');
  mkdirSync(dir);
  writeFileSync(path.join(dir, 'cluster.yaml'), cluster(upstream.address().port));
  writeFileSync(path.join(dir, 'load.yaml'), ingress('load', '/load'));
  writeFileSync(path.join(dir, 'churn.yaml'), ingress('churn', '/churn-0'));

  const { child: run, ports } = await startRun({ dir, workers: 2, logFile: path.join(tmp, 'run.log') });
  const httpPort = ports.http;
  const runPid = run.proc.pid;
  const primaryPid = childrenOf(runPid)[0];
  if (!primaryPid) throw new Error('no proxy process under portcullis run');
  const workers = () => childrenOf(primaryPid);

  console.error(`Soak benchmark: ${durationS} s under wrk -c32, churn every 2 s, 2 worker kills`);
  const load = runWrk({ url: `http://127.0.0.1:${httpPort}/load/x`, durationS, connections: 32 });
  const started = Date.now();
  const samples = [];
  const kills = [];
  const churn = { edits: 0, served: 0, slowestMs: 0 };
  const sampler = setInterval(() => {
    const ws = workers();
    samples.push({
      t: round((Date.now() - started) / 1000),
      controller: rssMiB(runPid),
      primary: rssMiB(primaryPid),
      workers: ws.map(rssMiB),
    });
  }, SAMPLE_EVERY_MS);
  const killAt = [durationS / 3, (2 * durationS) / 3].map((s) => started + s * 1000);
  while (Date.now() - started < (durationS - 3) * 1000) {
    const due = killAt.find((t) => Date.now() >= t && !kills.some((k) => k.at === t));
    if (due) {
      const victim = workers()[0];
      process.kill(victim, 'SIGKILL');
      const t0 = Date.now();
      // Replaced, and the replacement serves the current config.
      while (workers().length < 2 || workers().includes(victim)) await sleep(50);
      kills.push({ at: due, pid: victim, replacedAfterMs: Date.now() - t0 });
    }
    churn.edits++;
    const p = `/churn-${churn.edits}`;
    const t = Date.now();
    put(dir, 'churn.yaml', ingress('churn', p));
    while (Date.now() - t < CHURN_EVERY_MS * 5) {
      if ((await status(httpPort, `${p}/x`)) === 200) {
        churn.served++;
        churn.slowestMs = Math.max(churn.slowestMs, Date.now() - t);
        break;
      }
      await sleep(20);
    }
    await sleep(Math.max(0, CHURN_EVERY_MS - (Date.now() - t)));
  }
  const wrk = await load;
  clearInterval(sampler);

  // Memory: the level after the first third (warm) against the last sample.
  const warm = samples.find((s) => s.t >= durationS / 3) ?? samples[0];
  const last = samples.at(-1);
  const growth = (a, b) => (a && b ? round(b / a, 2) : undefined);
  const sum = (xs) => xs.filter(Boolean).reduce((a, b) => a + b, 0);
  const memory = {
    warm,
    last,
    controllerGrowth: growth(warm.controller, last.controller),
    primaryGrowth: growth(warm.primary, last.primary),
    // Workers are replaced by the kills: compare the sum, per worker.
    workersGrowth: growth(sum(warm.workers) / warm.workers.length, sum(last.workers) / last.workers.length),
  };
  const socketErrors = Object.values(wrk.socketErrors).reduce((a, b) => a + b, 0);
  const checks = [
    { name: 'no non-2xx answer', pass: wrk.non2xx === 0, value: wrk.non2xx },
    {
      name: `socket errors <= ${SOCKET_ERRORS_PER_KILL_MAX} per worker kill`,
      pass: socketErrors <= SOCKET_ERRORS_PER_KILL_MAX * kills.length,
      value: socketErrors,
    },
    { name: 'both killed workers replaced', pass: kills.length === 2, value: kills.length },
    {
      name: 'every churn edit served',
      pass: churn.served === churn.edits,
      value: `${churn.served}/${churn.edits}`,
    },
    ...['controller', 'primary', 'workers'].map((k) => ({
      name: `${k} memory at the end <= ${MEMORY_GROWTH_MAX}x its warm level`,
      pass: (memory[`${k}Growth`] ?? Infinity) <= MEMORY_GROWTH_MAX,
      value: memory[`${k}Growth`],
    })),
  ].map((c) => ({ ...c, status: c.pass ? 'PASS' : 'FAIL' }));
  const results = {
    date: new Date().toISOString(),
    node: process.version,
    durationS,
    loadAverage: os.loadavg().map((x) => round(x, 2)),
    wrk,
    kills: kills.map((k) => ({ pid: k.pid, replacedAfterMs: k.replacedAfterMs })),
    churn,
    memory,
    samples,
    checks,
  };
  writeJson(out, results);
  console.log(`\n## Soak (${durationS} s, wrk -c32, 2 workers)\n
| Measure | Value |
| --- | --- |
| Requests (all answered 2xx unless listed) | ${wrk.requests} (${wrk.rps} /s) |
| Non-2xx / socket errors | ${wrk.non2xx} / ${socketErrors} |
| Worker kills, replaced after (ms) | ${kills.map((k) => k.replacedAfterMs).join(', ')} |
| Churn edits served / slowest (ms) | ${churn.served}/${churn.edits} / ${churn.slowestMs} |
| RSS MiB warm → end: controller | ${warm.controller} → ${last.controller} |
| RSS MiB warm → end: proxy primary | ${warm.primary} → ${last.primary} |
| RSS MiB warm → end: workers | ${warm.workers.join(', ')} → ${last.workers.join(', ')} |

${checks.map((c) => `- ${c.status} ${c.name} (${c.value})`).join('\n')}
`);
  upstream.close();
  // Like the other parts: a failed check is reported; --strict makes it the exit status.
  await shutdown(values.strict && !checks.every((c) => c.pass) ? 3 : 0);
}

await main();
