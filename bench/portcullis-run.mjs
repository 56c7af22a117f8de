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

/** Starts it and waits until the controller is ready (synced and pushed). */
export async function startRun({ dir, workers, logFile }) {
  const [http, https, admin, status, controller] = await freePorts(5);
  const child = startProcess(
    'portcullis run',
    process.execPath,
    [
      path.join(ROOT, 'dist/cli/main.js'),
      'run',
      '--manifests',
      dir,
      '--workers',
      String(workers),
      ...['--address', '127.0.0.1', '--status-address', '127.0.0.1', '--admin-address', '127.0.0.1'],
      ...['--http-port', String(http), '--https-port', String(https)],
      ...['--admin-port', String(admin), '--status-port', String(status)],
      ...['--controller-status-address', '127.0.0.1', '--controller-status-port', String(controller)],
    ],
    { cwd: ROOT, logFile, env: { ...process.env, NODE_ENV: 'production' } },
  );
  await waitReady(child, `http://127.0.0.1:${controller}/readyz`, { timeoutMs: 60_000 });
  return { child, ports: { http, https, admin, status, controller } };
}

/** Written as kubectl-like tools and editors do: a temporary file renamed over the old one. */
export function put(dir, file, text) {
  const tmp = path.join(dir, `.${file}.tmp`);
  writeFileSync(tmp, text);
  renameSync(tmp, path.join(dir, file));
}
