import { mkdir, mkdtemp, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ObjectStore } from '../../controller/object-store.js';
import { ManifestFolderSource } from '../../controller/sources/manifest-folder.js';
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
  options: { watch?: boolean } = {},
): Promise<{ store: ObjectStore; source: ManifestFolderSource }> {
  const log = pino({ level: 'debug' }, { write: (line: string) => logs.push(JSON.parse(line)) });
  const store = new ObjectStore();
  source = new ManifestFolderSource({
    dir,
    log,
    watch: options.watch ?? false,
    debounceMs: 20,
    pollIntervalMs: 200,
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
