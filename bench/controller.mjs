#!/usr/bin/env node
/**
 * `npm run bench`, second part: the controller's targets (issue 3, Benchmark).
 *
 * - translate: translate() over the synthetic cluster (10,000 Ingresses, 1,000
 *   Services, 1,000 Applications), each run in a fresh `node --expose-gc`
 *   child: wall time of the first call and of later calls, RSS before and
 *   after building the snapshot, peak RSS during translate (sampled from a
 *   worker thread, since translate is synchronous), heap used after.
 * - latency: `portcullis run --manifests DIR` on that cluster written as
 *   manifest files; the folder is edited in turn in each way of EDIT_KINDS
 *   (renames over, in-place writes, vim's backup dance, new subfolders,
 *   deletes, a ConfigMap volume's ..data swap, folders re-created), and the
 *   proxy is polled until the new path answers 200 from the upstream (a
 *   deleted host: 404). p99 overall and per kind.
 *
 * - cli: `portcullis translate` on that cluster written as one file (14,301
 *   documents, 7.2 MB), `-o json` and `-o yaml`, and on the same documents
 *   split in 4 files (under the default limits), each in a fresh process
 *   under /usr/bin/time: wall time over start-up (`--version`), peak RSS.
 *   With `--baseline DIR` a second build is measured in the same runs,
 *   alternating (a build without `-o` is run on the 4 files only).
 *
 * Progress goes to stderr, the Markdown report to stdout, everything to
 * bench/results/controller-latest.json. See docs/benchmarks.md.
 */
import { Buffer } from 'node:buffer';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { closeSync, openSync, symlinkSync, unlinkSync, writeSync } from 'node:fs'; // latency's edits
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { clearTimeout, setTimeout } from 'node:timers';
import { Worker } from 'node:worker_threads';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { runArgs } from './portcullis-run.mjs';
import { freePorts, installCleanup, startProcess, tail, waitReady } from './processes.mjs';
import { median, writeJson } from './report.mjs';
import { syntheticIngress, syntheticObjects } from './synthetic-cluster.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SCENARIOS = ['translate', 'latency', 'cli', 'startup'];
const TRANSLATE_MAX_MS = 1000;
const TRANSLATE_MAX_MB = 300;
const LATENCY_P99_MAX_MS = 1000;
const CLI_OVER_STARTUP_MAX_MS = 1000;
const CLI_MAX_MB = 300;
const MB = 1024 * 1024;
const round = (x, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

const HELP = `Usage: node bench/controller.mjs [options]

Measures the controller against issue 3's targets (translate time and memory,
change-to-serve latency) on a synthetic cluster of 10,000 Ingresses.

Options:
  --only <a,b>       run only these: ${SCENARIOS.join(', ')}. Names it does not know
                     are ignored (they belong to bench/run.mjs), so
                     'npm run bench -- --only <proxy scenario>' skips this part
  --runs <n>         translate: fresh child processes          [5]
  --changes <n>      latency: file changes measured (p99 is the   [100]
                     second slowest of 100, the slowest of 20)
  --out <file>       JSON results   [bench/results/controller-latest.json]
  --startup-runs <n> startup: runs of each shape x workers  [1]
  --startup-shapes <a,b>   startup: file (one file), folder (244 files) [file,folder]
  --startup-workers <a,b>  startup: --workers values                   [1,2]
  --baseline <dir>   cli, startup: also run this tree's dist/ (built), alternating
                     with this one, side by side in the report
  --keep-tmp         keep the temp dir (manifests, logs)
  --strict           exit 3 when a target FAILs
  -h, --help         this help`;

// ---------------------------------------------------------------- translate child

/** In the child: build the snapshot, time translate, sample memory. Prints one JSON line. */
async function translateChild(calls) {
  const { translate } = await import(
    pathToFileURL(path.join(ROOT, 'dist/controller/translate/index.js')).href
  );
  const { snapshotFromObjects } = await import(
    pathToFileURL(path.join(ROOT, 'dist/controller/snapshot.js')).href
  );
  const { configTextHash } = await import(pathToFileURL(path.join(ROOT, 'dist/contract/hash.js')).href);
  // Peak RSS in KB, sampled every 2 ms by a worker while `shared[0]` is 1.
  const shared = new Int32Array(new SharedArrayBuffer(8));
  const sampler = new Worker(
    `const { workerData: s } = require('node:worker_threads');
     setInterval(() => { if (Atomics.load(s, 0) === 1) {
       const kb = Math.round(process.memoryUsage.rss() / 1024);
       if (kb > Atomics.load(s, 1)) Atomics.store(s, 1, kb);
     } }, 2);`,
    { eval: true, workerData: shared },
  );
  await sleep(50);
  globalThis.gc();
  const rssStart = process.memoryUsage.rss();
  const built = performance.now();
  const { snapshot, rejected } = snapshotFromObjects(syntheticObjects());
  if (rejected.length > 0) throw new Error(`snapshot rejected objects: ${JSON.stringify(rejected[0])}`);
  const snapshotMs = performance.now() - built;
  globalThis.gc();
  const rssSnapshot = process.memoryUsage.rss();
  const heapSnapshot = process.memoryUsage().heapUsed;
  const times = [];
  let first;
  for (let i = 0; i < calls; i++) {
    if (i > 0) globalThis.gc();
    Atomics.store(shared, 1, Math.round(process.memoryUsage.rss() / 1024));
    Atomics.store(shared, 0, 1);
    const t = performance.now();
    const result = translate(snapshot);
    times.push(performance.now() - t);
    Atomics.store(shared, 0, 0);
    const rssAfter = process.memoryUsage.rss();
    const peak = Math.max(Atomics.load(shared, 1) * 1024, rssAfter);
    if (i === 0) {
      const heapAfter = process.memoryUsage().heapUsed;
      // What the sync loop does next with the result, for the latency breakdown:
      // serialise once, hash those bytes.
      let at = performance.now();
      const text = JSON.stringify(result.config);
      const stringifyMs = performance.now() - at;
      at = performance.now();
      configTextHash(text);
      const hashMs = performance.now() - at;
      globalThis.gc();
      first = {
        rssPeakDuring: peak,
        heapAfter,
        heapAfterGc: process.memoryUsage().heapUsed,
        hashMs,
        stringifyMs,
        routes: result.config.virtualHosts.reduce((n, v) => n + v.routes.length, 0),
        upstreams: result.config.upstreams.length,
        applications: result.config.applications.length,
        problems: result.problems.length,
      };
    } else first.rssPeakDuring = Math.max(first.rssPeakDuring, peak);
  }
  await sampler.terminate();
  const incremental = await translatorChanges(syntheticObjects(), 10);
  const out = {
    incremental,
    snapshotMs,
    rssStart,
    rssSnapshot,
    heapSnapshot,
    timesMs: times,
    ...first,
    maxRssKB: process.resourceUsage().maxRSS,
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

/**
 * What the controller's sync loop does per change once warm: a Translator
 * over the ObjectStore's snapshot after one Ingress changed, then
 * ConfigWriter and the hash. Also the Translator's first (full) call.
 */
async function translatorChanges(objects, changes) {
  const load = (file) => import(pathToFileURL(path.join(ROOT, 'dist', file)).href);
  const { Translator } = await load('controller/translate/index.js');
  const { ObjectStore } = await load('controller/object-store.js');
  const { ConfigWriter } = await load('contract/config-writer.js');
  globalThis.gc();
  const heapBefore = process.memoryUsage().heapUsed;
  const store = new ObjectStore();
  for (const object of objects) store.upsert(object);
  const ingresses = objects.filter((o) => o.kind === 'Ingress');
  const translator = new Translator();
  const writer = new ConfigWriter();
  let t = performance.now();
  writer.digest(translator.translate(store.snapshot()).config);
  const firstMs = performance.now() - t;
  const times = [];
  for (let k = 0; k < changes; k++) {
    const ingress = JSON.parse(JSON.stringify(ingresses[(k * 997) % ingresses.length]));
    ingress.spec.rules[0].http.paths[0].path = `/changed-${k}`;
    store.upsert(ingress);
    t = performance.now();
    const { config } = translator.translate(store.snapshot());
    writer.digest(config);
    times.push(performance.now() - t);
  }
  globalThis.gc();
  return {
    firstMs,
    changeMs: times,
    reuse: translator.reuse,
    heapKeptMB: (process.memoryUsage().heapUsed - heapBefore) / MB,
  };
}

function runChild(args, timeoutMs) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(JSON.parse(out.trim().split('\n').pop()));
      else reject(new Error(`translate child failed (code ${code}, signal ${signal}):\n${err.slice(-2000)}`));
    });
  });
}

