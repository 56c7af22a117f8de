/**
 * `portcullis demo` as a newcomer runs it: the built CLI spawned on free
 * ports, with its manifests in a fresh temporary folder (so the repository's
 * examples/demo is never edited), then every command it prints, parsed from
 * its output and run with sh, checked against the answer printed under it;
 * the browser login in Chromium; Ctrl-C. Also the pure parts (fitting the
 * manifests to ports, the printed text against docs/demo.md) and the IdP
 * examples of examples/idp, which must translate without a problem.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { CHROMIUM, launchChromium } from '../support/browser.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { shownHeaders } from '../../demo/echo-upstream.js';
import { demoInstructions } from '../../demo/instructions.js';
import { describeChange, fitManifests, type ManifestFile } from '../../demo/manifest-fit.js';
import { DEFAULT_DEMO_PORTS, DEMO_PORT_FLAGS, duplicatePorts, type DemoPorts } from '../../demo/ports.js';
import { eventually } from '../support/http-client.js';
import { CLI, REPO_ROOT } from '../support/proxy-process.js';
import { freePorts } from '../support/upstreams.js';

const EXAMPLES = join(REPO_ROOT, 'examples', 'demo');
/** The printed promise: a revocation refuses the next request within a second. */
const REVOCATION_BOUND_MS = 1_000;

async function exampleFiles(dir = EXAMPLES): Promise<ManifestFile[]> {
  const paths = (await readdir(dir, { recursive: true })).filter((p) => p.endsWith('.yaml')).sort();
  return Promise.all(paths.map(async (path) => ({ path, text: await readFile(join(dir, path), 'utf8') })));
}

const portFlags = (ports: DemoPorts): string[] =>
  (Object.keys(DEMO_PORT_FLAGS) as (keyof DemoPorts)[]).flatMap((k) => [
    DEMO_PORT_FLAGS[k],
    String(ports[k]),
  ]);

async function demoPorts(): Promise<DemoPorts> {
  const [http, https, admin, status, controller, idp, upstream] = (await freePorts(7)) as number[];
  return { http, https, admin, status, controller, idp, upstream } as DemoPorts;
}

