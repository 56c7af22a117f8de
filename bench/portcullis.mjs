/**
 * Portcullis proxy processes for the benchmark, and the CompiledConfig they serve.
 *
 * The configs are generated here, directly in the contract's shape
 * (contract/compiled-config.ts, schemaVersion 1), so the benchmark does not
 * depend on the controller. The measured route is the same in every config,
 * so configs differ only in how many other routes the router must skip.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { freePorts, startProcess, waitReady } from './processes.mjs';
import { pinned } from './requirements.mjs';

export const BENCH_HOST = 'bench.local';
/** The route every Portcullis scenario measures, and a request path under it. */
export const MEASURED_INDEX = 5000;
export const MEASURED_PREFIX = `/svc-${MEASURED_INDEX}/api`;
export const MEASURED_PATH = `${MEASURED_PREFIX}/items`;

export const NAMESPACE = 'bench';

/** A CompiledConfig upstream `name` with one loopback target. */
export function benchUpstream(name, port) {
  return {
    name,
    protocol: 'http',
    targets: [{ host: '127.0.0.1', port, weight: 100 }],
    source: { kind: 'Service', namespace: NAMESPACE, name },
  };
}

/** A Prefix route `prefix` of Ingress `name`, to upstream `upstreamName` (also its Service's name). */
export function benchRoute(name, prefix, upstreamName, plugins = []) {
  return {
    id: `${NAMESPACE}.${name}.0`,
    path: prefix,
    pathType: 'Prefix',
    protocols: ['http', 'https'],
    httpsRedirectStatusCode: 426,
    stripPath: false,
    preserveHost: true,
    timeouts: { connectMs: 5_000, readMs: 60_000, writeMs: 60_000 },
    retries: 5,
    upstream: upstreamName,
    service: `${NAMESPACE}/${upstreamName}`,
    plugins,
    source: { kind: 'Ingress', namespace: NAMESPACE, name },
  };
}

/**
 * A CompiledConfig with `routeCount` Prefix routes `/svc-<i>/api`, all on the
 * one virtual host `bench.local` (the hardest case for a per-host match
 * list), each to its own upstream, all pointing at the benchmark's upstream
 * server. The measured route `/svc-5000/api` is always one of them; its
 * near-misses (`/svc-500/api`, `/svc-50000/api`...) are there too when the
 * count allows.
 */
export function benchConfig({ routeCount, upstreamPort }) {
  const indexes = Array.from({ length: routeCount }, (_, i) => i);
  if (!indexes.includes(MEASURED_INDEX)) indexes[indexes.length - 1] = MEASURED_INDEX;
  return {
    schemaVersion: 1,
    certificates: [],
    virtualHosts: [
      { host: BENCH_HOST, routes: indexes.map((i) => benchRoute(`svc-${i}`, `/svc-${i}/api`, `svc-${i}`)) },
    ],
    upstreams: indexes.map((i) => benchUpstream(`svc-${i}`, upstreamPort)),
    plugins: [],
    applications: [],
  };
}

/** Validate a generated config with the contract's own validator, when built. */
async function checkConfig(root, config, name) {
  const validator = path.join(root, 'dist/contract/validate.js');
  if (!existsSync(validator)) return;
  const { validateConfig } = await import(pathToFileURL(validator).href);
  const result = validateConfig(config);
  if (!result.ok) {
    const problems = result.problems.slice(0, 5).map((p) => `  ${p.path}: ${p.message}`);
    throw new Error(
      `${name}: the generated config does not pass contract validation:\n${problems.join('\n')}`,
    );
  }
}

/**
 * Start `node dist/cli/main.js proxy` with the given config and worker count;
 * ready when `GET /readyz` on the status port answers 200. With `cpuList`,
 * the primary and its workers run under `taskset -c` (workers inherit it);
 * `execPath` runs another Node binary, `env` adds environment variables;
 * `runtime` runs another command and entry point instead (bench/bun.mjs: Bun).
 * @returns {Promise<import('./nginx.mjs').RunningServer & { statusPort: number, pid: number | undefined }>}
 */
export async function startPortcullis(
  ctx,
  { name, config, workers, readyTimeoutMs = 60_000, cpuList, execPath = process.execPath, env = {}, runtime },
) {
  const dir = path.join(ctx.tmpDir, name);
  const stateDir = path.join(dir, 'state');
  mkdirSync(stateDir, { recursive: true });
  await checkConfig(ctx.root, config, name);
  const configFile = path.join(dir, 'config.json');
  writeFileSync(configFile, JSON.stringify(config));
  const [httpPort, httpsPort, adminPort, statusPort] = await freePorts(4);
  const args = [
    ...(runtime?.args ?? [path.join(ctx.root, 'dist/cli/main.js')]),
    'proxy',
    '--address',
    '127.0.0.1',
    '--status-address',
    '127.0.0.1',
    '--config',
    configFile,
    '--http-port',
    String(httpPort),
    '--https-port',
    String(httpsPort),
    '--admin-port',
    String(adminPort),
    '--status-port',
    String(statusPort),
    '--workers',
    String(workers),
    '--allow-unauthenticated-admin',
    '--state-dir',
    stateDir,
  ];
  const cmd = pinned(cpuList, runtime?.command ?? execPath, args);
  const child = startProcess(name, cmd.command, cmd.args, {
    cwd: ctx.root,
    logFile: path.join(dir, 'output.log'),
    env: { ...process.env, NODE_ENV: 'production', ...env },
  });
  try {
    await waitReady(child, `http://127.0.0.1:${statusPort}/readyz`, { timeoutMs: readyTimeoutMs });
  } catch (err) {
    await child.stop();
    throw err;
  }
  return {
    name,
    baseUrl: `http://127.0.0.1:${httpPort}`,
    port: httpPort,
    statusPort,
    pid: child.proc.pid,
    stop: () => child.stop(),
  };
}

/**
 * Start bench/node-floor-server.mjs: a minimal fastify + undici proxy to the
 * upstream, the runtime's own ceiling for this benchmark.
 * @returns {Promise<import('./nginx.mjs').RunningServer>}
 */
export async function startNodeFloor(ctx, { upstreamPort }) {
  const dir = path.join(ctx.tmpDir, 'node-floor');
  mkdirSync(dir, { recursive: true });
  const [port] = await freePorts(1);
  const child = startProcess(
    'node-floor',
    process.execPath,
    [path.join(ctx.root, 'bench/node-floor-server.mjs'), String(port), String(upstreamPort)],
    {
      cwd: ctx.root,
      logFile: path.join(dir, 'output.log'),
      env: { ...process.env, NODE_ENV: 'production' },
    },
  );
  try {
    await waitReady(child, `http://127.0.0.1:${port}/__ready`);
  } catch (err) {
    await child.stop();
    throw err;
  }
  return { name: 'node-floor', baseUrl: `http://127.0.0.1:${port}`, port, stop: () => child.stop() };
}