async function benchTranslate(runs) {
  const samples = [];
  for (let r = 0; r < runs; r++) {
    const s = await runChild(
      ['--expose-gc', fileURLToPath(import.meta.url), '--child-translate', '--calls', '3'],
      120_000,
    );
    console.error(
      `  translate run ${r + 1}/${runs}: first ${round(s.timesMs[0])} ms, then ${s.timesMs
        .slice(1)
        .map((t) => round(t))
        .join(', ')} ms; peak RSS ${round(s.rssPeakDuring / MB)} MB`,
    );
    samples.push(s);
  }
  const first = samples.map((s) => s.timesMs[0]);
  const later = samples.flatMap((s) => s.timesMs.slice(1));
  const mb = (pick) => round(Math.max(...samples.map(pick)) / MB);
  return {
    runs,
    callsPerRun: samples[0].timesMs.length,
    output: {
      routes: samples[0].routes,
      upstreams: samples[0].upstreams,
      applications: samples[0].applications,
      problems: samples[0].problems,
    },
    snapshotBuildMs: round(median(samples.map((s) => s.snapshotMs))),
    configHashMs: round(median(samples.map((s) => s.hashMs))),
    configStringifyMs: round(median(samples.map((s) => s.stringifyMs))),
    firstCallMs: { median: round(median(first)), max: round(Math.max(...first)) },
    translator: {
      firstCallMs: round(median(samples.map((s) => s.incremental.firstMs))),
      oneIngressChangeMs: {
        median: round(median(samples.flatMap((s) => s.incremental.changeMs))),
        max: round(Math.max(...samples.flatMap((s) => s.incremental.changeMs))),
      },
      recomputedPerChange: samples[0].incremental.reuse.misses,
      reusedPerChange: samples[0].incremental.reuse.hits,
      heapKeptMB: round(Math.max(...samples.map((s) => s.incremental.heapKeptMB))),
    },
    laterCallsMs: { median: round(median(later)), max: round(Math.max(...later)) },
    memoryMB: {
      rssBeforeSnapshot: mb((s) => s.rssStart),
      rssAfterSnapshot: mb((s) => s.rssSnapshot),
      rssPeakDuringTranslate: mb((s) => s.rssPeakDuring),
      maxRssOfProcess: mb((s) => s.maxRssKB * 1024),
      heapUsedAfterSnapshot: mb((s) => s.heapSnapshot),
      heapUsedAfterTranslate: mb((s) => s.heapAfter),
      heapUsedAfterTranslateGc: mb((s) => s.heapAfterGc),
    },
    samples,
  };
}

// ---------------------------------------------------------------- latency

const INGRESSES_PER_FILE = 50;
const OTHERS_PER_FILE = 100;
/** A change not served by then counts as not served (and fails the target). */
const CHANGE_TIMEOUT_MS = 15_000;

/**
 * The edits measured, in turn: how editors, tools and the kubelet change a
 * manifest folder. Each is timed from its first visible step until the proxy
 * serves the new path (or, for a delete, answers 404).
 */
const EDIT_KINDS = [
  'rename-over', // a temporary file renamed over the manifest (most editors, kubectl-like tools)
  'in-place', // truncated and written again, in two writes
  'vim-backup', // vim's default: the file renamed to file~, a new one written, the backup deleted
  'new-subfolder', // a new file two new folders down
  'delete', // the file the last new-subfolder edit made, deleted: its host then 404s
  'configmap-swap', // a ConfigMap volume's update: ..data pointed at a new timestamped folder
  'folder-recreated', // a folder deleted and made again with the same name and a changed file
  'edit-in-recreated', // an in-place write in that re-created folder
];

/** First Ingress numbers of the Ingresses the edits add (beyond the synthetic cluster's). */
const NEW_INGRESS = 100_000;

