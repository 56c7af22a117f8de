/** `portcullis translate FILE...`: output, exit codes, redaction. Uses the built CLI. */
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { JWK_PRIVATE_MEMBERS } from '../../contract/plugins/client-jwk.js';
import { CLI, REPO_ROOT } from '../support/proxy-process.js';

const GOLDEN = join(REPO_ROOT, 'test', 'golden', 'translate');

function translateCli(...args: string[]) {
  const result = spawnSync(process.execPath, [CLI, 'translate', ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('portcullis translate', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'portcullis-translate-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('prints the config with secrets redacted and exits 0 without problems', () => {
    const { code, stdout } = translateCli(join(GOLDEN, 'basic', 'in.yaml'));
    expect(code).toBe(0);
    const out = parse(stdout) as { config: { plugins: unknown[] }; problems: unknown[]; statuses?: unknown };
    expect(out.problems).toEqual([]);
    expect(out.statuses).toBeUndefined();
    expect(out.config.plugins.length).toBeGreaterThan(0);
    // The Secret's value reaches the plugin config, but never the output.
    expect(stdout).not.toContain('s3cr3t-from-okta');
    expect(stdout).toContain('<redacted>');
  });

  it('never prints the private members of a client_jwk taken from a Secret', async () => {
    const jwk = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
    const file = join(dir, 'jwk.yaml');
    const manifests = [
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'gw-key' },
        stringData: { jwk: JSON.stringify(jwk) },
      },
      {
        apiVersion: 'configuration.konghq.com/v1',
        kind: 'KongPlugin',
        metadata: { name: 'oidc' },
        plugin: 'openid-connect',
        config: { issuer: 'https://idp.example.test', client_id: ['gw'], client_auth: ['private_key_jwt'] },
        configPatches: [{ path: '/client_jwk', valueFrom: { secretKeyRef: { name: 'gw-key', key: 'jwk' } } }],
      },
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { ports: [{ port: 80 }] } },
      {
        apiVersion: 'networking.k8s.io/v1',
        kind: 'Ingress',
        metadata: { name: 'web', annotations: { 'konghq.com/plugins': 'oidc' } },
        spec: {
          ingressClassName: 'portcullis',
          rules: [
            {
              http: {
                paths: [
                  {
                    path: '/',
                    pathType: 'Prefix',
                    backend: { service: { name: 'web', port: { number: 80 } } },
                  },
                ],
              },
            },
          ],
        },
      },
    ];
    await writeFile(file, manifests.map((m) => stringify(m)).join('---\n'));
    const { code, stdout } = translateCli(file);
    expect(code).toBe(0);
    expect(stdout).toContain(jwk.n);
    for (const member of JWK_PRIVATE_MEMBERS) {
      const value = (jwk as Record<string, unknown>)[member];
      if (typeof value === 'string') expect(stdout).not.toContain(value);
    }
  });

  it('prints JSON by default, and the same data as YAML with -o yaml', () => {
    const input = join(GOLDEN, 'basic', 'in.yaml');
    const json = translateCli(input);
    const yaml = translateCli('-o', 'yaml', input);
    expect(json.code).toBe(0);
    expect(yaml.code).toBe(0);
    const data = JSON.parse(json.stdout) as unknown;
    expect(translateCli('--output', 'json', input).stdout).toBe(json.stdout);
    expect(json.stdout).toMatch(/^{\n {2}"config": {\n/);
    expect(yaml.stdout).toMatch(/^config:\n {2}schemaVersion: 1\n/);
    expect(parse(yaml.stdout)).toEqual(data);
  });

  it("refuses a file over the controller's size and document limits, and reads it when they are raised", async () => {
    const file = join(dir, 'many.yaml');
    const service = (i: number) =>
      `apiVersion: v1\nkind: Service\nmetadata: {name: s${i}}\nspec: {ports: [{port: 80}]}\n`;
    await writeFile(file, Array.from({ length: 5001 }, (_, i) => service(i)).join('---\n'));
    const refused = translateCli(file);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('more than 5000 documents');
    expect(translateCli('--manifest-max-documents', '6000', file).code).toBe(0);
    const small = translateCli('--manifest-max-file-size', '1k', '--manifest-max-documents', '6000', file);
    expect(small.code).toBe(1);
    expect((JSON.parse(small.stdout) as { problems: { code: string }[] }).problems[0]!.code).toBe(
      'MANIFEST_TOO_LARGE',
    );
  });

  it('prints statuses on request', () => {
    const { code, stdout } = translateCli('--statuses', join(GOLDEN, 'basic', 'in.yaml'));
    expect(code).toBe(0);
    expect((parse(stdout) as { statuses: { ingresses: unknown[] } }).statuses.ingresses).toHaveLength(1);
  });

  it('exits 1 when there are problems, and prints them', () => {
    const { code, stdout } = translateCli(join(GOLDEN, 'plugins-broken', 'in.yaml'));
    expect(code).toBe(1);
    const out = parse(stdout) as { problems: { code: string; objects: unknown[] }[] };
    expect(out.problems.length).toBeGreaterThan(0);
    expect(out.problems[0]!.objects.length).toBeGreaterThan(0);
  });

  it('reads several files together', async () => {
    const a = join(dir, 'a.yaml');
    const b = join(dir, 'b.yaml');
    await writeFile(
      a,
      'apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: web}\nspec:\n  ingressClassName: portcullis\n  rules: [{http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}}]\n',
    );
    expect(translateCli(a).code).toBe(1); // no such Service
    await writeFile(b, 'apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {ports: [{port: 80}]}\n');
    const both = translateCli(a, b);
    expect(both.code).toBe(0);
  });

  it('honours --ingress-class', () => {
    const { stdout } = translateCli('--ingress-class', 'other', join(GOLDEN, 'basic', 'in.yaml'));
    expect((parse(stdout) as { config: { virtualHosts: unknown[] } }).config.virtualHosts).toEqual([]);
  });

  it('exits 1 when a file does not parse (a problem, as the controller reports it), naming file, line and column', async () => {
    const bad = join(dir, 'bad.yaml');
    const good = join(dir, 'good.yaml');
    await writeFile(bad, 'apiVersion: v1\nkind: Service\nmetadata: {name: [\n');
    // An Ingress without its Service: its SERVICE_NOT_FOUND shows the good file was read.
    await writeFile(
      good,
      'apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: web}\nspec:\n  ingressClassName: portcullis\n  rules: [{http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}}]\n',
    );
    const { code, stderr, stdout } = translateCli(bad, good);
    expect(code).toBe(1);
    expect(stderr).toContain(`${bad}:4:1: `);
    // What the controller would serve: the other files, and the broken one as a problem.
    const out = parse(stdout) as { problems: Record<string, unknown>[] };
    expect(out.problems).toEqual([
      {
        code: 'MANIFEST_INVALID',
        message: expect.stringContaining('does not parse'),
        objects: [],
        file: bad,
        line: 4,
        column: 1,
      },
      expect.objectContaining({ code: 'SERVICE_NOT_FOUND' }),
    ]);
  });

  it('exits 1 for an alias bomb, refused by the alias limit, naming the file', async () => {
    const bomb = join(dir, 'bomb.yaml');
    await writeFile(
      bomb,
      'a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n' +
        'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n',
    );
    const { code, stderr, stdout } = translateCli(bomb);
    expect(code).toBe(1);
    expect(stderr).toMatch(/bomb\.yaml:1:1: .*alias/i);
    expect((parse(stdout) as { problems: { code: string }[] }).problems[0]!.code).toBe('MANIFEST_INVALID');
  });

  it('reads a folder as the manifest folder does: recursively, skipping hidden entries', async () => {
    const folder = join(dir, 'folder');
    await mkdir(join(folder, 'sub', '.hidden'), { recursive: true });
    await writeFile(
      join(folder, 'ingress.yaml'),
      'apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: web}\nspec:\n  ingressClassName: portcullis\n  rules: [{http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}}]\n',
    );
    await writeFile(
      join(folder, 'sub', 'service.yml'),
      'apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {ports: [{port: 80}]}\n',
    );
    await writeFile(join(folder, 'sub', '.hidden', 'broken.yaml'), 'a: [\n');
    await writeFile(join(folder, 'notes.txt'), 'not a manifest');
    const { code, stdout, stderr } = translateCli(folder);
    expect(code, stderr).toBe(0);
    const out = parse(stdout) as { config: { virtualHosts: unknown[] } };
    expect(out.config.virtualHosts).toHaveLength(1);
  });

  it('a file in a folder that does not parse is a problem naming it (exit 1), the others are used', async () => {
    const folder = join(dir, 'folder-broken');
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, 'bad.yaml'), 'a: [\n');
    await writeFile(
      join(folder, 'web.yaml'),
      'apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {ports: [{port: 80}]}\n---\n' +
        'apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: web}\nspec:\n  ingressClassName: portcullis\n  rules: [{http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}}]\n',
    );
    const { code, stdout, stderr } = translateCli(folder);
    expect(code).toBe(1);
    expect(stderr).toContain(`${join(folder, 'bad.yaml')}:2:1: `);
    const out = parse(stdout) as { config: { virtualHosts: unknown[] }; problems: { code: string }[] };
    expect(out.problems.map((p) => p.code)).toEqual(['MANIFEST_INVALID']);
    expect(out.config.virtualHosts).toHaveLength(1);
  });

  it.each([
    [
      'a missing file',
      ['/nonexistent/portcullis.yaml'],
      'cannot read /nonexistent/portcullis.yaml: no such file or folder',
    ],
    [
      'a missing folder among good files',
      [join(GOLDEN, 'basic', 'in.yaml'), '/nonexistent/dir'],
      'cannot read /nonexistent/dir: no such file or folder',
    ],
    ['a path that is neither file nor folder', ['/dev/null'], '/dev/null is neither a file nor a folder'],
    ['an unknown flag', ['--bogus', join(GOLDEN, 'basic', 'in.yaml')], "unknown option '--bogus'"],
    ['no path at all', [], "missing required argument 'paths'"],
    [
      'an output format it does not know',
      ['-o', 'xml', join(GOLDEN, 'basic', 'in.yaml')],
      "argument 'xml' is invalid",
    ],
    [
      'a file size that is no size',
      ['--manifest-max-file-size', 'big', join(GOLDEN, 'basic', 'in.yaml')],
      'must be bytes',
    ],
    [
      'an ingress class that is no Kubernetes name',
      ['--ingress-class', 'No_Such', join(GOLDEN, 'basic', 'in.yaml')],
      '"No_Such" is not a Kubernetes name',
    ],
  ])('a usage error, %s: one line naming it on stderr, nothing on stdout, exit 2', (_what, args, message) => {
    const { code, stdout, stderr } = translateCli(...args);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr.trimEnd().split('\n')).toEqual([expect.stringContaining(message)]);
    expect(stderr).toMatch(/^portcullis translate: /);
  });

  it('says on stderr when no Ingress is of the ingress class, naming the classes found', () => {
    const { code, stderr } = translateCli('--ingress-class', 'other', join(GOLDEN, 'basic', 'in.yaml'));
    expect(code).toBe(0);
    expect(stderr).toMatch(
      /none of the 1 Ingresses is served with --ingress-class other \(their classes: portcullis\)/,
    );
    expect(translateCli(join(GOLDEN, 'basic', 'in.yaml')).stderr).not.toContain('none of the');
  });

  it('says so when the input holds no Ingress at all', async () => {
    const empty = join(dir, 'service-only.yaml');
    await writeFile(
      empty,
      'apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {ports: [{port: 80}]}\n',
    );
    expect(translateCli(empty).stderr).toContain('no Ingress in the input');
  });

  it('lists its exit statuses in --help', () => {
    const { code, stdout } = translateCli('--help');
    expect(code).toBe(0);
    expect(stdout).toMatch(/Exit status:\n\s+0 .*\n\s+1 .*problems.*\n\s+2 .*usage/);
  });
});
