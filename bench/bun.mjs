#!/usr/bin/env node
/**
 * Portcullis on Bun against Portcullis on Node, side by side in one run
 * (issue 15, "Below the Node floor: Bun"; docs/benchmarks.md, "Bun").
 *
 * Servers, all to one nginx upstream: nginx proxy; the Node and Bun floors
 * (minimal proxies); Portcullis on Node (1 worker); the same build on Bun
 * (fastify on Bun's node:http, bench/bun-runtime.mjs); and the experimental
 * Bun.serve path behind Portcullis's route table (bench/bun-serve-proxy.mjs).
 * wrk closed loop, round-robin, medians. Needs Bun: BUN=/path/to/bun.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bunDist, findBun } from './bun-runtime.mjs';
import { startNginxProxy, startNginxUpstream } from './nginx.mjs';
import { startIdp } from './oidc-idp.mjs';
import { benchOptions, boundRunTime, fail, positive } from './options.mjs';
import {
  BENCH_HOST,
  MEASURED_PATH,
  NAMESPACE,
  benchConfig,
  startNodeFloor,
  startPortcullis,
} from './portcullis.mjs';
import {
  freePorts,
  httpGet,
  installCleanup,
  parkIfClosing,
  startProcess,
  stopAll,
  waitReady,
} from './processes.mjs';
import { median } from './report.mjs';
import { checkRequirements, NGINX, PORTCULLIS, WRK } from './requirements.mjs';
import { runWrk } from './wrk.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BASELINE = 'portcullis-node';

const HELP = `Usage: BUN=/path/to/bun node bench/bun.mjs [options]

Options: --only <a,b>  --rounds <n> [3]  --duration <s> [5]  --warmup <s> [2]
         --connections <n> [32]  --keep-tmp  -h
Scenarios: nginx, node-floor, bun-floor, portcullis-node, portcullis-bun, bun-serve,
           portcullis-node-jwt, portcullis-bun-jwt (an RS256 bearer route, bench/oidc.mjs's)`;

/** A Bun script on `port`, ready when `readyPath` answers 200. */
async function startBunScript(ctx, bun, name, args, port, readyPath, headers = {}) {
  const dir = path.join(ctx.tmpDir, name);
  mkdirSync(dir, { recursive: true });
  const child = startProcess(name, bun, args, {
    cwd: ROOT,
    logFile: path.join(dir, 'output.log'),
    env: { ...process.env, NODE_ENV: 'production' },
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  try {
    await waitReady(child, baseUrl + readyPath, { headers });
  } catch (err) {
    await child.stop();
    throw err;
  }
  return { name, baseUrl, port, stop: () => child.stop() };
}

/** The measured route behind an openid-connect bearer plugin (RS256, as in bench/oidc.mjs). */
function jwtConfig(upstream, issuer) {
  const config = benchConfig({ routeCount: 1, upstreamPort: upstream.port });
  const id = `${NAMESPACE}/oidc-bearer`;
  config.virtualHosts[0].routes[0].plugins = [id];
  config.plugins = [
    {
      id,
      name: 'openid-connect',
      config: { issuer, auth_methods: ['bearer'] },
      source: { kind: 'KongPlugin', namespace: NAMESPACE, name: 'oidc-bearer' },
    },
  ];
  return config;
}

/** Server starters by scenario name (the upstream is started first, for all). */
function starters(bun, distEntry, idp) {
  const config = (upstream) => benchConfig({ routeCount: 1, upstreamPort: upstream.port });
  const onBun = { command: bun, args: ['--preload', path.join(ROOT, 'bench/bun-preload.mjs'), distEntry] };
  return {
    nginx: (ctx, up) => startNginxProxy(ctx, { upstreamPort: up.port, host: BENCH_HOST }),
    'node-floor': (ctx, up) => startNodeFloor(ctx, { upstreamPort: up.port }),
    'bun-floor': async (ctx, up) => {
      const [port] = await freePorts(1);
      const args = [path.join(ROOT, 'bench/bun-floor-server.mjs'), String(port), String(up.port)];
      return startBunScript(ctx, bun, 'bun-floor', args, port, '/__ready');
    },
    'portcullis-node': (ctx, up) =>
      startPortcullis(ctx, { name: 'portcullis-node', workers: 1, config: config(up) }),
    'portcullis-bun': (ctx, up) =>
      startPortcullis(ctx, {
        name: 'portcullis-bun',
        workers: 1,
        config: config(up),
        runtime: onBun,
      }),
    'bun-serve': async (ctx, up) => {
      const [port] = await freePorts(1);
      const file = path.join(ctx.tmpDir, 'bun-serve-config.json');
      writeFileSync(file, JSON.stringify(config(up)));
      const args = [
        path.join(ROOT, 'bench/bun-serve-proxy.mjs'),
        path.dirname(path.dirname(distEntry)),
        file,
        String(port),
      ];
      return startBunScript(ctx, bun, 'bun-serve', args, port, MEASURED_PATH, { Host: BENCH_HOST });
    },
    'portcullis-node-jwt': (ctx, up) =>
      startPortcullis(ctx, { name: 'portcullis-node-jwt', workers: 1, config: jwtConfig(up, idp.issuer) }),
    'portcullis-bun-jwt': (ctx, up) =>
      startPortcullis(ctx, {
        name: 'portcullis-bun-jwt',
        workers: 1,
        config: jwtConfig(up, idp.issuer),
        runtime: onBun,
      }),
  };
}

async function main() {
  const { parsed, ...opts } = benchOptions(HELP, { connections: { type: 'string' } });
  if (opts.help) return void console.log(HELP);
  const rounds = parsed.rounds === undefined && !process.env.BENCH_ROUNDS ? 3 : opts.rounds;
  const durationS = parsed.duration === undefined && !process.env.BENCH_DURATION ? 5 : opts.durationS;
  const connections = Math.round(positive('connections', parsed.connections, 32));
  const bun = findBun();
  if (!bun) fail('Bun not found: set BUN=/path/to/bun (see docs/benchmarks.md, "Bun").');
  const problems = checkRequirements([WRK, NGINX, PORTCULLIS], ROOT);
  if (problems.length > 0) fail(`Cannot run the benchmark:\n  ${problems.join('\n  ')}`);

  const tmpDir = mkdtempSync(path.join(os.tmpdir(), 'portcullis-bench-bun-'));
  // The IdP fixture runs in this process; only its JWKS is fetched, once per proxy.
  const idp = await startIdp();
  const shutdown = installCleanup(async () => {
    await idp.close();
    if (opts.keepTmp) console.error(`temp dir kept: ${tmpDir}`);
    else rmSync(tmpDir, { recursive: true, force: true });
  });
  const bearer = await idp.sign({}, { expiresInS: 3 * 3600 });
  const headersFor = (name, token = bearer) =>
    name.endsWith('-jwt') ? { Host: BENCH_HOST, Authorization: `Bearer ${token}` } : { Host: BENCH_HOST };
  const start = starters(bun.command, bunDist(ROOT, path.join(tmpDir, 'bun-build')), idp);
  const names = opts.only ?? Object.keys(start);
  const unknown = names.filter((n) => !start[n]);
  if (unknown.length > 0) fail(`unknown scenario(s): ${unknown.join(', ')}\n\n${HELP}`);
  boundRunTime(names.length * rounds, { durationS, warmupS: opts.warmupS }, (m) => shutdown(124, m));
  const load = () =>
    os
      .loadavg()
      .map((x) => x.toFixed(2))
      .join(' ');
  console.error(
    `node ${process.version}, bun ${bun.version}; ${rounds} x (${opts.warmupS} + ${durationS} s), -t1 -c${connections}; load ${load()}`,
  );

  const ctx = { tmpDir, root: ROOT };
  const upstream = await startNginxUpstream(ctx);
  const running = {};
  const results = {};
  for (const name of names) {
    results[name] = { rps: [], p50: [], p99: [], errors: [] };
    try {
      running[name] = await start[name](ctx, upstream);
      const url = running[name].baseUrl + MEASURED_PATH;
      const probe = await httpGet(url, headersFor(name), 5000);
      if (probe.status !== 200 || probe.body !== 'ok\n')
        throw new Error(`probe: ${JSON.stringify(probe).slice(0, 200)}`);
      if (name.endsWith('-jwt')) {
        // A route that lets a foreign-key token through measures nothing.
        const forged = await idp.sign({}, { key: 'foreign' });
        const refused = await httpGet(url, headersFor(name, forged), 5000);
        if (refused.status !== 401)
          throw new Error(`a forged token got ${refused.status ?? refused.error}, not 401`);
      }
    } catch (err) {
      await parkIfClosing();
      results[name].errors.push(err.message.split('\n')[0]);
      delete running[name];
      console.error(`${name}: ${err.message}`);
    }
  }
  const ready = names.filter((n) => running[n]);
  for (let round = 0; round < rounds; round++) {
    // Rotated, so that no scenario always runs first.
    for (const name of ready.map((_, i) => ready[(i + round) % ready.length])) {
      const target = {
        url: running[name].baseUrl + MEASURED_PATH,
        headers: headersFor(name),
        connections,
      };
      if (opts.warmupS > 0) await runWrk({ ...target, durationS: opts.warmupS });
      const w = await runWrk({ ...target, durationS });
      const failed = w.non2xx + w.socketErrors.timeout + w.socketErrors.connect;
      if (failed > 0) results[name].errors.push(`round ${round + 1}: ${failed} failed`);
      else {
        results[name].rps.push(w.rps);
        results[name].p50.push(w.p50Ms);
        results[name].p99.push(w.p99Ms);
      }
      console.error(
        `  round ${round + 1} ${name.padEnd(16)} ${Math.round(w.rps).toString().padStart(7)} req/s  p99 ${w.p99Ms.toFixed(2)} ms`,
      );
    }
  }
  await stopAll();

  // The bearer routes compare with Portcullis on Node on the same route.
  const baseOf = (name) =>
    median(results[name.endsWith('-jwt') ? 'portcullis-node-jwt' : BASELINE]?.rps ?? []);
  const rows = names.map((name) => {
    const r = results[name];
    const rps = median(r.rps);
    const base = baseOf(name);
    const ratio = Number.isFinite(base) && Number.isFinite(rps) ? `${(rps / base).toFixed(2)}x` : 'n/a';
    const cell = (v, d) => (Number.isFinite(v) ? v.toFixed(d) : 'n/a');
    return `| ${name} | ${cell(rps, 0)} | ${ratio} | ${cell(median(r.p50), 2)} | ${cell(median(r.p99), 2)} | ${r.errors.join('; ')} |`;
  });
  console.log(
    `\nnode ${process.version}, bun ${bun.version}, load at end ${load()}\n\n` +
      `| scenario | req/s (median) | vs Portcullis on Node (same route) | p50 ms | p99 ms | problems |\n|---|---|---|---|---|---|\n` +
      rows.join('\n'),
  );
  await shutdown(0);
}

await main();