/** Runs the demo CLI to its end (for the cases where it must refuse to start). */
function demoFails(args: string[]) {
  return spawnSync(process.execPath, [CLI, 'demo', ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

describe('fitting the manifests to the ports', () => {
  it('leaves examples/demo as it is with the default ports', async () => {
    const files = await exampleFiles();
    const { files: fitted, changes } = fitManifests(files, { ...DEFAULT_DEMO_PORTS });
    expect(changes).toEqual([]);
    expect(fitted).toEqual(files);
  });

  it('rewrites exactly the issuer, the callback, the slice and its Service, keeping everything else', async () => {
    const files = await exampleFiles();
    const ports = { ...DEFAULT_DEMO_PORTS, http: 18000, idp: 18900, upstream: 18901 };
    const { files: fitted, changes } = fitManifests(files, ports);
    expect(changes.map((c) => [c.file, c.object, c.field, c.to])).toEqual([
      [
        'payments/plugins.yaml',
        'KongPlugin payments/okta',
        'config.issuer',
        'http://127.0.0.1:18900/oauth2/default',
      ],
      [
        'payments/plugins.yaml',
        'KongPlugin payments/okta',
        'config.redirect_uri[0]',
        'http://127.0.0.1:18000/payments/callback',
      ],
      ['payments/service.yaml', 'EndpointSlice payments/payments-local', 'ports[0].port', '18901'],
      ['payments/service.yaml', 'Service payments/payments', 'spec.ports[0].targetPort', '18901'],
    ]);
    // Line for line the same files, but for the four values.
    const changedLines = fitted.flatMap((f, i) => {
      const before = files[i]!.text.split('\n');
      return f.text.split('\n').filter((line, n) => line !== before[n]);
    });
    expect(changedLines).toEqual([
      '  issuer: http://127.0.0.1:18900/oauth2/default',
      '  redirect_uri: [http://127.0.0.1:18000/payments/callback]',
      '  ports: [{ name: http, port: 80, targetPort: 18901 }]',
      'ports: [{ name: http, port: 18901 }]',
    ]);
    expect(fitManifests(fitted, ports).changes).toEqual([]);
    expect(describeChange(changes[0]!)).toBe(
      'payments/plugins.yaml: KongPlugin payments/okta config.issuer is http://127.0.0.1:8900/oauth2/default, the demo needs http://127.0.0.1:18900/oauth2/default',
    );
  });

  it.each([
    ['a remote issuer', 'issuer: https://dev-1.okta.com/oauth2/default', 0],
    ['a loopback issuer', 'issuer: http://localhost:1234/oauth2/default', 1],
  ])('leaves %s of another plugin alone unless it is loopback', (_name, line, expected) => {
    const text = `apiVersion: configuration.konghq.com/v1\nkind: KongPlugin\nmetadata: { name: x }\nplugin: openid-connect\nconfig:\n  ${line}\n`;
    expect(fitManifests([{ path: 'x.yaml', text }], { ...DEFAULT_DEMO_PORTS }).changes).toHaveLength(
      expected,
    );
  });

  it('does not touch a slice with a non-loopback address, nor its Service', () => {
    const text = `kind: EndpointSlice\nmetadata: { name: s, labels: { kubernetes.io/service-name: api } }\nports: [{ port: 3000 }]\nendpoints: [{ addresses: [10.0.0.1] }]\n---\nkind: Service\nmetadata: { name: api }\nspec: { ports: [{ port: 80, targetPort: 3000 }] }\n`;
    expect(fitManifests([{ path: 'x.yaml', text }], { ...DEFAULT_DEMO_PORTS }).changes).toEqual([]);
  });
});

describe('the demo ports and what it prints', () => {
  it('names two flags given one port', () => {
    expect(duplicatePorts({ ...DEFAULT_DEMO_PORTS })).toBeUndefined();
    expect(duplicatePorts({ ...DEFAULT_DEMO_PORTS, idp: 8000 })).toBe(
      '--http-port and --idp-port are both 8000',
    );
  });

  it('docs/demo.md shows exactly what the demo prints with the default ports', async () => {
    const doc = await readFile(join(REPO_ROOT, 'docs', 'demo.md'), 'utf8');
    const block = /<!-- demo-output -->\n\n?```text\n([\s\S]*?)```\n/.exec(doc)?.[1];
    const printed = demoInstructions({
      ports: { ...DEFAULT_DEMO_PORTS },
      cli: 'node dist/cli/main.js',
      manifests: 'examples/demo',
    });
    expect(block, 'docs/demo.md needs the block after <!-- demo-output -->').toBeDefined();
    expect(block).toBe(`${printed}\n`);
  });

  it('the echo upstream shortens the forwarded access token', () => {
    const shown = shownHeaders({ authorization: `Bearer ${'x'.repeat(800)}`, 'x-consumer-id': 'a/b' });
    expect(shown['x-consumer-id']).toBe('a/b');
    expect(shown.authorization).toBe('Bearer xxxxxxxxx… (shortened by the demo)');
  });
});

describe('examples/idp', () => {
  it.each(['okta.yaml', 'azure-ad.yaml', 'ping.yaml'])('%s translates without a problem', (file) => {
    const result = spawnSync(process.execPath, [CLI, 'translate', join('examples', 'idp', file)], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    });
    expect(result.status, result.stdout + result.stderr).toBe(0);
    const out = JSON.parse(result.stdout) as { config: { plugins: { name: string }[] }; problems: unknown[] };
    expect(out.problems).toEqual([]);
    // The plugin is in the compiled config, not left out as broken.
    expect(out.config.plugins.map((p) => p.name)).toContain('openid-connect');
  });
});

describe('the demo refuses to start, in one line', () => {
  let holder: Server;
  let busy: number;

  beforeAll(async () => {
    holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    busy = (holder.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => holder.close(() => resolve())));

  it('a busy port: names it and its flag', async () => {
    const ports = { ...(await demoPorts()), idp: busy };
    const dir = join(await mkdtemp(join(tmpdir(), 'portcullis-demo-')), 'manifests');
    const result = demoFails(['--manifests', dir, ...portFlags(ports)]);
    expect(result.status).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([
      `portcullis demo: the process could not start: cannot listen on 127.0.0.1:${busy}: the port is in use by another process (EADDRINUSE); check --idp-port ${busy}`,
    ]);
    expect(existsSync(dir), 'nothing is created before the ports are checked').toBe(false);
  });

  it('a folder written for other ports: names each value to change', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'portcullis-demo-'));
    await cp(EXAMPLES, dir, { recursive: true });
    const ports = await demoPorts();
    const result = demoFails(['--manifests', dir, ...portFlags(ports)]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`the manifests in ${dir} do not match the demo's ports`);
    expect(result.stderr).toContain(
      `payments/plugins.yaml: KongPlugin payments/okta config.issuer is http://127.0.0.1:8900/oauth2/default, the demo needs http://127.0.0.1:${ports.idp}/oauth2/default`,
    );
    expect(result.stderr).not.toMatch(/\n\s+at /); // no stack
    await rm(dir, { recursive: true, force: true });
  });

  it('a port of 0 or a bad log level: a usage error', () => {
    expect(demoFails(['--idp-port', '0']).stderr).toContain('must be a port number 1-65535');
    expect(demoFails(['--log-level', 'verbose']).stderr).toContain("argument 'verbose' is invalid");
  });
});

