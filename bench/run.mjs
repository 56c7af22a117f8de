#!/usr/bin/env node
/**
 * `npm run bench`: Portcullis against nginx, side by side, in one run.
 *
 * Starts every server the selected scenarios need, checks each with one
 * request, then measures the scenarios round-robin for BENCH_ROUNDS rounds
 * and reports medians. Progress goes to stderr; the Markdown report to
 * stdout; everything to bench/results/latest.json. See docs/benchmarks.md.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runConstantRate } from './constant-rate.mjs';
import { httpGet, installCleanup, parkIfClosing, stopAll } from './processes.mjs';
import { evaluateChecks, median, summarize, toMarkdown, writeJson } from './report.mjs';
import { checkRequirements, findBinary, otherCpus, pinCpus, WRK } from './requirements.mjs';
import { BASELINE, checks, scenarios, servers } from './scenarios.mjs';
import { benchOptions, boundRunTime, fail, positive } from './options.mjs';
import { runWrk } from './wrk.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CONNECTIONS = 64;
/** Share of failed requests above which a round is left out of the medians. */
const MAX_FAILED_SHARE = 0.001;

const HELP = `Usage: node bench/run.mjs [options]      (npm run bench -- [options])

Measures Portcullis against nginx on loopback, side by side, in one run.

Options:
  --only <a,b,...>   run only these scenarios (see --list); scenarios they
                     depend on (the peak a constant-rate run is based on)
                     are added
  --list             list scenarios and exit
  --rounds <n>       rounds per scenario, round-robin      [env BENCH_ROUNDS, 2]
  --duration <s>     measured seconds per run              [env BENCH_DURATION, 10]
  --warmup <s>       unmeasured warm-up seconds per run    [env BENCH_WARMUP, 2]
  --rate <n>         run constant-rate scenarios at n req/s instead of a
                     fraction of a measured peak
  --out <file>       JSON results       [bench/results/latest.json]
  --keep-tmp         keep the temp dir (configs, logs) after the run
  --strict           exit 3 when a target check FAILs
  -h, --help         this help

Needs nginx (Debian package nginx-light) and wrk:  apt-get install -y nginx-light wrk
Portcullis scenarios need a build (npm run build; npm run bench does it).
Constant-rate client: BENCH_GENERATOR=raw (default) or agent (node:http).
The pinned scenarios (portcullis-1w-pinned and the half-peak ones) run the
proxy under taskset on the CPU list BENCH_PIN_CPUS (default: the last CPU)
and the load generator and the upstream on the other CPUs; "none", one CPU
or no taskset runs them unpinned.
Total run time is bounded; override the bound with BENCH_MAX_SECONDS.`;

function options() {
  const { parsed, ...common } = benchOptions(HELP, { rate: { type: 'string' } });
  return {
    ...common,
    rate: parsed.rate === undefined ? undefined : Math.round(positive('rate', parsed.rate)),
    engine: process.env.BENCH_GENERATOR === 'agent' ? 'agent' : 'raw',
    out: path.resolve(parsed.out ?? path.join(ROOT, 'bench/results/latest.json')),
  };
}

/** The selected scenarios, in declared order, with what they depend on. */
function select(only, fixedRate) {
  if (!only) return scenarios;
  const known = new Set(scenarios.map((s) => s.name));
  const unknown = only.filter((n) => !known.has(n));
  if (unknown.length > 0) fail(`unknown scenario(s): ${unknown.join(', ')}; known: ${[...known].join(', ')}`);
  const wanted = new Set(only);
  for (const s of scenarios) {
    if (wanted.has(s.name) && s.rateOf && !fixedRate && !wanted.has(s.rateOf)) {
      console.error(`note: adding '${s.rateOf}': '${s.name}' runs at a fraction of its peak.`);
      wanted.add(s.rateOf);
    }
  }
  return scenarios.filter((s) => wanted.has(s.name));
}

/** Server names needed by the scenarios, dependencies first. */
function neededServers(selected) {
  const order = [];
  const visit = (name) => {
    if (order.includes(name)) return;
    const def = servers[name];
    if (!def) throw new Error(`scenario refers to unknown server '${name}'`);
    for (const dep of def.needs ?? []) visit(dep);
    order.push(name);
  };
  for (const s of selected) visit(s.server);
  return order;
}

function versionOf(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 5000 });
  return `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n')[0] || 'unknown';
}

function loadAverage() {
  const [one, five, fifteen] = os.loadavg().map((x) => Math.round(x * 100) / 100);
  return { one, five, fifteen };
}

/** Share of the last 10 s in which some runnable task waited for a CPU (Linux PSI), if available. */
function cpuPressure() {
  try {
    return Number(/some avg10=([\d.]+)/.exec(readFileSync('/proc/pressure/cpu', 'utf8'))?.[1]);
  } catch {
    return undefined;
  }
}

/** Rotate `list` by `k`: round r starts at a different scenario, so none is always first. */
const rotate = (list, k) => list.map((_, i) => list[(i + k) % list.length]);

const headersFor = (scenario, server) =>
  typeof scenario.headers === 'function' ? scenario.headers(server) : (scenario.headers ?? {});

function defaultProbe(res) {
  if (res.status !== 200) return `expected HTTP 200, got ${res.status}: ${res.body.slice(0, 200)}`;
  if (res.body !== 'ok\n')
    return `expected the upstream's "ok\\n", got ${JSON.stringify(res.body.slice(0, 200))}`;
  return undefined;
}