/** Sets up the folders some edits need; returns, per kind, a function that prepares edit k. */
function editKinds(dir, ingressFiles) {
  const { namespace } = ingressFiles[0].chunk[0].metadata;
  const service = ingressFiles[0].chunk[0].spec.rules[0].http.paths[0].backend.service.name;
  const one = (i, paths = []) => yamlDocs([syntheticIngress(i, namespace, service, paths)]);
  const served = (i, urlPath) => ({ host: `app-${i}.example.com`, urlPath: `${urlPath}/x`, served: true });
  const fresh = (k) => `/bench-change-${k}-${Date.now()}`;

  /** An Ingress file of the cluster with its first Ingress given a new path; returns that path. */
  const changeIngressFile = (k) => {
    const target = ingressFiles[(k * 37) % ingressFiles.length];
    const newPath = fresh(k);
    const chunk = [...target.chunk];
    chunk[0] = syntheticIngress(
      target.first,
      chunk[0].metadata.namespace,
      chunk[0].spec.rules[0].http.paths[0].backend.service.name,
      [newPath],
    );
    target.chunk = chunk;
    return { target, text: yamlDocs(chunk), ...served(target.first, newPath) };
  };

  // A ConfigMap volume as the kubelet lays it out, as a subfolder: cm.yaml -> ..data/cm.yaml, ..data -> ..<stamp>.
  const cm = path.join(dir, 'configmap');
  const cmIngress = NEW_INGRESS + 90_000;
  let cmVersion = 0;
  const cmFolder = (v) => `..2026_01_01_00_00_00.${String(v).padStart(9, '0')}`;
  mkdirSync(path.join(cm, cmFolder(0)), { recursive: true });
  writeFileSync(path.join(cm, cmFolder(0), 'cm.yaml'), one(cmIngress));
  symlinkSync(cmFolder(0), path.join(cm, '..data'));
  symlinkSync(path.join('..data', 'cm.yaml'), path.join(cm, 'cm.yaml'));

  const again = path.join(dir, 'again');
  const againIngress = NEW_INGRESS + 91_000;
  mkdirSync(again);
  writeFileSync(path.join(again, 'again.yaml'), one(againIngress));

  const made = [];
  return {
    'rename-over': (k) => {
      const { target, text, ...check } = changeIngressFile(k);
      const tmpFile = path.join(dir, `.${path.basename(target.file)}.tmp`);
      writeFileSync(tmpFile, text);
      return { ...check, file: target.file, act: () => renameSync(tmpFile, target.file) };
    },
    'in-place': (k) => {
      const { target, text, ...check } = changeIngressFile(k);
      const act = () => {
        const fd = openSync(target.file, 'w');
        writeSync(fd, text.slice(0, text.length >> 1));
        writeSync(fd, text.slice(text.length >> 1));
        closeSync(fd);
      };
      return { ...check, file: target.file, act };
    },
    'vim-backup': (k) => {
      const { target, text, ...check } = changeIngressFile(k);
      const act = () => {
        renameSync(target.file, `${target.file}~`);
        writeFileSync(target.file, text);
        unlinkSync(`${target.file}~`);
      };
      return { ...check, file: target.file, act };
    },
    'new-subfolder': (k) => {
      const i = NEW_INGRESS + k;
      const file = path.join(dir, `new-${k}`, 'team', 'ingress.yaml');
      made.push({ i, file: path.join(dir, `new-${k}`) });
      const act = () => {
        mkdirSync(path.dirname(file), { recursive: true });
        writeFileSync(file, one(i));
      };
      return { ...served(i, '/api'), file, act };
    },
    delete: () => {
      const gone = made.pop();
      if (!gone) throw new Error('delete: no file made by a new-subfolder edit to delete');
      const act = () => rmSync(gone.file, { recursive: true });
      return { host: `app-${gone.i}.example.com`, urlPath: '/api/x', served: false, file: gone.file, act };
    },
    'configmap-swap': (k) => {
      const v = ++cmVersion;
      const newPath = fresh(k);
      mkdirSync(path.join(cm, cmFolder(v)));
      writeFileSync(path.join(cm, cmFolder(v), 'cm.yaml'), one(cmIngress, [newPath]));
      symlinkSync(cmFolder(v), path.join(cm, '..data_tmp'));
      const act = () => {
        renameSync(path.join(cm, '..data_tmp'), path.join(cm, '..data'));
        rmSync(path.join(cm, cmFolder(v - 1)), { recursive: true });
      };
      return { ...served(cmIngress, newPath), file: path.join(cm, 'cm.yaml'), act };
    },
    'folder-recreated': (k) => {
      const newPath = fresh(k);
      const act = () => {
        rmSync(again, { recursive: true });
        mkdirSync(again);
        writeFileSync(path.join(again, 'again.yaml'), one(againIngress, [newPath]));
      };
      return { ...served(againIngress, newPath), file: path.join(again, 'again.yaml'), act };
    },
    'edit-in-recreated': (k) => {
      const newPath = fresh(k);
      const file = path.join(again, 'again.yaml');
      return {
        ...served(againIngress, newPath),
        file,
        act: () => writeFileSync(file, one(againIngress, [newPath])),
      };
    },
  };
}

function yamlDocs(objects) {
  return objects.map((o) => stringify(o)).join('---\n');
}

/** Writes the cluster as multi-document files; returns how to rewrite an Ingress file. */
function writeManifests(dir, upstreamPort) {
  const objects = syntheticObjects({ upstream: { host: '127.0.0.1', port: upstreamPort } });
  const others = objects.filter((o) => o.kind !== 'Ingress');
  const ingresses = objects.filter((o) => o.kind === 'Ingress');
  let files = 0;
  for (let i = 0; i < others.length; i += OTHERS_PER_FILE) {
    writeFileSync(
      path.join(dir, `base-${String(files++).padStart(3, '0')}.yaml`),
      yamlDocs(others.slice(i, i + OTHERS_PER_FILE)),
    );
  }
  const ingressFiles = [];
  for (let i = 0; i < ingresses.length; i += INGRESSES_PER_FILE) {
    const file = path.join(dir, `ingresses-${String(ingressFiles.length).padStart(3, '0')}.yaml`);
    const chunk = ingresses.slice(i, i + INGRESSES_PER_FILE);
    writeFileSync(file, yamlDocs(chunk));
    ingressFiles.push({ file, chunk, first: i });
  }
  return { files: files + ingressFiles.length, ingressFiles };
}

