/**
 * A probe preloaded into the proxy's processes by bench/tail.mjs
 * (`NODE_OPTIONS=--import <its file URL>`), NOT part of the proxy.
 *
 * Per process it counts accepted connections and requests (diagnostics
 * channels), GC pauses (PerformanceObserver 'gc'), event-loop delay
 * (monitorEventLoopDelay) and CPU time. On SIGUSR2 it appends what it saw
 * since the last SIGUSR2 as one JSON line to
 * `$PORTCULLIS_PROBE_DIR/<pid>.jsonl` and starts over, so the harness can
 * cut out exactly the measured seconds. The proxy's own metrics are summed
 * over workers (no worker label), hence this. With PORTCULLIS_PROBE_CPU_PROFILE=1
 * a worker also records a V8 CPU profile between two SIGUSR2 and writes it
 * as `<pid>-<n>.cpuprofile` (NODE_OPTIONS may not carry --cpu-prof).
 */
import cluster from 'node:cluster';
import dc from 'node:diagnostics_channel';
import fs from 'node:fs';
import { Session } from 'node:inspector';
import path from 'node:path';
import { monitorEventLoopDelay, PerformanceObserver, performance } from 'node:perf_hooks';

const dir = process.env.PORTCULLIS_PROBE_DIR;
if (dir) {
  const role = cluster.isWorker ? `worker ${cluster.worker?.id ?? process.pid}` : 'primary';
  const file = path.join(dir, `${process.pid}.jsonl`);
  let counts;
  let gc;
  let since;
  let cpu;
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const reset = () => {
    counts = { connections: 0, requests: 0 };
    gc = { count: 0, totalMs: 0, maxMs: 0, byKind: {} };
    since = performance.now();
    cpu = process.cpuUsage();
    loop.reset();
  };
  reset();
  dc.subscribe('net.server.socket', () => counts.connections++);
  dc.subscribe('http.server.request.start', () => counts.requests++);
  // Kinds as in Node's perf_hooks constants: 1 minor (scavenge), 2 major, 4 incremental, 8 weak callbacks.
  const KINDS = { 1: 'minor', 2: 'major', 4: 'incremental', 8: 'weakcb' };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      gc.count++;
      gc.totalMs += e.duration;
      gc.maxMs = Math.max(gc.maxMs, e.duration);
      const kind = KINDS[e.detail?.kind ?? e.kind] ?? String(e.detail?.kind ?? e.kind);
      const k = (gc.byKind[kind] ??= { count: 0, totalMs: 0, maxMs: 0 });
      k.count++;
      k.totalMs += e.duration;
      k.maxMs = Math.max(k.maxMs, e.duration);
    }
  }).observe({ entryTypes: ['gc'] });
  const profiling = cluster.isWorker && process.env.PORTCULLIS_PROBE_CPU_PROFILE === '1';
  let session;
  let cuts = 0;
  if (profiling) {
    session = new Session();
    session.connect();
    session.post('Profiler.enable');
    session.post('Profiler.start');
  }
  const saveProfile = () => {
    const n = ++cuts;
    session.post('Profiler.stop', (err, result) => {
      if (!err)
        fs.writeFileSync(path.join(dir, `${process.pid}-${n}.cpuprofile`), JSON.stringify(result.profile));
      session.post('Profiler.start');
    });
  };
  process.on('SIGUSR2', () => {
    if (profiling) saveProfile();
    const wallMs = performance.now() - since;
    const used = process.cpuUsage(cpu);
    const ms = (ns) => Math.round(ns / 1e4) / 100;
    const line = {
      pid: process.pid,
      role,
      wallMs: Math.round(wallMs),
      cpuMs: Math.round((used.user + used.system) / 1000),
      ...counts,
      gc: { ...gc, share: wallMs > 0 ? gc.totalMs / wallMs : 0 },
      loopDelayMs: {
        p50: ms(loop.percentile(50)),
        p99: ms(loop.percentile(99)),
        p999: ms(loop.percentile(99.9)),
        max: ms(loop.max),
      },
    };
    fs.appendFileSync(file, `${JSON.stringify(line)}\n`);
    reset();
  });
}
