/**
 * A controller that dies (kill -9) while its proxy serves traffic: the
 * proxy keeps serving the config it has, every request answered; changes
 * made meanwhile wait; a restarted controller pushes them. Split mode
 * (`portcullis proxy` + `portcullis controller`), as in a pod whose
 * controller container restarts. Build first: `npx tsc -p tsconfig.build.json`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { eventually, http } from '../support/http-client.js';
import { echoBackend, echoIngress, INGRESS_CLASS } from '../support/manifests.js';
import { CLI, REPO_ROOT, startProxy, tempDir, type ProxyProcess } from '../support/proxy-process.js';
import { freePorts, startEcho, type EchoServer } from '../support/upstreams.js';

let echo: EchoServer;
let proxy: ProxyProcess;
let dir: string;
let scratch: string;
const controllers: ChildProcess[] = [];

const ingress = (name: string, path: string) => echoIngress(name, path, 'shop');

beforeAll(async () => {
  echo = await startEcho({ name: 'echo' });
  dir = await tempDir('portcullis-manifests-');
  scratch = await tempDir();
  await writeFile(join(dir, 'base.yaml'), `${INGRESS_CLASS}---\n${echoBackend(echo.port, 'shop')}`);
  await writeFile(join(dir, 'a.yaml'), ingress('a', '/a'));
  proxy = await startProxy({ wait: 'status', workers: 1 });
  await writeFile(join(scratch, 'token'), proxy.token + '\n', { mode: 0o600 });
});

afterAll(async () => {
  for (const c of controllers) c.kill('SIGKILL');
  await proxy?.dispose();
  await echo?.close();
  await rm(dir, { recursive: true, force: true });
  await rm(scratch, { recursive: true, force: true });
});

async function startController(): Promise<ChildProcess> {
  const [statusPort] = (await freePorts(1)) as [number];
  const child = spawn(
    process.execPath,
    [
      CLI,
      'controller',
      '--manifests',
      dir,
      '--proxy-admin-url',
      `http://127.0.0.1:${proxy.adminPort}`,
      '--admin-token-file',
      join(scratch, 'token'),
      '--controller-status-address',
      '127.0.0.1',
      '--controller-status-port',
      String(statusPort),
    ],
    { cwd: REPO_ROOT, stdio: 'ignore' },
  );
  controllers.push(child);
  return child;
}

const status = async (path: string) => (await http({ port: proxy.httpPort, path, timeoutMs: 2_000 })).status;

it('the proxy serves through a controller crash; the restarted controller pushes what changed', async () => {
  const first = await startController();
  await eventually(async () => ((await status('/a')) === 200 ? true : undefined), '/a served', 20_000);

  first.kill('SIGKILL');
  await new Promise((resolve) => first.once('exit', resolve));
  // A change while no controller runs: nothing serves it yet.
  await writeFile(join(dir, 'b.yaml'), ingress('b', '/b'));
  const answers: number[] = [];
  const until = Date.now() + 3_000;
  while (Date.now() < until) answers.push(await status(`/a/${answers.length}`));
  expect(answers.length).toBeGreaterThan(20);
  expect(answers.filter((s) => s !== 200)).toEqual([]);
  expect(await status('/b')).toBe(404);
  expect((await proxy.status('/readyz')).status).toBe(200);

  await startController();
  await eventually(async () => ((await status('/b')) === 200 ? true : undefined), '/b served', 20_000);
  expect(await status('/a')).toBe(200);
}, 60_000);
