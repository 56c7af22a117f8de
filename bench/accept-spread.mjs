#!/usr/bin/env node
/**
 * How Node's cluster spreads accepted connections over workers, for the
 * "Workers" section of docs/benchmarks.md (issue 15). No proxy involved:
 * `node bench/accept-spread.mjs [workers] [connections]` forks the workers,
 * each listening on one loopback port, opens the connections at once and
 * prints how many each worker accepted, for three ways of listening:
 * - rr: the default on Linux (cluster.SCHED_RR), the primary accepts and
 *   hands each connection to a worker, round-robin; this is what Portcullis does;
 * - none: cluster.SCHED_NONE, the workers accept on one shared socket;
 * - reuseport: each worker binds its own socket with `reusePort: true`
 *   (Node >= 22.12 / 23.1; the kernel hashes connections over the sockets);
 *   on older Node the option is ignored and this is `rr` again.
 */
import cluster from 'node:cluster';
import net from 'node:net';

const [mode, workers, connections, port] = process.argv.slice(2);

if (cluster.isPrimary && !mode?.startsWith('run:')) {
  const { spawnSync } = await import('node:child_process');
  const { freePort } = await import('./processes.mjs');
  const n = process.argv[2] ?? '2';
  const c = process.argv[3] ?? '64';
  console.log(`Node ${process.version}, ${n} workers, ${c} connections opened at once`);
  for (const m of ['rr', 'none', 'reuseport']) {
    for (let round = 0; round < 3; round++) {
      const r = spawnSync(process.execPath, [process.argv[1], `run:${m}`, n, c, String(await freePort())], {
        encoding: 'utf8',
        timeout: 20_000,
      });
      console.log(`${m.padEnd(9)} ${r.stdout.trim() || r.stderr.trim()}`);
    }
  }
} else if (cluster.isPrimary) {
  const how = mode.slice(4);
  if (how === 'none') cluster.schedulingPolicy = cluster.SCHED_NONE;
  const counts = {};
  let up = 0;
  const report = async () => {
    const sockets = [];
    for (let i = 0; i < Number(connections); i++) {
      sockets.push(new Promise((resolve) => net.connect(Number(port), '127.0.0.1', resolve)));
    }
    await Promise.all(sockets);
    await new Promise((resolve) => setTimeout(resolve, 300));
    for (const w of Object.values(cluster.workers)) w.send('report');
    await new Promise((resolve) => setTimeout(resolve, 300));
    console.log(`accepted per worker: ${Object.values(counts).join(' / ')}`);
    process.exit(0);
  };
  for (let i = 0; i < Number(workers); i++) {
    cluster.fork({ SPREAD_HOW: how }).on('message', (m) => {
      if (m.up && ++up === Number(workers)) void report();
      if (m.id !== undefined) counts[m.id] = m.n;
    });
  }
} else {
  let accepted = 0;
  const server = net.createServer(() => accepted++);
  const reusePort = process.env.SPREAD_HOW === 'reuseport';
  server.listen({ port: Number(port), host: '127.0.0.1', ...(reusePort && { reusePort }) }, () =>
    process.send({ up: true }),
  );
  process.on('message', () => process.send({ id: cluster.worker.id, n: accepted }));
}
