/**
 * What the benchmark measures, as data: servers, scenarios, target checks.
 *
 * To add a scenario (say, a bearer-JWT route on Portcullis against HAProxy's
 * `jwt_verify`): add the server(s) it needs to `servers` (a `start` function
 * returning a RunningServer: `{ name, baseUrl, port, stop }`), then a scenario
 * naming that server, the request path and headers, and if it has a target,
 * a check. run.mjs needs no change.
 *
 * @typedef {import('./nginx.mjs').RunningServer} RunningServer
 * @typedef {import('./requirements.mjs').Requirement} Requirement
 *
 * @typedef {object} ServerContext
 * @property {string} tmpDir  this run's temp dir; give each server its own sub-dir
 * @property {string} root    repository root
 * @property {{proxy?: string, load?: string}} pin
 *   CPU lists (taskset) of the pinned layout: `proxy` for the proxy under test, `load` for
 *   the load generator and the upstream; empty when the run is unpinned
 *
 * @typedef {object} ServerDef
 * @property {string} label
 * @property {Requirement[]} requires
 * @property {string[]} [needs]   other servers that must be running first
 * @property {(ctx: ServerContext, deps: Record<string, RunningServer>) => Promise<RunningServer>} start
 *
 * @typedef {object} ScenarioDef
 * @property {string} name       short id, used by --only
 * @property {string} label      shown in the report
 * @property {string} server     key in `servers`
 * @property {'throughput' | 'constant-rate'} kind
 *   throughput: wrk, closed loop, at full speed;
 *   constant-rate: bench/constant-rate.mjs at `fraction` of the median req/s of scenario `rateOf`.
 * @property {string} path       request path (and query)
 * @property {Record<string, string> | ((server: RunningServer) => Record<string, string>)} headers
 * @property {string} [rateOf]
 * @property {number} [fraction]
 * @property {boolean} [pinnedLoad]  run the load generator on the `load` CPUs of the pinned layout
 * @property {(res: {status: number, body: string}) => string | undefined} [probe]
 *   checks one response before measuring; returns a problem or undefined.
 *   Default: 200 with body "ok\n" (the request reached the upstream).
 *
 * @typedef {object} CheckDef
 * @property {string} name
 * @property {string} of        scenario name
 * @property {'rps' | 'p50Ms' | 'p99Ms'} metric
 * @property {string} [to]      ratio check: of.metric / to.metric >= min
 * @property {number} [min]
 * @property {number} [max]     bound check: of.metric < max
 */
import os from 'node:os';
import { startNginxProxy, startNginxUpstream } from './nginx.mjs';
import { BENCH_HOST, MEASURED_PATH, benchConfig, startNodeFloor, startPortcullis } from './portcullis.mjs';
import { NGINX, PORTCULLIS } from './requirements.mjs';

export const ALL_WORKERS = os.availableParallelism();

/** Portcullis with `routeCount` routes and `workers` workers, proxying to the upstream. */
function portcullis(name, workers, routeCount) {
  return {
    label: `Portcullis, ${workers} worker(s), ${routeCount} route(s)`,
    requires: [PORTCULLIS],
    needs: ['upstream'],
    start: (ctx, deps) =>
      startPortcullis(ctx, {
        name,
        workers,
        config: benchConfig({ routeCount, upstreamPort: deps.upstream.port }),
      }),
  };
}

// The pinned layout, for the tail at half of peak: the proxy alone on its CPU(s), the load
// generator and the upstream on the others, so that queueing behind the generator or the
// upstream on a shared core does not show up as the proxy's latency.
const PINNED = 'on its own CPU; load generator and upstream on the other(s)';

/** @type {Record<string, ServerDef>} */
export const servers = {
  upstream: {
    label: 'nginx upstream, 1 worker, `return 200 "ok\\n"`',
    requires: [NGINX],
    start: (ctx) => startNginxUpstream(ctx),
  },
  'nginx-proxy': {
    label: 'nginx reverse proxy, 1 worker, keep-alive pool to the upstream',
    requires: [NGINX],
    needs: ['upstream'],
    start: (ctx, deps) => startNginxProxy(ctx, { upstreamPort: deps.upstream.port, host: BENCH_HOST }),
  },
  'node-floor': {
    label: 'minimal fastify + undici proxy (no routing, checks or metrics), 1 process',
    requires: [PORTCULLIS],
    needs: ['upstream'],
    start: (ctx, deps) => startNodeFloor(ctx, { upstreamPort: deps.upstream.port }),
  },
  'portcullis-1w-1r': portcullis('portcullis-1w-1r', 1, 1),
  'portcullis-nw-1r': portcullis('portcullis-nw-1r', ALL_WORKERS, 1),
  'portcullis-1w-10k': portcullis('portcullis-1w-10k', 1, 10_000),
  'upstream-pinned': {
    label: 'nginx upstream, 1 worker, on the load CPU(s) of the pinned layout',
    requires: [NGINX],
    start: (ctx) => startNginxUpstream(ctx, 'upstream-pinned', { cpuList: ctx.pin.load }),
  },
  'portcullis-1w-1r-pinned': {
    label: `Portcullis, 1 worker, 1 route, primary and worker ${PINNED}`,
    requires: [PORTCULLIS],
    needs: ['upstream-pinned'],
    start: (ctx, deps) =>
      startPortcullis(ctx, {
        name: 'portcullis-1w-1r-pinned',
        workers: 1,
        config: benchConfig({ routeCount: 1, upstreamPort: deps['upstream-pinned'].port }),
        cpuList: ctx.pin.proxy,
      }),
  },
  'nginx-proxy-pinned': {
    label: `nginx reverse proxy, 1 worker, ${PINNED}`,
    requires: [NGINX],
    needs: ['upstream-pinned'],
    start: (ctx, deps) =>
      startNginxProxy(ctx, {
        name: 'nginx-proxy-pinned',
        upstreamPort: deps['upstream-pinned'].port,
        host: BENCH_HOST,
        cpuList: ctx.pin.proxy,
      }),
  },
};

