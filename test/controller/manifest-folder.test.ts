import { mkdir, mkdtemp, rename, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ObjectStore } from '../../controller/object-store.js';
import {
  ManifestFolderSource,
  type ManifestFolderOptions,
} from '../../controller/sources/manifest-folder.js';
import type { KubeObject } from '../../controller/translate/k8s-types.js';
import { eventually } from '../support/http-client.js';

const SERVICE = (name: string, namespace?: string) => `apiVersion: v1
kind: Service
metadata:
  name: ${name}
${namespace ? `  namespace: ${namespace}\n` : ''}spec:
  ports: [{ name: http, port: 80 }]
`;

let dir: string;
let logs: Record<string, unknown>[];
let source: ManifestFolderSource | undefined;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'portcullis-manifests-'));
  logs = [];
});

afterEach(async () => {
  await source?.stop();
  source = undefined;
  await rm(dir, { recursive: true, force: true });
});

function objects(store: ObjectStore): string[] {
  return Object.values(store.snapshot())
    .flat()
    .map((o: KubeObject) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`)
    .sort();
}

async function load(
  options: Partial<ManifestFolderOptions> = {},
): Promise<{ store: ObjectStore; source: ManifestFolderSource }> {
  const log = pino({ level: 'debug' }, { write: (line: string) => logs.push(JSON.parse(line)) });
  const store = new ObjectStore();
  source = new ManifestFolderSource({
    dir,
    log,
    watch: false,
    debounceMs: 20,
    pollIntervalMs: 200,
    ...options,
  });
  await source.start(store);
  return { store, source };
}

describe('ManifestFolderSource', () => {
  it('reads yaml, yml and json files recursively, multi-document and Lists, and reports every kind synced', async () => {
    await writeFile(join(dir, 'a.yaml'), SERVICE('a', 'shop') + '---\n' + SERVICE('b') + '---\n');
    await mkdir(join(dir, 'nested', 'deeper'), { recursive: true });
    await writeFile(join(dir, 'nested', 'deeper', 'c.yml'), SERVICE('c', 'shop'));
    await writeFile(
      join(dir, 'nested', 'list.json'),
      JSON.stringify({
        apiVersion: 'v1',
        kind: 'List',
        items: [{ apiVersion: 'v1', kind: 'Service', metadata: { name: 'd' } }],
      }),
    );
    await writeFile(join(dir, 'notes.txt'), SERVICE('ignored-txt'));
    await mkdir(join(dir, '.hidden'));
    await writeFile(join(dir, '.hidden', 'e.yaml'), SERVICE('ignored-hidden'));
    const { store } = await load();
    expect(objects(store)).toEqual([
      'Service/default/b',
      'Service/default/d',
      'Service/shop/a',
      'Service/shop/c',
    ]);
    expect(store.isSynced()).toBe(true);
  });

  it('ignores other kinds with a debug log', async () => {
    await writeFile(
      join(dir, 'a.yaml'),
      'apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: web }\n---\n' + SERVICE('web'),
    );
    const { store } = await load();
    expect(objects(store)).toEqual(['Service/default/web']);
    const ignored = logs.find((l) => l.kind === 'Deployment');
    expect(ignored).toMatchObject({ level: 20, file: 'a.yaml' });
  });

  it('follows added, changed and deleted files', async () => {
    await writeFile(join(dir, 'a.yaml'), SERVICE('a'));
    const { store, source } = await load();
    let changes = 0;
    store.onChange(() => changes++);

    await writeFile(join(dir, 'b.yaml'), SERVICE('b'));
    await source.rescan();
    expect(objects(store)).toEqual(['Service/default/a', 'Service/default/b']);
    expect(changes).toBe(1);

    await writeFile(join(dir, 'a.yaml'), SERVICE('a2'));
    await source.rescan();
    expect(objects(store)).toEqual(['Service/default/a2', 'Service/default/b']);

    await unlink(join(dir, 'b.yaml'));
    await source.rescan();
    expect(objects(store)).toEqual(['Service/default/a2']);

    changes = 0;
    await source.rescan(); // nothing changed on disk: nothing reported
    expect(changes).toBe(0);
  });

  it('keeps the last good objects of a file that stops parsing, and logs file and line', async () => {
    await writeFile(join(dir, 'a.yaml'), SERVICE('a') + '---\n' + SERVICE('a-too'));
    await writeFile(join(dir, 'b.yaml'), SERVICE('b'));
    const { store, source } = await load();

    await writeFile(join(dir, 'a.yaml'), SERVICE('a') + '---\nkind: Service\nmetadata: {name: [unclosed\n');
    await writeFile(join(dir, 'b.yaml'), SERVICE('b2'));
    await source.rescan();
    // b's change is taken; a's objects are kept as they were.
    expect(objects(store)).toEqual(['Service/default/a', 'Service/default/a-too', 'Service/default/b2']);
    const error = logs.find((l) => l.level === 50);
    expect(error).toMatchObject({ file: 'a.yaml', line: expect.any(Number) });
    expect(error!.msg).toContain('keeping its last objects');

    await writeFile(join(dir, 'a.yaml'), SERVICE('a-fixed'));
    await source.rescan();
    expect(objects(store)).toEqual(['Service/default/a-fixed', 'Service/default/b2']);
  });

  it('a file that is broken from the start contributes nothing, and the rest loads', async () => {
    await writeFile(join(dir, 'a.yaml'), 'kind: [');
    await writeFile(join(dir, 'b.yaml'), SERVICE('b'));
    const { store } = await load();
    expect(objects(store)).toEqual(['Service/default/b']);
    expect(store.isSynced()).toBe(true);
  });

  it('the later file wins when two define the same object', async () => {
    await writeFile(join(dir, 'a.yaml'), SERVICE('web') + 'x: 1\n');
    await writeFile(join(dir, 'b.yaml'), SERVICE('web'));
    const { store } = await load();
    expect(store.snapshot().services).toHaveLength(1);
    expect(logs.some((l) => l.msg === 'object defined twice; the later file wins')).toBe(true);
  });

  it('refuses a folder that does not exist', async () => {
    const store = new ObjectStore();
    const missing = new ManifestFolderSource({ dir: join(dir, 'missing'), log: pino({ level: 'silent' }) });
    await expect(missing.start(store)).rejects.toThrow(/is not a directory/);
  });

  it('watches the folder: edits arrive without a rescan call', async () => {
    await writeFile(join(dir, 'a.yaml'), SERVICE('a'));
    const { store } = await load({ watch: true });
    await mkdir(join(dir, 'sub'));
    await writeFile(join(dir, 'sub', 'b.yaml'), SERVICE('b'));
    await eventually(() => (objects(store).length === 2 ? true : undefined), 'b to load', 5000);
    await unlink(join(dir, 'a.yaml'));
    await eventually(
      () => (objects(store).join() === 'Service/default/b' ? true : undefined),
      'a to go',
      5000,
    );
  });
});

/** Nine levels of nine aliases: far beyond the parser's alias limit once expanded. */
const ALIAS_BOMB = `a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
`;

describe('ManifestFolderSource: symbolic links and scan bounds', () => {
  it('a link to a folder already read (a loop) is not followed again, and is warned about once', async () => {
    await writeFile(join(dir, 'a.yaml'), SERVICE('a'));
    await mkdir(join(dir, 'sub'));
    await writeFile(join(dir, 'sub', 'b.yaml'), SERVICE('b'));
    await symlink('.', join(dir, 'loop'));
    await symlink('..', join(dir, 'sub', 'up'));
    const { store, source } = await load();
    expect(objects(store)).toEqual(['Service/default/a', 'Service/default/b']);
    expect(logs.filter((l) => l.msg === 'object defined twice; the later file wins')).toEqual([]);
    const warned = logs.filter((l) => typeof l.msg === 'string' && l.msg.includes('not followed'));
    expect(warned.map((l) => l.file).sort()).toEqual(['loop', join('sub', 'up')]);
    await source.rescan();
    expect(logs.filter((l) => typeof l.msg === 'string' && l.msg.includes('not followed'))).toHaveLength(2);
  });

  it('follows links to files and folders outside, as a mounted ConfigMap has them, each real file once', async () => {
    const outside = await mkdtemp(join(tmpdir(), 'portcullis-outside-'));
    try {
      await writeFile(join(outside, 'o.yaml'), SERVICE('outside'));
      await symlink(outside, join(dir, 'linked'));
      await symlink(outside, join(dir, 'linked-again'));
      await mkdir(join(dir, '..2026_01_01'));
      await writeFile(join(dir, '..2026_01_01', 'a.yaml'), SERVICE('a'));
      await symlink('..2026_01_01', join(dir, '..data'));
      await symlink(join('..data', 'a.yaml'), join(dir, 'a.yaml'));
      await symlink(join('..data', 'a.yaml'), join(dir, 'b.yaml'));
      const { store } = await load();
      expect(objects(store)).toEqual(['Service/default/a', 'Service/default/outside']);
      expect(logs.filter((l) => l.msg === 'object defined twice; the later file wins')).toEqual([]);
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });

  it('reads no deeper than maxDepth, and says so as a problem naming the folder', async () => {
    await writeFile(join(dir, 'top.yaml'), SERVICE('top'));
    await mkdir(join(dir, 'a', 'b', 'c'), { recursive: true });
    await writeFile(join(dir, 'a', 'b', 'ok.yaml'), SERVICE('ok'));
    await writeFile(join(dir, 'a', 'b', 'c', 'deep.yaml'), SERVICE('deep'));
    const { store, source } = await load({ limits: { maxDepth: 2 } });
    expect(objects(store)).toEqual(['Service/default/ok', 'Service/default/top']);
    expect(source.problems()).toEqual([
      expect.objectContaining({ code: 'MANIFEST_FOLDER_LIMIT', file: join('a', 'b', 'c') }),
    ]);
  });

  it('reads at most maxFiles files (in path order), says so, and keeps what it read before from the others', async () => {
    for (const name of ['a', 'b', 'c']) await writeFile(join(dir, `${name}.yaml`), SERVICE(name));
    const { store, source } = await load({ limits: { maxFiles: 3 } });
    expect(source.problems()).toEqual([]);
    await writeFile(join(dir, '0.yaml'), SERVICE('zero'));
    await source.rescan();
    expect(objects(store)).toEqual([
      'Service/default/a',
      'Service/default/b',
      'Service/default/c',
      'Service/default/zero',
    ]);
    expect(source.problems()).toEqual([
      expect.objectContaining({ code: 'MANIFEST_FOLDER_LIMIT', file: '.' }),
    ]);
    await unlink(join(dir, '0.yaml'));
    await source.rescan();
    expect(objects(store)).toEqual(['Service/default/a', 'Service/default/b', 'Service/default/c']);
    expect(source.problems()).toEqual([]);
  });
});

describe('ManifestFolderSource: a file that fails in any way', () => {
  it('an alias bomb is refused for that file alone: its last objects are kept and other files update', async () => {
    await writeFile(join(dir, 'bomb.yaml'), SERVICE('was-here'));
    await writeFile(join(dir, 'b.yaml'), SERVICE('b'));
    const { store, source } = await load();
    await writeFile(join(dir, 'bomb.yaml'), ALIAS_BOMB);
    await writeFile(join(dir, 'b.yaml'), SERVICE('b2'));
    await source.rescan();
    expect(objects(store)).toEqual(['Service/default/b2', 'Service/default/was-here']);
    expect(source.problems()).toEqual([
      expect.objectContaining({ code: 'MANIFEST_INVALID', file: 'bomb.yaml', line: 1, column: 1 }),
    ]);
    expect(logs.some((l) => String(l.msg).includes('rescanning the manifests failed'))).toBe(false);
    const error = logs.find((l) => l.level === 50 && l.file === 'bomb.yaml');
    expect(error?.msg).toMatch(/alias/i);
  });

  it('refuses a file larger than maxFileBytes without parsing it, keeping its last objects', async () => {
    await writeFile(join(dir, 'big.yaml'), SERVICE('big'));
    const { store, source } = await load({ limits: { maxFileBytes: 1000 } });
    await writeFile(join(dir, 'big.yaml'), SERVICE('big2') + `# ${'x'.repeat(2000)}\n`);
    await source.rescan();
    expect(objects(store)).toEqual(['Service/default/big']);
    expect(source.problems()).toEqual([
      expect.objectContaining({ code: 'MANIFEST_TOO_LARGE', file: 'big.yaml' }),
    ]);
  });

  it('refuses a file with more than maxDocuments documents', async () => {
    await writeFile(join(dir, 'many.yaml'), [1, 2, 3, 4].map((i) => SERVICE(`s${i}`)).join('---\n'));
    await writeFile(join(dir, 'ok.yaml'), [1, 2, 3].map((i) => SERVICE(`ok${i}`)).join('---\n'));
    const { store, source } = await load({ limits: { maxDocuments: 3 } });
    expect(objects(store)).toEqual(['Service/default/ok1', 'Service/default/ok2', 'Service/default/ok3']);
    expect(source.problems()).toEqual([
      expect.objectContaining({
        code: 'MANIFEST_TOO_LARGE',
        file: 'many.yaml',
        message: expect.stringMatching(/3 documents/),
      }),
    ]);
  });

  it('lists a file that does not parse among its problems, with line and column, until it is fixed', async () => {
    await writeFile(join(dir, 'a.yaml'), SERVICE('a'));
    const { source } = await load();
    let notified = 0;
    source.onProblems(() => notified++);
    await writeFile(join(dir, 'a.yaml'), 'apiVersion: v1\nkind: Service\nmetadata: {name: [\n');
    await source.rescan();
    expect(source.problems()).toEqual([
      {
        code: 'MANIFEST_INVALID',
        file: 'a.yaml',
        line: 4,
        column: 1,
        message: expect.stringContaining('a.yaml:4:1'),
        objects: [],
      },
    ]);
    expect(notified).toBe(1);
    await source.rescan(); // unchanged: no news
    expect(notified).toBe(1);
    await writeFile(join(dir, 'a.yaml'), SERVICE('a'));
    await source.rescan();
    expect(source.problems()).toEqual([]);
    expect(notified).toBe(2);
    expect(
      logs.some((l) => l.level === 30 && l.file === 'a.yaml' && String(l.msg).includes('parses again')),
    ).toBe(true);
  });

  it('stops a scan at once when stopped, even in a large folder', async () => {
    for (let i = 0; i < 300; i++) await writeFile(join(dir, `s${i}.yaml`), SERVICE(`s${i}`));
    const { store, source } = await load();
    for (let i = 0; i < 300; i++) await writeFile(join(dir, `s${i}.yaml`), SERVICE(`t${i}`));
    const scan = source.rescan();
    await source.stop();
    await scan;
    // Abandoned at its first pause: nothing half-read was applied.
    expect(objects(store).filter((o) => o.startsWith('Service/default/t'))).toEqual([]);
    expect(objects(store)).toHaveLength(300);
  });
});