/** A keep-alive GET; resolves with status and whether the upstream answered. */
function get(agent, port, host, urlPath) {
  return new Promise((resolve) => {
    const req = http.get(
      { host: '127.0.0.1', port, path: urlPath, agent, headers: { host }, timeout: 2000 },
      (res) => {
        res.resume();
        res.on('end', () =>
          resolve({ status: res.statusCode, upstream: res.headers['x-bench-upstream'] === '1' }),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve({ status: 0, upstream: false }));
  });
}

function percentile(values, p) {
  const v = [...values].sort((a, b) => a - b);
  return v[Math.min(v.length - 1, Math.ceil((p / 100) * v.length) - 1)];
}

/** The pino lines of the run's log, parsed, with `time` in epoch ms. */
async function logLines(file) {
  const { readFileSync } = await import('node:fs');
  return readFileSync(file, 'utf8')
    .split('\n')
    .flatMap((line) => {
      try {
        const o = JSON.parse(line);
        const time = typeof o.time === 'number' ? o.time : Date.parse(o.time);
        return Number.isFinite(time) ? [{ ...o, time }] : [];
      } catch {
        return [];
      }
    });
}

/** Sum and count of a histogram on the controller's /metrics. */
async function histogram(url, name) {
  return { sum: await metric(url, `${name}_sum`), count: await metric(url, `${name}_count`) };
}

async function metric(url, name) {
  const text = await new Promise((resolve) =>
    http
      .get(url, (res) => {
        let b = '';
        res.on('data', (d) => (b += d));
        res.on('end', () => resolve(b));
      })
      .on('error', () => resolve('')),
  );
  // Summed over label sets (the push histogram has a `proxy` label).
  const lines = text.split('\n').filter((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return lines.length > 0 ? lines.reduce((n, l) => n + Number(l.split(' ').pop()), 0) : NaN;
}

async function benchLatency(tmp, changes) {
  // The upstream: a tiny Node server in this process that marks its answers.
  const upstream = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'x-bench-upstream': '1' });
    res.end('ok');
  });
  await new Promise((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const upstreamPort = upstream.address().port;
  const dir = path.join(tmp, 'manifests');
  mkdirSync(dir, { recursive: true });
  const t0 = performance.now();
  const { files, ingressFiles } = writeManifests(dir, upstreamPort);
  const edits = editKinds(dir, ingressFiles);
  console.error(`  wrote ${files} manifest files in ${round(performance.now() - t0, 0)} ms`);

  const [httpPort, httpsPort, adminPort, statusPort, controllerStatusPort] = await freePorts(5);
  const logFile = path.join(tmp, 'run.log');
  // Progress of the run is read back from the log; debug would log every poll request.
  const ports = { http: httpPort, https: httpsPort, admin: adminPort, status: statusPort };
  const child = startProcess(
    'portcullis run',
    process.execPath,
    runArgs(ROOT, dir, 1, { ...ports, controller: controllerStatusPort }, [
      ...['--state-dir', path.join(tmp, 'state'), '--log-level', 'info'],
    ]),
    {
      cwd: ROOT,
      logFile,
      env: { ...process.env, NODE_ENV: 'production', NODE_OPTIONS: process.env.BENCH_RUN_NODE_OPTIONS ?? '' },
    },
  );
  const started = performance.now();
  try {
    await waitReady(child, `http://127.0.0.1:${controllerStatusPort}/readyz`, { timeoutMs: 180_000 });
    const readyMs = performance.now() - started;
    console.error(`  portcullis run ready in ${round(readyMs / 1000, 2)} s`);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const check = await get(agent, httpPort, 'app-0.example.com', '/api/x');
    if (check.status !== 200 || !check.upstream)
      throw new Error(`app-0.example.com/api answers ${check.status}, not 200 from the upstream`);

    const metricsUrl = `http://127.0.0.1:${controllerStatusPort}/metrics`;
    const TRANSLATION = 'portcullis_controller_translation_duration_seconds';
    const PUSH = 'portcullis_controller_push_duration_seconds';
    const translationBefore = await histogram(metricsUrl, TRANSLATION);
    const pushBefore = await histogram(metricsUrl, PUSH);
    const measured = [];
    for (let k = 0; k < changes; k++) {
      // Spread the writes over the folder's 5 s poll and the proxy's 2 s hash poll.
      await sleep(300 + Math.random() * 300);
      const kind = EDIT_KINDS[k % EDIT_KINDS.length];
      // Writes what is not part of the edit (a temporary file, a ConfigMap's new folder); returns the edit.
      const edit = edits[kind](k);
      const before = await get(agent, httpPort, edit.host, edit.urlPath);
      if (edit.served ? before.status === 200 : before.status !== 200)
        throw new Error(`${kind}: ${edit.host}${edit.urlPath} answers ${before.status} before the change`);
      const wroteAt = Date.now();
      const t = performance.now();
      edit.act();
      let latency;
      let polls = 0;
      while (performance.now() - t < CHANGE_TIMEOUT_MS) {
        const sent = performance.now();
        const res = await get(agent, httpPort, edit.host, edit.urlPath);
        polls++;
        if (edit.served ? res.status === 200 && res.upstream : res.status === 404) {
          latency = performance.now() - t;
          break;
        }
        const wait = 5 - (performance.now() - sent);
        if (wait > 0) await sleep(wait);
      }
      measured.push({ change: k, kind, file: edit.file, wroteAt, latencyMs: latency, polls });
      console.error(
        `  change ${k + 1}/${changes} (${kind}): ${latency === undefined ? `not served after ${CHANGE_TIMEOUT_MS / 1000} s` : `${round(latency)} ms`}`,
      );
    }
    agent.destroy();
    // Means over the builds and pushes of the measured changes (the initial ones left out).
    const mean = (after, before) =>
      after.count > before.count
        ? round(((after.sum - before.sum) / (after.count - before.count)) * 1000)
        : undefined;
    const translation = await histogram(metricsUrl, TRANSLATION);
    const push = await histogram(metricsUrl, PUSH);

    // Where the time goes, from the log: write -> 'config built' (controller,
    // after rescan debounce + hold-off + translate + hash) -> 'proxy serves the
    // new config' (push answered) -> first 200.
    const lines = await logLines(logFile);
    const firstAfter = (msg, at) => lines.find((l) => l.msg === msg && l.time >= at)?.time;
    const breakdown = measured.map((m) => {
      const built = firstAfter('config built', m.wroteAt);
      const pushed = built === undefined ? undefined : firstAfter('proxy serves the new config', built);
      return {
        change: m.change,
        writeToBuiltMs: built === undefined ? undefined : built - m.wroteAt,
        builtToPushedMs: pushed === undefined ? undefined : pushed - built,
        pushedToServedMs:
          pushed === undefined || m.latencyMs === undefined ? undefined : m.wroteAt + m.latencyMs - pushed,
      };
    });
    const ok = measured.filter((m) => m.latencyMs !== undefined).map((m) => m.latencyMs);
    const kinds = {};
    for (const kind of EDIT_KINDS) {
      const of = measured.filter((m) => m.kind === kind);
      const served = of.filter((m) => m.latencyMs !== undefined).map((m) => m.latencyMs);
      if (of.length === 0) continue;
      kinds[kind] = {
        edits: of.length,
        served: served.length,
        p50: round(percentile(served, 50)),
        p99: round(percentile(served, 99)),
        max: round(Math.max(...served)),
      };
    }
    const medianOf = (key) => round(median(breakdown.map((b) => b[key]).filter((x) => x !== undefined)));
    return {
      manifests: { files, ingressesPerFile: INGRESSES_PER_FILE, objectsPerOtherFile: OTHERS_PER_FILE },
      readyMs: round(readyMs),
      changes,
      served: ok.length,
      latencyMs: {
        p50: round(percentile(ok, 50)),
        p90: round(percentile(ok, 90)),
        p99: round(percentile(ok, 99)),
        max: round(Math.max(...ok)),
      },
      allServed: ok.length === changes,
      kinds,
      breakdownMedianMs: {
        writeToBuilt: medianOf('writeToBuiltMs'),
        builtToPushed: medianOf('builtToPushedMs'),
        pushedToServed: medianOf('pushedToServedMs'),
        translateAndHashMean: mean(translation, translationBefore),
        builds: translation.count - translationBefore.count,
        pushMean: mean(push, pushBefore),
        pushes: push.count - pushBefore.count,
      },
      measured,
      breakdown,
    };
  } catch (error) {
    throw new Error(`${error.message}\n--- run log tail ---\n${tail(logFile, 30)}`, { cause: error });
  } finally {
    await child.stop();
    upstream.close();
  }
}

// ---------------------------------------------------------------- cli

/** Flags that let `translate` read the one big file (the controller's limits are 4m and 5000). */
const BIG_FILE_FLAGS = ['--manifest-max-file-size', '16m', '--manifest-max-documents', '20000'];

/** One fresh `node <root>/dist/cli/main.js ARGS > out` under /usr/bin/time: wall ms, peak RSS MB. */
function timedCli(root, args, out, timeFile) {
  const started = performance.now();
  const result = spawnSync(
    '/usr/bin/time',
    [
      '-f',
      '%M',
      '-o',
      timeFile,
      'sh',
      '-c',
      'exec "$0" "$@" > "$OUT"',
      process.execPath,
      path.join(root, 'dist/cli/main.js'),
      ...args,
    ],
    { env: { ...process.env, OUT: out }, encoding: 'utf8', timeout: 120_000 },
  );
  const wallMs = performance.now() - started;
  if (result.status !== 0 && result.status !== 1)
    throw new Error(
      `portcullis ${args.join(' ')} in ${root} failed (${result.status}): ${result.stderr.slice(-1000)}`,
    );
  const kb = Number(readFileSync(timeFile, 'utf8').trim().split('\n').pop());
  return { wallMs, rssMB: kb / 1024, status: result.status, stderr: result.stderr };
}

async function benchCli(tmp, runs, baselineRoot) {
  const docs = syntheticObjects().map((o) => stringify(o));
  const file = path.join(tmp, 'cluster.yaml');
  writeFileSync(file, docs.join('---\n'));
  const parts = path.join(tmp, 'cluster-4-files');
  mkdirSync(parts, { recursive: true });
  const per = Math.ceil(docs.length / 4);
  for (let i = 0; i < 4; i++)
    writeFileSync(path.join(parts, `part-${i}.yaml`), docs.slice(i * per, (i + 1) * per).join('---\n'));
  const bytes = Buffer.byteLength(docs.join('---\n'));
  const trees = [{ name: 'this build', root: ROOT, hasOutputFlag: true }];
  if (baselineRoot) {
    const help = spawnSync(
      process.execPath,
      [path.join(baselineRoot, 'dist/cli/main.js'), 'translate', '--help'],
      {
        encoding: 'utf8',
      },
    );
    trees.push({
      name: 'baseline',
      root: path.resolve(baselineRoot),
      hasOutputFlag: help.stdout.includes('--output'),
    });
  }
  const cases = (tree) => [
    ['version', ['--version']],
    ...(tree.hasOutputFlag
      ? [
          ['one file, -o json', ['translate', file, ...BIG_FILE_FLAGS, '-o', 'json']],
          ['one file, -o yaml', ['translate', file, ...BIG_FILE_FLAGS, '-o', 'yaml']],
          ['4 files, -o yaml', ['translate', parts, '-o', 'yaml']],
        ]
      : [['4 files, -o yaml', ['translate', parts]]]),
  ];
  const samples = Object.fromEntries(trees.map((t) => [t.name, {}]));
  for (let r = 0; r < runs; r++) {
    // Alternating trees (and their order) so that a load change hits both alike.
    for (const tree of r % 2 === 0 ? trees : [...trees].reverse()) {
      for (const [name, args] of cases(tree)) {
        const s = timedCli(tree.root, args, path.join(tmp, 'cli-out'), path.join(tmp, 'cli-time'));
        (samples[tree.name][name] ??= []).push(s);
      }
      const line = Object.entries(samples[tree.name])
        .map(
          ([name, list]) => `${name} ${round(list.at(-1).wallMs, 0)} ms / ${round(list.at(-1).rssMB, 0)} MB`,
        )
        .join('; ');
      console.error(`  cli run ${r + 1}/${runs}, ${tree.name}: ${line}`);
    }
  }
  const summary = Object.fromEntries(
    trees.map((tree) => {
      const byCase = samples[tree.name];
      const startup = median(byCase.version.map((s) => s.wallMs));
      // Each run's time less the start-up measured just before it, in the same run: the load moves both.
      const over = (list) => list.map((s, i) => s.wallMs - byCase.version[i].wallMs);
      return [
        tree.name,
        {
          root: tree.root,
          startupMs: round(startup, 0),
          cases: Object.fromEntries(
            Object.entries(byCase)
              .filter(([name]) => name !== 'version')
              .map(([name, list]) => [
                name,
                {
                  overStartupMs: {
                    median: round(median(over(list)), 0),
                    min: round(Math.min(...over(list)), 0),
                    max: round(Math.max(...over(list)), 0),
                  },
                  peakRssMB: round(Math.max(...list.map((s) => s.rssMB)), 0),
                  exitStatus: list[0].status,
                },
              ]),
          ),
        },
      ];
    }),
  );
  return { runs, documents: docs.length, bytes, flags: BIG_FILE_FLAGS, trees: summary };
}

// ---------------------------------------------------------------- startup

const STARTUP_MAX_MS = 3000;
const STARTUP_CONTROLLER_MAX_MB = 300;
const STARTUP_PROXY_MAX_MB = 250;
/** After the first 200, how long peaks are still collected (the warm-up build, the state file). */
const STARTUP_SETTLE_MS = 3000;

/** VmHWM (peak RSS) and the parent of every process under `root`, from /proc. */
async function processTree(root) {
  const { readdirSync, readFileSync } = await import('node:fs');
  const parents = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // The field after the command (which may hold spaces) in parentheses.
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      parents.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone
    }
  }
  const childrenOf = (pid) => [...parents].filter(([, ppid]) => ppid === pid).map(([p]) => p);
  const hwmMB = (pid) => {
    try {
      const kb = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
      return kb === undefined ? undefined : round(Number(kb) / 1024);
    } catch {
      return undefined;
    }
  };
  const primary = childrenOf(root)[0];
  const workers = primary === undefined ? [] : childrenOf(primary);
  return {
    controllerMB: hwmMB(root),
    primaryMB: primary === undefined ? undefined : hwmMB(primary),
    workersMB: workers.map(hwmMB),
  };
}