async function main() {
  const opts = options();
  if (opts.help) return void console.log(HELP);
  if (opts.list) {
    for (const s of scenarios) console.log(`${s.name.padEnd(22)} ${s.label}`);
    return;
  }
  const selected = select(opts.only, opts.rate);
  const serverNames = neededServers(selected);
  const reqs = serverNames.flatMap((n) => servers[n].requires);
  if (selected.some((s) => s.kind === 'throughput')) reqs.unshift(WRK);
  const problems = checkRequirements(reqs, ROOT);
  if (problems.length > 0) fail(`Cannot run the benchmark:\n  ${problems.join('\n  ')}`);

  const tmpDir = mkdtempSync(path.join(os.tmpdir(), 'portcullis-bench-'));
  let keepTmp = opts.keepTmp;
  const shutdown = installCleanup(() => {
    if (keepTmp) console.error(`temp dir kept: ${tmpDir}`);
    else rmSync(tmpDir, { recursive: true, force: true });
  });

  // Bound the whole run: server start-up, every measured and warm-up second, slack.
  const budgetS = boundRunTime(selected.length * opts.rounds, opts, (message) => {
    keepTmp = true;
    shutdown(124, message);
  });

  const proxyCpus = pinCpus();
  const loadCpus = proxyCpus && otherCpus(proxyCpus);
  const pin = loadCpus ? { proxy: proxyCpus, load: loadCpus } : {};
  const info = {
    date: new Date().toISOString(),
    host: os.hostname(),
    cpus: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model,
    loadAverageAtStart: loadAverage(),
    node: process.version,
    nginx: versionOf(findBinary('nginx') ?? 'nginx', ['-v']),
    wrk: versionOf(findBinary('wrk') ?? 'wrk', ['--version']),
    settings: {
      rounds: opts.rounds,
      durationS: opts.durationS,
      warmupS: opts.warmupS,
      connections: CONNECTIONS,
      wrkThreads: 1,
      generator: opts.engine,
      fixedRate: opts.rate,
      pinned: pin.proxy ? { proxy: pin.proxy, load: pin.load } : 'no (unpinned)',
    },
  };
  console.error(
    `Benchmark: ${selected.map((s) => s.name).join(', ')}\n` +
      `${opts.rounds} round(s) x (${opts.warmupS} s warm-up + ${opts.durationS} s), ` +
      `${CONNECTIONS} connections; ${info.cpus} CPUs, load ${Object.values(info.loadAverageAtStart).join(' ')}; ` +
      `bounded to ${budgetS} s; pinned scenarios: ` +
      (pin.proxy ? `proxy on CPU ${pin.proxy}, load and upstream on CPU ${pin.load}` : 'unpinned'),
  );

  // Start servers, dependencies first; a server that fails takes down only its scenarios.
  const running = {};
  const serverErrors = {};
  for (const name of serverNames) {
    const def = servers[name];
    const brokenDep = (def.needs ?? []).find((d) => serverErrors[d]);
    if (brokenDep) {
      serverErrors[name] = `needs ${brokenDep}, which did not start`;
      continue;
    }
    const t = Date.now();
    console.error(`starting ${name}: ${def.label}`);
    try {
      running[name] = await def.start({ tmpDir, root: ROOT, pin }, running);
      console.error(`  ready in ${Date.now() - t} ms at ${running[name].baseUrl}`);
    } catch (err) {
      await parkIfClosing();
      serverErrors[name] = err.message;
      keepTmp = true;
      console.error(`  FAILED: ${err.message}`);
    }
  }

  /** @type {Map<string, import('./report.mjs').ScenarioResult>} */
  const results = new Map(
    selected.map((s) => [s.name, { name: s.name, label: s.label, kind: s.kind, rounds: [], errors: [] }]),
  );
  const ready = [];
  for (const s of selected) {
    const res = results.get(s.name);
    const server = running[s.server];
    if (!server) {
      res.errors.push(`server ${s.server}: ${serverErrors[s.server]}`);
      continue;
    }
    const answer = await httpGet(server.baseUrl + s.path, headersFor(s, server), 5000);
    const problem = 'error' in answer ? answer.error : (s.probe ?? defaultProbe)(answer);
    if (problem) {
      res.errors.push(`probe ${server.baseUrl}${s.path}: ${problem}`);
      console.error(`${s.name}: probe failed, skipping: ${problem}`);
      continue;
    }
    ready.push(s);
  }

  // A round where more than 0.1% of requests failed is reported but left out of the
  // medians: a proxy that answers errors fast must not look fast.
  const record = (s, round, measured, note, failed, total) => {
    const res = results.get(s.name);
    const valid = failed <= total * MAX_FAILED_SHARE;
    if (valid) res.rounds.push({ ...measured, load: loadAverage(), cpuPressure: cpuPressure() });
    if (failed > 0)
      res.errors.push(
        `round ${round + 1}: ${failed} of ${total} requests failed${valid ? '' : ' (round excluded)'}`,
      );
    console.error(
      `  round ${round + 1} ${s.name.padEnd(22)} ${Math.round(measured.rps).toString().padStart(7)} req/s` +
        `  p50 ${measured.p50Ms.toFixed(2)} ms  p99 ${measured.p99Ms.toFixed(2)} ms${note}${valid ? '' : ' EXCLUDED'}`,
    );
  };

  // Closed-loop throughput, round-robin.
  const throughput = ready.filter((s) => s.kind === 'throughput');
  for (let round = 0; round < opts.rounds && throughput.length > 0; round++) {
    for (const s of rotate(throughput, round)) {
      const server = running[s.server];
      const target = {
        url: server.baseUrl + s.path,
        headers: headersFor(s, server),
        connections: CONNECTIONS,
        cpuList: s.pinnedLoad ? pin.load : undefined,
      };
      try {
        if (opts.warmupS > 0) await runWrk({ ...target, durationS: opts.warmupS });
        const w = await runWrk({ ...target, durationS: opts.durationS });
        const socketErrors = Object.values(w.socketErrors).reduce((a, b) => a + b, 0);
        const note =
          w.non2xx + socketErrors > 0
            ? `  (${w.non2xx} non-2xx, socket errors ${JSON.stringify(w.socketErrors)})`
            : '';
        const failed = w.non2xx + w.socketErrors.timeout + w.socketErrors.connect;
        record(s, round, { rps: w.rps, p50Ms: w.p50Ms, p99Ms: w.p99Ms, raw: w }, note, failed, w.requests);
      } catch (err) {
        await parkIfClosing();
        results.get(s.name).errors.push(`round ${round + 1}: ${err.message}`);
        console.error(`  round ${round + 1} ${s.name}: ${err.message}`);
      }
    }
  }

  // Open-loop latency at a fraction of a measured peak, round-robin.
  const constant = ready.filter((s) => s.kind === 'constant-rate');
  for (const s of constant) {
    if (opts.rate) {
      results.get(s.name).rate = opts.rate;
      continue;
    }
    const peak = median(results.get(s.rateOf)?.rounds.map((r) => r.rps) ?? []);
    if (Number.isFinite(peak)) results.get(s.name).rate = Math.max(1, Math.round(peak * s.fraction));
    else results.get(s.name).errors.push(`no peak measured for ${s.rateOf}`);
  }
  const paced = constant.filter((s) => results.get(s.name).rate);
  for (let round = 0; round < opts.rounds && paced.length > 0; round++) {
    for (const s of rotate(paced, round)) {
      const server = running[s.server];
      const rate = results.get(s.name).rate;
      try {
        const r = await runConstantRate({
          url: server.baseUrl + s.path,
          headers: headersFor(s, server),
          rate,
          durationS: opts.durationS,
          warmupS: opts.warmupS,
          connections: CONNECTIONS,
          engine: opts.engine,
          cpuList: s.pinnedLoad ? pin.load : undefined,
        });
        const bad = r.non2xx + r.errors;
        const note =
          `  (offered ${rate}/s; dispatch lag p99 ${r.dispatchLag.p99} ms; from-due p99 ${r.fromDue.p99} ms)` +
          (bad > 0 ? ` ${r.non2xx} non-2xx, ${r.errors} errors` : '');
        const measured = { rps: r.achievedRps, p50Ms: r.latency.p50, p99Ms: r.latency.p99, raw: r };
        record(s, round, measured, note, bad, r.sent);
      } catch (err) {
        await parkIfClosing();
        results.get(s.name).errors.push(`round ${round + 1}: ${err.message}`);
        console.error(`  round ${round + 1} ${s.name}: ${err.message}`);
      }
    }
  }

  await stopAll();

  const list = summarize([...results.values()], BASELINE);
  const baselineLabel = scenarios.find((s) => s.name === BASELINE)?.label ?? BASELINE;
  const checkResults = evaluateChecks(checks, list);
  const markdown = toMarkdown(list, checkResults, baselineLabel);
  const errored = list.filter((r) => r.errors.length > 0);
  const notes = errored.map((r) => `- ${r.name}: ${r.errors.join('; ')}`);
  console.log(`\n${markdown}\n`);
  if (notes.length > 0) console.log(`Problems:\n${notes.join('\n')}\n`);

  writeJson(opts.out, { ...info, baseline: BASELINE, scenarios: list, checks: checkResults, markdown });
  console.error(`results written to ${path.relative(process.cwd(), opts.out) || opts.out}`);

  const failedCheck = checkResults.some((c) => c.status === 'FAIL');
  const code = list.some((r) => !r.median) ? 1 : opts.strict && failedCheck ? 3 : 0;
  await shutdown(code);
}

await main();
