/**
 * `portcullis run --manifests DIR` for the benchmarks that measure the
 * controller and the proxy together (revocation, soak), on loopback ports
 * picked at start, and the way those benchmarks write manifest files.
 */
import { renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePorts, startProcess, waitReady } from './processes.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * The arguments of `node <root>/dist/cli/main.js run` on loopback with these
 * ports (`{ http, https, admin, status, controller }`), then `extra`.
 */
export function runArgs(root, dir, workers, ports, extra = []) {
  return [
    path.join(root, 'dist/cli/main.js'),
    'run',
    '--manifests',
    dir,
    '--workers',
    String(workers),
    ...['--address', '127.0.0.1', '--status-address', '127.0.0.1', '--admin-address', '127.0.0.1'],
    ...['--http-port', String(ports.http), '--https-port', String(ports.https)],
    ...['--admin-port', String(ports.admin), '--status-port', String(ports.status)],
    ...['--controller-status-address', '127.0.0.1', '--controller-status-port', String(ports.controller)],
    ...extra,
  ];
}

/** Starts it and waits until the controller is ready (synced and pushed). */
export async function startRun({ dir, workers, logFile }) {
  const [http, https, admin, status, controller] = await freePorts(5);
  const ports = { http, https, admin, status, controller };
  const child = startProcess('portcullis run', process.execPath, runArgs(ROOT, dir, workers, ports), {
    cwd: ROOT,
    logFile,
    env: { ...process.env, NODE_ENV: 'production' },
  });
  await waitReady(child, `http://127.0.0.1:${controller}/readyz`, { timeoutMs: 60_000 });
  return { child, ports };
}

/** Written as kubectl-like tools and editors do: a temporary file renamed over the old one. */
export function put(dir, file, text) {
  const tmp = path.join(dir, `.${file}.tmp`);
  writeFileSync(tmp, text);
  renameSync(tmp, path.join(dir, file));
}