describe('a signal during the start', () => {
  it('stops what had started: exit 0, every port free', async () => {
    const ports = await demoPorts();
    const dir = join(await mkdtemp(join(tmpdir(), 'portcullis-demo-')), 'manifests');
    const child = spawn(process.execPath, [CLI, 'demo', '--manifests', dir, ...portFlags(ports)], {
      cwd: REPO_ROOT,
      stdio: 'ignore',
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    // The IdP is the first thing it starts: once it listens, run is yet to come or coming up.
    await eventually(
      async () => ((await canBind(ports.idp)) ? undefined : true),
      'the IdP listening',
      30_000,
      20,
    );
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    for (const port of Object.values(ports)) expect(await canBind(port), `port ${port}`).toBe(true);
    await rm(dirname(dir), { recursive: true, force: true });
  }, 60_000);
});

/** A printed command and the answer printed under it, if any. */
interface Printed {
  step: number;
  command: string;
  expect?: { status: number; rest: string };
}

/** Steps by number; inside each, command lines (4 spaces) and their `# → ` answers. */
function parseCommands(output: string): Printed[] {
  const commands: Printed[] = [];
  let step = 0;
  for (const line of output.split('\n')) {
    const heading = /^(\d+)\. /.exec(line);
    if (heading) step = Number(heading[1]);
    const answer = /^ {4}# → (\d{3})(.*)$/.exec(line);
    if (answer && commands.length > 0)
      commands[commands.length - 1]!.expect = { status: Number(answer[1]), rest: answer[2]! };
    else if (/^ {4}[^ #]/.test(line)) commands.push({ step, command: line.slice(4) });
  }
  return commands;
}

function sh(script: string, cwd: string): { status: number | null; stdout: string; stderr: string } {
  return spawnSync('sh', ['-c', script], { cwd, encoding: 'utf8', timeout: 30_000 });
}

/** The status of the last HTTP response in curl -i output. */
const lastStatus = (out: string): number | undefined => {
  const all = [...out.matchAll(/^HTTP\/[\d.]+ (\d{3})/gm)];
  return all.length ? Number(all[all.length - 1]![1]) : undefined;
};

/** Checks curl output against the printed answer: the status, a JSON body, an x-consumer-id. */
function checkAnswer(out: string, expected: { status: number; rest: string }, command: string): void {
  expect(lastStatus(out), `${command}\n${out}`).toBe(expected.status);
  const body = /(\{.*\})/.exec(expected.rest)?.[1];
  if (body) expect(out.slice(out.lastIndexOf('\r\n\r\n') + 4).trim()).toBe(body);
  const consumer = /x-consumer-id: (\S+)/.exec(expected.rest)?.[1];
  if (consumer) expect(JSON.parse(out.slice(out.indexOf('{'))).headers['x-consumer-id']).toBe(consumer);
}

describe('portcullis demo, every printed command', () => {
  let ports: DemoPorts;
  let root: string;
  let dir: string;
  let demo: ChildProcess;
  let output = '';
  let exited: Promise<number | null>;
  let printed: Printed[];
  const ran = new Set<Printed>();

  beforeAll(async () => {
    ports = await demoPorts();
    root = await mkdtemp(join(tmpdir(), 'portcullis-demo-'));
    dir = join(root, 'manifests');
    demo = spawn(process.execPath, [CLI, 'demo', '--manifests', dir, ...portFlags(ports)], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PORTCULLIS_HTTP_PORT: '1' }, // the user's environment does not change the demo
    });
    demo.stdout!.setEncoding('utf8').on('data', (c: string) => (output += c));
    demo.stderr!.setEncoding('utf8').on('data', (c: string) => (output += c));
    exited = new Promise((resolve) => demo.once('exit', (code) => resolve(code)));
    let gone = false;
    void exited.then(() => (gone = true));
    await eventually(
      () => {
        if (gone) throw new Error(`the demo exited:\n${output}`);
        return output.includes('# → 200 again') ? true : undefined;
      },
      `the demo's instructions; output so far:\n${output}`,
      90_000,
      100,
    );
    printed = parseCommands(output);
  }, 120_000);

  afterAll(async () => {
    if (demo && demo.exitCode === null && demo.signalCode === null) {
      demo.kill('SIGINT');
      await exited;
    }
    if (root) await rm(root, { recursive: true, force: true });
  });

  it('created the folder as a fitted copy, and left examples/demo alone', async () => {
    expect(output).toContain(`(created ${dir} from examples/demo for these ports)`);
    const { changes } = fitManifests(await exampleFiles(dir), ports);
    expect(changes).toEqual([]);
    expect(
      spawnSync('git', ['status', '--porcelain', 'examples/demo'], { cwd: REPO_ROOT, encoding: 'utf8' })
        .stdout,
    ).toBe('');
  });

  it('prints at least the commands of every step', () => {
    expect(printed.map((p) => p.step)).toEqual([1, 1, 2, 2, 4, 4, 5, 5, 5, 5]);
    expect(printed.filter((p) => p.expect).length).toBe(5);
  });

  it('1. client credentials with Basic: the approved app gets through, the pending one gets 403', () => {
    for (const p of printed.filter((c) => c.step === 1)) {
      const { stdout } = sh(p.command, REPO_ROOT);
      checkAnswer(stdout, p.expect!, p.command);
      ran.add(p);
    }
  });

  it('2. a token from the IdP, sent as a bearer', () => {
    const step = printed.filter((c) => c.step === 2);
    // One shell: the first command sets TOKEN for the second.
    // (The length is printed afterwards: a token the first command failed to get would be empty.)
    const { stdout } = sh(
      `${step.map((p) => p.command).join('\n')}\necho "@token-length \${#TOKEN}"`,
      REPO_ROOT,
    );
    expect(Number(/@token-length (\d+)/.exec(stdout)?.[1])).toBeGreaterThan(100);
    checkAnswer(stdout.replace(/@token-length \d+\n$/, ''), step[step.length - 1]!.expect!, step[1]!.command);
    expect(step[0]!.command).toMatch(/^TOKEN=/);
    step.forEach((p) => ran.add(p));
  });

  describe.skipIf(!existsSync(CHROMIUM))('3. the browser login', () => {
    it('signs in at the IdP with the printed user and lands on the echo as the storefront', async () => {
      const url = /^ {3}(http:\/\/\S+)$/m.exec(output.slice(output.indexOf('3. ')))?.[1];
      const [, username, password] = /sign in as (\S+), password (\S+)\./.exec(output) ?? [];
      const consumer = /got: x-consumer-id (\S+)/.exec(output)?.[1];
      expect([url, username, password, consumer].every(Boolean), output).toBe(true);
      const browser = await launchChromium();
      try {
        const page = await browser.newPage();
        await page.goto(url!);
        expect(page.url().startsWith(`http://127.0.0.1:${ports.idp}/`)).toBe(true);
        await page.fill('input[name=login]', username!);
        await page.fill('input[name=password]', password!);
        await Promise.all([page.waitForURL(url!), page.click('button[type=submit]')]);
        const seen = JSON.parse(await page.locator('body').innerText()) as {
          headers: Record<string, string>;
        };
        expect(seen.headers['x-consumer-id']).toBe(consumer);

        // What step 5 says of the browser: the same edit on its registration refuses the session.
        const file = /The same edit\s+in (\S+) refuses/.exec(output)?.[1];
        expect(file, output).toBeDefined();
        const edit = (from: string, to: string) =>
          expect(sh(`sed -i 's/state: ${from}/state: ${to}/' ${file!}`, REPO_ROOT).status).toBe(0);
        edit('Approved', 'Revoked');
        try {
          await eventually(
            async () => ((await page.reload())?.status() === 403 ? true : undefined),
            'the session refused after the revocation',
            5_000,
            50,
          );
          expect(await page.locator('body').innerText()).toContain('You cannot consume this service');
        } finally {
          edit('Revoked', 'Approved');
        }
      } finally {
        await browser.close();
      }
    }, 60_000);
  });
  if (!existsSync(CHROMIUM))
    console.warn(
      `[demo] ${CHROMIUM} not found: the browser login case is skipped (install Debian's chromium)`,
    );

  it('4. the portal view: portcullis apps and the portal endpoint', () => {
    const [apps, portal] = printed.filter((c) => c.step === 4);
    const table = sh(apps!.command, REPO_ROOT);
    expect(table.status, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/^payments\/payments +Payments API +no +\/payments /m);
    expect(table.stdout).toMatch(/^billing\/billing +billing-app +payments\/payments +Approved/m);
    expect(table.stdout).toMatch(/^analytics\/analytics +analytics-app +payments\/payments +Pending/m);
    const json = JSON.parse(sh(portal!.command, REPO_ROOT).stdout) as {
      applications: { name: string; registrations: { state: string }[] }[];
    };
    expect(Object.fromEntries(json.applications.map((a) => [a.name, a.registrations[0]!.state]))).toEqual({
      analytics: 'Pending',
      billing: 'Approved',
      storefront: 'Approved',
    });
    ran.add(apps!);
    ran.add(portal!);
  });

  it('5. revoke by editing one line: 403 within a second, and back', async () => {
    const step = printed.filter((c) => c.step === 5);
    let editedAt: number | undefined;
    for (const p of step) {
      if (!p.expect) {
        expect(p.command).toMatch(/^sed -i /);
        expect(sh(p.command, REPO_ROOT).status).toBe(0);
        editedAt = performance.now();
      } else {
        // The file watcher reads an edit within ~0.2 s: poll, bounded by what the demo promises.
        const seen = await eventually(
          () => {
            const { stdout } = sh(p.command, REPO_ROOT);
            return lastStatus(stdout) === p.expect!.status ? stdout : undefined;
          },
          `${p.command} -> ${p.expect.status}`,
          REVOCATION_BOUND_MS,
          20,
        );
        checkAnswer(seen, p.expect, p.command);
        console.info(`[demo] edit -> ${p.expect.status} in ${Math.round(performance.now() - editedAt!)} ms`);
      }
      ran.add(p);
    }
  });

  it('ran every printed command', () => {
    expect(printed.filter((p) => !ran.has(p)).map((p) => p.command)).toEqual([]);
  });

  it('Ctrl-C stops everything: exit 0, every port free again', async () => {
    demo.kill('SIGINT');
    expect(await exited).toBe(0);
    for (const port of Object.values(ports)) expect(await canBind(port), `port ${port}`).toBe(true);
  }, 30_000);
});