/** The cluster as one multi-document file, or as the latency scenario's 244 files. */
function writeStartupManifests(dir, shape, upstreamPort) {
  mkdirSync(dir, { recursive: true });
  if (shape === 'folder') return writeManifests(dir, upstreamPort).files;
  const objects = syntheticObjects({ upstream: { host: '127.0.0.1', port: upstreamPort } });
  writeFileSync(path.join(dir, 'cluster.yaml'), yamlDocs(objects));
  return 1;
}

/**
 * One `portcullis run` of `tree`: polls a route every 20 ms from spawn until
 * it answers 200 from the upstream, and the primary's /healthz alongside (its
 * slowest answer is how long start-up held the primary's event loop).
 */
async function startupRun(tree, dir, workers, tmp, label) {
  const [httpPort, httpsPort, adminPort, statusPort, controllerStatusPort] = await freePorts(5);
  const logFile = path.join(tmp, `startup-${label}.log`);
  const stateDir = mkdtempSync(path.join(tmp, 'state-'));
  const spawnedAt = Date.now();
  const started = performance.now();
  const ports = { http: httpPort, https: httpsPort, admin: adminPort, status: statusPort };
  const child = startProcess(
    'portcullis run',
    process.execPath,
    runArgs(tree, dir, workers, { ...ports, controller: controllerStatusPort }, [
      ...['--manifest-max-file-size', '64m', '--manifest-max-documents', '50000'],
      ...['--state-dir', stateDir, '--log-level', 'info'],
    ]),
    {
      cwd: tree,
      logFile,
      env: { ...process.env, NODE_ENV: 'production', NODE_OPTIONS: process.env.BENCH_RUN_NODE_OPTIONS ?? '' },
    },
  );
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  let servedMs;
  let healthMaxMs = 0;
  let healthUp = false;
  // The primary's /healthz, one request at a time, until the route is served.
  const health = (async () => {
    while (servedMs === undefined && !child.hasExited) {
      const sent = performance.now();
      const res = await get(undefined, statusPort, '127.0.0.1', '/healthz');
      if (res.status === 200) {
        if (healthUp) healthMaxMs = Math.max(healthMaxMs, performance.now() - sent);
        healthUp = true;
      }
      await sleep(20);
    }
  })();
  try {
    while (performance.now() - started < 60_000 && !child.hasExited) {
      const sent = performance.now();
      const res = await get(agent, httpPort, 'app-0.example.com', '/api/x');
      if (res.status === 200 && res.upstream) {
        servedMs = performance.now() - started;
        break;
      }
      const wait = 20 - (performance.now() - sent);
      if (wait > 0) await sleep(wait);
    }
    await health;
    if (servedMs === undefined) throw new Error(`${label}: the route was not served within 60 s`);
    await sleep(STARTUP_SETTLE_MS);
    const memory = await processTree(child.proc.pid);
    // Phases from the log, ms after spawn: the first line of each.
    const lines = await logLines(logFile);
    const at = (msg) => {
      const line = lines.find((l) => l.msg === msg);
      return line === undefined ? undefined : line.time - spawnedAt;
    };
    const phases = {
      proxyStarted: at('portcullis proxy started'),
      manifestsLoaded: at('manifests loaded'),
      configBuilt: at('config built'),
      proxyApplied: at('config applied'),
      pushAnswered: at('proxy serves the new config'),
    };
    return {
      label,
      workers,
      servedMs: round(servedMs),
      primaryHealthzMaxMs: round(healthMaxMs),
      ...memory,
      phases,
    };
  } catch (error) {
    throw new Error(`${error.message}\n--- run log tail ---\n${tail(logFile, 30)}`, { cause: error });
  } finally {
    agent.destroy();
    await child.stop();
  }
}