/**
 * The watcher alone: the periodic rescan is a minute away, so whatever is
 * served within the few seconds allowed came through the watcher.
 */
describe('ManifestFolderSource: watching (rescan a minute away)', () => {
  const WITHIN = 4000;
  const watched = () => load({ watch: true, pollIntervalMs: 60_000 });
  const shows = (store: ObjectStore, expected: string[], what: string) =>
    eventually(() => (objects(store).join() === expected.join() ? true : undefined), what, WITHIN);

  it('a file renamed into and out of the manifest names', async () => {
    await writeFile(join(dir, 'a.yaml'), SERVICE('a'));
    await writeFile(join(dir, 'b.txt'), SERVICE('b'));
    const { store } = await watched();
    await rename(join(dir, 'a.yaml'), join(dir, 'a.yaml.bak'));
    await shows(store, [], 'a renamed away');
    await rename(join(dir, 'b.txt'), join(dir, 'b.yaml'));
    await shows(store, ['Service/default/b'], 'b renamed in');
    await rename(join(dir, 'b.yaml'), join(dir, 'c.yml'));
    await writeFile(join(dir, 'c.yml'), SERVICE('c'));
    await shows(store, ['Service/default/c'], 'renamed, then edited');
  });

  it('atomic saves (a temporary file renamed over the manifest), again and again', async () => {
    await mkdir(join(dir, 'sub'));
    await writeFile(join(dir, 'sub', 'a.yaml'), SERVICE('a0'));
    const { store } = await watched();
    for (let i = 1; i <= 6; i++) {
      const file = join(dir, 'sub', 'a.yaml');
      await writeFile(`${file}.tmp-${i}`, SERVICE(`a${i}`));
      await rename(`${file}.tmp-${i}`, file);
      await shows(store, [`Service/default/a${i}`], `atomic save ${i}`);
    }
  });

  it('in-place edits of a file that an atomic save replaced', async () => {
    await writeFile(join(dir, 'a.yaml'), SERVICE('a0'));
    const { store } = await watched();
    await writeFile(join(dir, 'a.yaml.tmp'), SERVICE('a1'));
    await rename(join(dir, 'a.yaml.tmp'), join(dir, 'a.yaml'));
    await shows(store, ['Service/default/a1'], 'the atomic save');
    for (let i = 2; i <= 4; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      await writeFile(join(dir, 'a.yaml'), SERVICE(`a${i}`));
      await shows(store, [`Service/default/a${i}`], `in-place edit ${i}`);
    }
  });

  it('a file deleted and written again', async () => {
    await writeFile(join(dir, 'a.yaml'), SERVICE('a0'));
    const { store } = await watched();
    for (let i = 1; i <= 3; i++) {
      await unlink(join(dir, 'a.yaml'));
      await writeFile(join(dir, 'a.yaml'), SERVICE(`a${i}`));
      await shows(store, [`Service/default/a${i}`], `rewrite ${i}`);
    }
  });

  it('deletes of files and folders', async () => {
    await mkdir(join(dir, 'sub', 'deeper'), { recursive: true });
    await writeFile(join(dir, 'a.yaml'), SERVICE('a'));
    await writeFile(join(dir, 'sub', 'b.yaml'), SERVICE('b'));
    await writeFile(join(dir, 'sub', 'deeper', 'c.yaml'), SERVICE('c'));
    const { store } = await watched();
    await unlink(join(dir, 'sub', 'deeper', 'c.yaml'));
    await shows(store, ['Service/default/a', 'Service/default/b'], 'c deleted');
    await rm(join(dir, 'sub'), { recursive: true });
    await shows(store, ['Service/default/a'], 'sub deleted');
    await unlink(join(dir, 'a.yaml'));
    await shows(store, [], 'a deleted');
  });

  it('new folders, nested ones, and files written into them at once', async () => {
    const { store } = await watched();
    await mkdir(join(dir, 'new'));
    await writeFile(join(dir, 'new', 'a.yaml'), SERVICE('a'));
    await shows(store, ['Service/default/a'], 'a file in a new folder');
    await mkdir(join(dir, 'x', 'y', 'z'), { recursive: true });
    await writeFile(join(dir, 'x', 'y', 'z', 'b.yaml'), SERVICE('b'));
    await shows(store, ['Service/default/a', 'Service/default/b'], 'a file three new folders down');
    // Written a while after the folder appeared: the new folder itself is watched.
    await new Promise((resolve) => setTimeout(resolve, 300));
    await writeFile(join(dir, 'x', 'y', 'z', 'c.yaml'), SERVICE('c'));
    await shows(store, ['Service/default/a', 'Service/default/b', 'Service/default/c'], 'a later file in it');
  });

  it('folders renamed in and out, and folders moved in from elsewhere', async () => {
    const outside = await mkdtemp(join(tmpdir(), 'portcullis-outside-'));
    try {
      await mkdir(join(dir, 'sub'));
      await writeFile(join(dir, 'sub', 'a.yaml'), SERVICE('a'));
      const { store } = await watched();
      await rename(join(dir, 'sub'), join(dir, '.sub-hidden'));
      await shows(store, [], 'folder hidden by a rename');
      await rename(join(dir, '.sub-hidden'), join(dir, 'back'));
      await shows(store, ['Service/default/a'], 'folder renamed back in');
      await writeFile(join(dir, 'back', 'b.yaml'), SERVICE('b'));
      await shows(store, ['Service/default/a', 'Service/default/b'], 'a file in the renamed folder');
      await mkdir(join(outside, 'moved'));
      await writeFile(join(outside, 'moved', 'c.yaml'), SERVICE('c'));
      await rename(join(outside, 'moved'), join(dir, 'moved'));
      await shows(
        store,
        ['Service/default/a', 'Service/default/b', 'Service/default/c'],
        'a folder moved in',
      );
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });

  it('a mounted ConfigMap update: the ..data link swapped for a new folder', async () => {
    await mkdir(join(dir, '..v1'));
    await writeFile(join(dir, '..v1', 'a.yaml'), SERVICE('a1'));
    await symlink('..v1', join(dir, '..data'));
    await symlink(join('..data', 'a.yaml'), join(dir, 'a.yaml'));
    const { store } = await watched();
    expect(objects(store)).toEqual(['Service/default/a1']);
    // What the kubelet does: write a new folder, point a new link at it, rename that link over ..data.
    await mkdir(join(dir, '..v2'));
    await writeFile(join(dir, '..v2', 'a.yaml'), SERVICE('a2'));
    await symlink('..v2', join(dir, '..data_tmp'));
    await rename(join(dir, '..data_tmp'), join(dir, '..data'));
    await rm(join(dir, '..v1'), { recursive: true });
    await shows(store, ['Service/default/a2'], 'the new ConfigMap content');
    await mkdir(join(dir, '..v3'));
    await writeFile(join(dir, '..v3', 'a.yaml'), SERVICE('a3'));
    await symlink('..v3', join(dir, '..data_tmp'));
    await rename(join(dir, '..data_tmp'), join(dir, '..data'));
    await rm(join(dir, '..v2'), { recursive: true });
    await shows(store, ['Service/default/a3'], 'the second update');
  });

  it('eight quick single-file edits across folders, each served', async () => {
    await mkdir(join(dir, 'one'));
    await mkdir(join(dir, 'two'));
    const files = [join(dir, 'a.yaml'), join(dir, 'one', 'b.yaml'), join(dir, 'two', 'c.yaml')];
    for (const [i, file] of files.entries()) await writeFile(file, SERVICE(`f${i}-0`));
    const { store } = await watched();
    for (let edit = 1; edit <= 8; edit++) {
      const i = edit % files.length;
      await writeFile(files[i]!, SERVICE(`f${i}-${edit}`));
      await eventually(
        () => (objects(store).includes(`Service/default/f${i}-${edit}`) ? true : undefined),
        `edit ${edit}`,
        WITHIN,
      );
    }
  });
});
