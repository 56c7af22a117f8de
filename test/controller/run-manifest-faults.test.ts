/**
 * `portcullis run --manifests DIR` with a hostile or broken folder, through
 * the built CLI (the faults were seen through it): a symbolic link loop next
 * to a huge file, an alias bomb, a file that does not parse, and edits that
 * the watcher alone must deliver. Build first: `npx tsc -p tsconfig.build.json`.
 */
import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { eventually, http } from '../support/http-client.js';
import { echoBackend, echoIngress, INGRESS_CLASS } from '../support/manifests.js';
import { RunProcess } from '../support/run-process.js';
import { startEcho, type EchoServer } from '../support/upstreams.js';

const ALIAS_BOMB = `a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
`;

let dir: string;
let echo: EchoServer;
let run: RunProcess | undefined;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'portcullis-faults-'));
  echo = await startEcho({ name: 'echo' });
  await writeFile(join(dir, 'class.yaml'), INGRESS_CLASS);
  await writeFile(join(dir, 'backend.yaml'), echoBackend(echo.port));
  await writeFile(join(dir, 'web.yaml'), echoIngress('web', '/one'));
});

afterEach(async () => {
  // A wedged controller ignores SIGTERM: never leave it (or its proxy) behind.
  const stopping = run?.stop();
  const stopped = await Promise.race([
    stopping?.then(() => true),
    new Promise((resolve) => setTimeout(() => resolve(false), 10_000)),
  ]);
  if (!stopped) await run?.kill();
  run = undefined;
  await echo.close();
  await rm(dir, { recursive: true, force: true });
});

const status = (port: number, path: string) => http({ port, path, timeoutMs: 2000 }).then((r) => r.status);
const serves = (path: string, expected: number, within = 8000) =>
  eventually(
    async () => ((await status(run!.ports.http, path)) === expected ? true : undefined),
    `${path} -> ${expected}`,
    within,
  );
const metric = async (name: string): Promise<number | undefined> => {
  const text = (await http({ port: run!.ports.controller, path: '/metrics' })).text;
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
};

describe('portcullis run: a hostile manifest folder', () => {
  it('a symbolic link loop next to a 12 MB file: ready, answering, and stopping on SIGTERM', async () => {
    await symlink('.', join(dir, 'loop'));
    await writeFile(
      join(dir, 'huge.yaml'),
      `# ${'x'.repeat(12 * 1024 * 1024)}\n` + echoIngress('huge', '/huge'),
    );
    run = await RunProcess.start(dir, [], { readyWithinMs: 30_000 });
    await serves('/one', 200);
    expect(await status(run.ports.controller, '/healthz')).toBe(200);
    expect(run.output).not.toContain('object defined twice');
    expect(run.output).toMatch(/"file":"loop".*not followed/);
    expect(run.output).toMatch(/"file":"huge.yaml".*larger than/);
    const started = Date.now();
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('an alias bomb in one file: other files still update, and the bomb shows in metrics and /readyz', async () => {
    await writeFile(join(dir, 'bomb.yaml'), echoIngress('bomb', '/bomb'));
    run = await RunProcess.start(dir);
    await serves('/bomb', 200);
    await writeFile(join(dir, 'bomb.yaml'), ALIAS_BOMB);
    await writeFile(join(dir, 'web.yaml'), echoIngress('web', '/two'));
    await serves('/two', 200);
    // Its last good objects stay in service.
    expect(await status(run.ports.http, '/bomb')).toBe(200);
    expect(run.output).not.toContain('rescanning the manifests failed');
    const ready = await http({ port: run.ports.controller, path: '/readyz' });
    expect(ready.status).toBe(200);
    expect(ready.json()).toMatchObject({
      status: 'ready',
      sourceProblems: [{ code: 'MANIFEST_INVALID', file: 'bomb.yaml', line: 1, column: 1 }],
    });
    await eventually(
      async () => ((await metric('portcullis_controller_source_problems')) === 1 ? true : undefined),
      'source problems 1',
    );
    expect(await metric('portcullis_controller_problems')).toBe(1);
  });

  it('a file that does not parse is counted and listed until it is fixed', async () => {
    run = await RunProcess.start(dir);
    expect(await metric('portcullis_controller_problems')).toBe(0);
    await writeFile(
      join(dir, 'web.yaml'),
      'apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: [\n',
    );
    await eventually(
      async () => ((await metric('portcullis_controller_problems')) === 1 ? true : undefined),
      'one problem counted',
    );
    expect(await metric('portcullis_controller_source_problems')).toBe(1);
    const ready = await http({ port: run.ports.controller, path: '/readyz' });
    expect(ready.status).toBe(200); // the last good objects are served
    expect(ready.json()).toMatchObject({
      sourceProblems: [{ code: 'MANIFEST_INVALID', file: 'web.yaml', line: 4, column: 1 }],
    });
    // The portal lists it for the teams, beside the objects' own problems.
    const listed = await http({ port: run.ports.controller, path: '/portal/problems' });
    expect(listed.status).toBe(200);
    expect(listed.json()).toMatchObject({
      problems: [{ code: 'MANIFEST_INVALID', file: 'web.yaml', line: 4, column: 1 }],
    });
    expect(await status(run.ports.http, '/one')).toBe(200);
    await writeFile(join(dir, 'web.yaml'), echoIngress('web', '/three'));
    await serves('/three', 200);
    await eventually(
      async () => ((await metric('portcullis_controller_problems')) === 0 ? true : undefined),
      'no problems once fixed',
    );
    expect((await http({ port: run.ports.controller, path: '/readyz' })).json()).toMatchObject({
      sourceProblems: [],
    });
    expect((await http({ port: run.ports.controller, path: '/portal/problems' })).json()).toEqual({
      problems: [],
    });
  });
});

describe('portcullis run: the watcher delivers edits (rescan a minute away)', () => {
  it('atomic saves and in-place edits, in the top folder and a new subfolder, each served within 3 s', async () => {
    run = await RunProcess.start(dir, [], { env: { PORTCULLIS_MANIFEST_RESCAN_INTERVAL: '60' } });
    await mkdir(join(dir, 'team'));
    const files = [join(dir, 'web.yaml'), join(dir, 'team', 'api.yaml')];
    const latencies: number[] = [];
    for (let edit = 1; edit <= 16; edit++) {
      const file = files[edit % 2]!;
      const name = edit % 2 ? 'api' : 'web';
      const text = echoIngress(name, `/edit-${edit}`);
      const started = Date.now();
      if (edit % 4 < 2) {
        // An editor's atomic save: a temporary file renamed over the manifest.
        await writeFile(`${file}.tmp`, text);
        await rename(`${file}.tmp`, file);
      } else {
        await writeFile(file, text);
      }
      await serves(`/edit-${edit}`, 200, 3000);
      latencies.push(Date.now() - started);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    latencies.sort((a, b) => a - b);
    console.log(`edit to served, ms: median ${latencies[8]}, max ${latencies.at(-1)}`);
  });
});