/** The startup scenario's table, and its checks (this tree's runs only: the baseline is for comparison). */
function startupRows(startup, rows, checks) {
  const max = (xs) => (xs.some((x) => x === undefined) ? undefined : Math.max(...xs));
  rows.push(
    '| start-up (portcullis run --manifests, 10,000 Ingresses): median of runs, memory the max | served after | peak RSS controller / primary / each worker | primary /healthz slowest | ms after spawn: proxy started / manifests loaded / config built / proxy applied / push answered |',
    '|---|---|---|---|---|',
  );
  for (const shape of ['file', 'folder']) {
    for (const workers of [1, 2]) {
      for (const { name } of startup.trees) {
        const s = startup.samples.filter(
          (x) => x.tree === name && x.shape === shape && x.workers === workers,
        );
        if (s.length === 0) continue;
        const phase = (k) => round(median(s.map((x) => x.phases[k] ?? NaN)), 0);
        const served = round(median(s.map((x) => x.servedMs)), 0);
        const controller = max(s.map((x) => x.controllerMB));
        const primary = max(s.map((x) => x.primaryMB));
        const worker = max(s.flatMap((x) => x.workersMB));
        rows.push(
          `| ${name}: ${shape === 'file' ? 'one file' : `${s[0].files} files`}, --workers ${workers} | ${served} ms | ${controller} / ${primary} / ${worker} MB | ${max(s.map((x) => x.primaryHealthzMaxMs))} ms | ${['proxyStarted', 'manifestsLoaded', 'configBuilt', 'proxyApplied', 'pushAnswered'].map(phase).join(' / ')} |`,
        );
        if (name !== 'this tree') continue;
        const what = `${shape === 'file' ? 'one file' : 'folder'}, --workers ${workers}`;
        checks.push(
          {
            name: `start-up to first request (${what}, max)`,
            value: `${round(Math.max(...s.map((x) => x.servedMs)), 0)} ms`,
            target: `< ${STARTUP_MAX_MS} ms`,
            ok: Math.max(...s.map((x) => x.servedMs)) < STARTUP_MAX_MS,
          },
          {
            name: `controller peak RSS (${what})`,
            value: `${controller} MB`,
            target: `< ${STARTUP_CONTROLLER_MAX_MB} MB`,
            ok: controller < STARTUP_CONTROLLER_MAX_MB,
          },
          {
            name: `proxy primary / each worker peak RSS (${what})`,
            value: `${primary} / ${worker} MB`,
            target: `< ${STARTUP_PROXY_MAX_MB} MB`,
            ok: primary < STARTUP_PROXY_MAX_MB && worker < STARTUP_PROXY_MAX_MB,
          },
        );
      }
    }
  }
  rows.push('');
}