const benchRequest = { path: MEASURED_PATH, headers: { Host: BENCH_HOST } };

/** @type {ScenarioDef[]} In report order; also the round-robin order. */
export const scenarios = [
  {
    name: 'upstream',
    label: 'upstream direct (nginx, 1 worker)',
    server: 'upstream',
    kind: 'throughput',
    ...benchRequest,
  },
  {
    name: 'nginx',
    label: 'nginx proxy, 1 worker',
    server: 'nginx-proxy',
    kind: 'throughput',
    ...benchRequest,
  },
  {
    name: 'node-floor',
    label: 'Node.js floor: minimal fastify + undici proxy, 1 process',
    server: 'node-floor',
    kind: 'throughput',
    ...benchRequest,
  },
  {
    name: 'portcullis-1w',
    label: 'Portcullis, 1 worker, 1 route',
    server: 'portcullis-1w-1r',
    kind: 'throughput',
    ...benchRequest,
  },
  {
    name: 'portcullis-all',
    label: `Portcullis, ${ALL_WORKERS} workers (all), 1 route`,
    server: 'portcullis-nw-1r',
    kind: 'throughput',
    ...benchRequest,
  },
  {
    name: 'portcullis-10k',
    label: 'Portcullis, 1 worker, 10,000 routes',
    server: 'portcullis-1w-10k',
    kind: 'throughput',
    ...benchRequest,
  },
  {
    name: 'portcullis-1w-pinned',
    label: `Portcullis, 1 worker, 1 route, ${PINNED} (peak)`,
    server: 'portcullis-1w-1r-pinned',
    kind: 'throughput',
    pinnedLoad: true,
    ...benchRequest,
  },
  {
    name: 'portcullis-half-peak',
    label: 'Portcullis, pinned as above, constant rate at 50% of its pinned peak',
    server: 'portcullis-1w-1r-pinned',
    kind: 'constant-rate',
    rateOf: 'portcullis-1w-pinned',
    fraction: 0.5,
    pinnedLoad: true,
    ...benchRequest,
  },
  {
    name: 'nginx-half-peak',
    label: 'nginx proxy, 1 worker, pinned the same way, same constant rate (reference tail)',
    server: 'nginx-proxy-pinned',
    kind: 'constant-rate',
    rateOf: 'portcullis-1w-pinned',
    fraction: 0.5,
    pinnedLoad: true,
    ...benchRequest,
  },
  {
    name: 'generator-floor',
    label: 'pinned upstream direct, same constant rate (load generator floor)',
    server: 'upstream-pinned',
    kind: 'constant-rate',
    rateOf: 'portcullis-1w-pinned',
    fraction: 0.5,
    pinnedLoad: true,
    ...benchRequest,
  },
];

/** The scenario every req/s is compared with in the report's ratio column. */
export const BASELINE = 'nginx';

/** @type {CheckDef[]} */
export const checks = [
  {
    name: 'Portcullis 1 worker >= 0.5x nginx proxy 1 worker (req/s)',
    of: 'portcullis-1w',
    to: 'nginx',
    metric: 'rps',
    min: 0.5,
  },
  {
    name: "Portcullis 1 worker >= 0.75x the Node.js floor (req/s; the project's own bound on its overhead)",
    of: 'portcullis-1w',
    to: 'node-floor',
    metric: 'rps',
    min: 0.75,
  },
  {
    name: '10,000 routes >= 0.95x 1 route (req/s, 1 worker)',
    of: 'portcullis-10k',
    to: 'portcullis-1w',
    metric: 'rps',
    min: 0.95,
  },
  {
    name: 'p99 < 5 ms at half of peak (1 worker, on its own CPU)',
    of: 'portcullis-half-peak',
    metric: 'p99Ms',
    max: 5,
  },
];