/**
 * startup: `portcullis run --manifests DIR` on the cluster as one file and as
 * 244 files, with 1 and 2 workers: time from spawn to the first request
 * served, and the peak RSS of the controller, the proxy primary and each
 * worker (issue 15). With `baseline`, that tree's build runs alternately.
 */
async function benchStartup(tmp, { runs, baseline, shapes, workerCounts }) {
  const upstream = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain', 'x-bench-upstream': '1' });
    res.end('ok');
  });
  await new Promise((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const trees = [{ name: 'this tree', dir: ROOT }];
  if (baseline) trees.push({ name: 'baseline', dir: path.resolve(baseline) });
  const results = [];
  try {
    for (const shape of shapes) {
      const dir = path.join(tmp, `startup-${shape}`);
      const files = writeStartupManifests(dir, shape, upstream.address().port);
      for (const workers of workerCounts) {
        for (let r = 0; r < runs; r++) {
          // Alternating, so that load on the machine falls on both alike.
          for (const tree of r % 2 === 0 ? trees : [...trees].reverse()) {
            const label = `${shape}-w${workers}-${tree.name === 'baseline' ? 'base' : 'this'}-${r}`;
            const s = await startupRun(tree.dir, dir, workers, tmp, label);
            console.error(
              `  startup ${shape} (${files} files), --workers ${workers}, ${tree.name}: served after ${s.servedMs} ms; ` +
                `peak RSS controller ${s.controllerMB} / primary ${s.primaryMB} / workers ${s.workersMB.join(', ')} MB; ` +
                `primary /healthz slowest ${s.primaryHealthzMaxMs} ms`,
            );
            results.push({ tree: tree.name, shape, files, ...s });
          }
        }
      }
    }
  } finally {
    upstream.close();
  }
  return { trees, runs, samples: results };
}

// ---------------------------------------------------------------- main

function table(results) {
  const rows = [];
  const check = (ok) => (ok ? 'PASS' : 'FAIL');
  const checks = [];
  if (results.translate) {
    const t = results.translate;
    const m = t.memoryMB;
    checks.push(
      {
        name: 'translate first call (max)',
        value: `${t.firstCallMs.max} ms`,
        target: `< ${TRANSLATE_MAX_MS} ms`,
        ok: t.firstCallMs.max < TRANSLATE_MAX_MS,
      },
      {
        name: 'translate later calls (max)',
        value: `${t.laterCallsMs.max} ms`,
        target: `< ${TRANSLATE_MAX_MS} ms`,
        ok: t.laterCallsMs.max < TRANSLATE_MAX_MS,
      },
      {
        name: 'peak RSS during translate',
        value: `${m.rssPeakDuringTranslate} MB`,
        target: `< ${TRANSLATE_MAX_MB} MB`,
        ok: m.rssPeakDuringTranslate < TRANSLATE_MAX_MB,
      },
    );
    rows.push(
      '| translate (10,000 Ingresses, 1,000 Services, 1,000 Applications) | |',
      '|---|---|',
      `| runs (fresh child each) x calls | ${t.runs} x ${t.callsPerRun} |`,
      `| output | ${t.output.routes} routes, ${t.output.upstreams} upstreams, ${t.output.applications} applications, ${t.output.problems} problems |`,
      `| first call: median / max | ${t.firstCallMs.median} / ${t.firstCallMs.max} ms |`,
      `| later calls: median / max | ${t.laterCallsMs.median} / ${t.laterCallsMs.max} ms |`,
      `| RSS before snapshot / after snapshot / peak during translate | ${m.rssBeforeSnapshot} / ${m.rssAfterSnapshot} / ${m.rssPeakDuringTranslate} MB |`,
      `| heap used after snapshot / after translate / after translate + gc | ${m.heapUsedAfterSnapshot} / ${m.heapUsedAfterTranslate} / ${m.heapUsedAfterTranslateGc} MB |`,
      `| maxRSS of the process (resourceUsage) | ${m.maxRssOfProcess} MB |`,
      `| after translate, median: JSON.stringify of the config / sha256 of that text (configTextHash) | ${t.configStringifyMs} / ${t.configHashMs} ms |`,
      `| controller's Translator: first call + ConfigWriter + hash, median | ${t.translator.firstCallMs} ms |`,
      `| controller's Translator after a one-Ingress change: translate + ConfigWriter + hash, median / max | ${t.translator.oneIngressChangeMs.median} / ${t.translator.oneIngressChangeMs.max} ms |`,
      `| results recomputed / reused per change; heap the Translator and store keep (after gc) | ${t.translator.recomputedPerChange} / ${t.translator.reusedPerChange}; ${t.translator.heapKeptMB} MB |`,
      '',
    );
  }
  if (results.latency) {
    const l = results.latency;
    const b = l.breakdownMedianMs;
    checks.push({
      name: 'change-to-serve p99',
      value: `${l.latencyMs.p99} ms${l.allServed ? '' : ` (${l.changes - l.served} not served)`}`,
      target: `< ${LATENCY_P99_MAX_MS} ms`,
      ok: l.allServed && l.latencyMs.p99 < LATENCY_P99_MAX_MS,
    });
    for (const [kind, s] of Object.entries(l.kinds ?? {}))
      checks.push({
        name: `change-to-serve p99: ${kind}`,
        value: `${s.p99} ms${s.served === s.edits ? '' : ` (${s.edits - s.served} not served)`}`,
        target: `< ${LATENCY_P99_MAX_MS} ms`,
        ok: s.served === s.edits && s.p99 < LATENCY_P99_MAX_MS,
      });
    rows.push(
      '| change to serve (portcullis run --manifests, 10,000 Ingresses, --workers 1) | |',
      '|---|---|',
      `| manifest files / ready after start | ${l.manifests.files} / ${round(l.readyMs / 1000, 2)} s |`,
      `| changes served | ${l.served} of ${l.changes} |`,
      `| latency p50 / p90 / p99 / max | ${l.latencyMs.p50} / ${l.latencyMs.p90} / ${l.latencyMs.p99} / ${l.latencyMs.max} ms |`,
      `| first change after start (counted above) | ${round(l.measured[0]?.latencyMs ?? NaN)} ms |`,
      ...Object.entries(l.kinds ?? {}).map(
        ([kind, s]) =>
          `| ${kind}: served / p50 / p99 / max | ${s.served} of ${s.edits} / ${s.p50} / ${s.p99} / ${s.max} ms |`,
      ),
      `| median: write -> config built / built -> push answered / push answered -> first 200 (negative: served before the answer reached the controller) | ${b.writeToBuilt} / ${b.builtToPushed} / ${b.pushedToServed} ms |`,
      `| in the controller, mean: translate + hash (${b.builds} builds) / push until every worker swapped (${b.pushes} pushes) | ${b.translateAndHashMean} / ${b.pushMean} ms |`,
      '',
    );
  }
  if (results.cli) {
    const c = results.cli;
    const names = Object.keys(c.trees);
    const mine = c.trees[names[0]];
    for (const name of ['one file, -o json', 'one file, -o yaml']) {
      const m = mine.cases[name];
      checks.push(
        {
          name: `translate ${name}, over start-up (median)`,
          value: `${m.overStartupMs.median} ms`,
          target: `< ${CLI_OVER_STARTUP_MAX_MS} ms`,
          ok: m.overStartupMs.median < CLI_OVER_STARTUP_MAX_MS,
        },
        {
          name: `translate ${name}, peak RSS`,
          value: `${m.peakRssMB} MB`,
          target: `< ${CLI_MAX_MB} MB`,
          ok: m.peakRssMB < CLI_MAX_MB,
        },
      );
    }
    const cell = (tree, name) => {
      const m = c.trees[tree].cases[name];
      return m
        ? `${m.overStartupMs.median} / ${m.overStartupMs.min} / ${m.overStartupMs.max} ms, ${m.peakRssMB} MB`
        : 'not available';
    };
    rows.push(
      `| portcullis translate (${c.documents} documents, ${round(c.bytes / MB)} MB), ${c.runs} runs | ${names.join(' | ')} |`,
      `|---|${names.map(() => '---').join('|')}|`,
      `| start-up (--version), median | ${names.map((n) => `${c.trees[n].startupMs} ms`).join(' | ')} |`,
      ...['one file, -o json', 'one file, -o yaml', '4 files, -o yaml'].map(
        (name) =>
          `| ${name}: over start-up median / min / max, peak RSS | ${names.map((n) => cell(n, name)).join(' | ')} |`,
      ),
      '',
    );
  }
  if (results.startup) startupRows(results.startup, rows, checks);
  rows.push(
    '| Target | Measured | Required | Result |',
    '|---|---|---|---|',
    ...checks.map((c) => `| ${c.name} | ${c.value} | ${c.target} | ${check(c.ok)} |`),
  );
  return { markdown: rows.join('\n'), checks: checks.map((c) => ({ ...c, status: check(c.ok) })) };
}

async function main() {
  const { values } = parseArgs({
    strict: false,
    options: {
      only: { type: 'string' },
      runs: { type: 'string' },
      changes: { type: 'string' },
      calls: { type: 'string' },
      out: { type: 'string' },
      'startup-runs': { type: 'string' },
      'startup-shapes': { type: 'string' },
      'startup-workers': { type: 'string' },
      baseline: { type: 'string' },
      'keep-tmp': { type: 'boolean' },
      strict: { type: 'boolean' },
      'child-translate': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values['child-translate']) return translateChild(Number(values.calls ?? 3));
  if (values.help) return console.log(HELP);
  const wanted = values.only
    ? SCENARIOS.filter((s) =>
        values.only
          .split(',')
          .map((x) => x.trim())
          .includes(s),
      )
    : SCENARIOS;
  if (wanted.length === 0) {
    console.error(`controller benchmark: skipped (--only names none of ${SCENARIOS.join(', ')})`);
    return;
  }
  const runs = Math.max(1, Math.min(20, Number(values.runs ?? 5) || 5));
  const changes = Math.max(1, Math.min(200, Number(values.changes ?? 100) || 100));
  const out = path.resolve(values.out ?? path.join(ROOT, 'bench/results/controller-latest.json'));
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'portcullis-controller-bench-'));
  const shutdown = installCleanup(() => {
    if (!values['keep-tmp']) rmSync(tmp, { recursive: true, force: true });
  });
  // Bounded: translate ~ runs x 10 s, latency ~ start + changes x 16 s at worst.
  const budgetS = Number(process.env.BENCH_MAX_SECONDS ?? 1200);
  setTimeout(
    () => void shutdown(4, `controller benchmark: over ${budgetS} s; stopping`),
    budgetS * 1000,
  ).unref();

  const [one, five, fifteen] = os.loadavg().map((x) => round(x, 2));
  const results = {
    date: new Date().toISOString(),
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model,
      memoryGB: round(os.totalmem() / 1024 ** 3),
      node: process.version,
    },
    loadAverageBefore: { one, five, fifteen },
  };
  console.error(`Controller benchmark (${wanted.join(', ')}); load average ${one} ${five} ${fifteen}`);
  if (wanted.includes('translate')) results.translate = await benchTranslate(runs);
  if (wanted.includes('latency')) results.latency = await benchLatency(tmp, changes);
  if (wanted.includes('cli')) results.cli = await benchCli(tmp, runs, values.baseline);
  if (wanted.includes('startup')) {
    const startupRuns = Math.max(1, Math.min(10, Number(values['startup-runs'] ?? 1) || 1));
    const list = (value, fallback) => (value ?? fallback).split(',').map((x) => x.trim());
    results.startup = await benchStartup(tmp, {
      runs: startupRuns,
      baseline: values.baseline,
      shapes: list(values['startup-shapes'], 'file,folder').filter((x) => x === 'file' || x === 'folder'),
      workerCounts: list(values['startup-workers'], '1,2')
        .map(Number)
        .filter((n) => n >= 1),
    });
  }
  results.loadAverageAfter = Object.fromEntries(
    ['one', 'five', 'fifteen'].map((k, i) => [k, round(os.loadavg()[i], 2)]),
  );
  const { markdown, checks } = table(results);
  results.checks = checks;
  writeJson(out, results);
  console.log(`\n## Controller\n\n${markdown}\n`);
  console.error(`Results: ${path.relative(ROOT, out)}`);
  const failed = checks.some((c) => c.status === 'FAIL');
  await shutdown(values.strict && failed ? 3 : 0);
}

await main();
