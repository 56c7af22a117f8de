/**
 * Every kind of folder edit reaches the store through the watcher alone: the
 * periodic rescan is ten minutes away, so whatever shows up within the few
 * seconds allowed was seen by the watcher. Correctness tests with generous
 * bounds, not timings (the timings are bench/controller.mjs's latency scenario).
 */
import { mkdir, mkdtemp, open, rename, rm, symlink, unlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ObjectStore } from '../../controller/object-store.js';
import { ManifestFolderSource } from '../../controller/sources/manifest-folder.js';
import type { KubeObject } from '../../controller/translate/k8s-types.js';
import { eventually } from '../support/http-client.js';

/** Far above what a poll-free source needs; far below the 10-minute poll. */
const WITHIN = 3000;

/** A Service whose name says which version of the file was read. */
const SERVICE = (name: string) =>
  `apiVersion: v1\nkind: Service\nmetadata:\n  name: ${name}\nspec:\n  ports: [{ name: http, port: 80 }]\n`;

let dir: string;
let outside: string;
let source: ManifestFolderSource | undefined;
let store: ObjectStore;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'portcullis-watch-'));
  outside = await mkdtemp(join(tmpdir(), 'portcullis-watch-outside-'));
});

afterEach(async () => {
  await source?.stop();
  source = undefined;
  await rm(dir, { recursive: true, force: true });
  await rm(outside, { recursive: true, force: true });
});

const names = () =>
  Object.values(store.snapshot())
    .flat()
    .map((o: KubeObject) => o.metadata.name)
    .sort();

async function watch(root = dir): Promise<void> {
  store = new ObjectStore();
  source = new ManifestFolderSource({
    dir: root,
    log: pino({ level: 'silent' }),
    pollIntervalMs: 600_000,
  });
  await source.start(store);
  // Let the scan that follows the first watches run, so no test is passed by it.
  await sleep(200);
}

const shows = (expected: string[], what: string) =>
  eventually(() => (names().join() === [...expected].sort().join() ? true : undefined), what, WITHIN, 10);

describe('ManifestFolderSource watching: editors saving a file', () => {
  it("vim's default save: the old file renamed to file~, a new file written, the backup deleted", async () => {
    await writeFile(join(dir, 'a.yaml'), SERVICE('a0'));
    await watch();
    for (let i = 1; i <= 5; i++) {
      await writeFile(join(dir, '.a.yaml.swp'), 'swap');
      await rename(join(dir, 'a.yaml'), join(dir, 'a.yaml~'));
      await writeFile(join(dir, 'a.yaml'), SERVICE(`a${i}`));
      await unlink(join(dir, 'a.yaml~'));
      await unlink(join(dir, '.a.yaml.swp'));
      await shows([`a${i}`], `save ${i}`);
    }
  });

  it('a new file written, the old renamed away, the new renamed in', async () => {
    await mkdir(join(dir, 'sub'));
    await writeFile(join(dir, 'sub', 'a.yaml'), SERVICE('a0'));
    await watch();
    for (let i = 1; i <= 5; i++) {
      const file = join(dir, 'sub', 'a.yaml');
      await writeFile(`${file}.new`, SERVICE(`a${i}`));
      await rename(file, `${file}.old`);
      await rename(`${file}.new`, file);
      await unlink(`${file}.old`);
      await shows([`a${i}`], `save ${i}`);
    }
  });

  it('a hidden temporary file renamed over the manifest, many times with no pause', async () => {
    await writeFile(join(dir, 'a.yaml'), SERVICE('a0'));
    await watch();
    for (let i = 1; i <= 20; i++) {
      await writeFile(join(dir, '.a.yaml.tmp'), SERVICE(`a${i}`));
      await rename(join(dir, '.a.yaml.tmp'), join(dir, 'a.yaml'));
    }
    await shows(['a20'], 'the last save');
  });

  it('in-place writes: truncated, then written in two parts', async () => {
    await writeFile(join(dir, 'a.yaml'), SERVICE('a0'));
    await watch();
    for (let i = 1; i <= 4; i++) {
      const text = SERVICE(`a${i}`);
      const handle = await open(join(dir, 'a.yaml'), 'w');
      await handle.write(text.slice(0, 20));
      await sleep(60); // longer than the debounce: a scan may read the half-written file
      await handle.write(text.slice(20));
      await handle.close();
      await shows([`a${i}`], `in-place write ${i}`);
    }
  });

  it('in-place writes of the same size, each right after the last was served', async () => {
    await writeFile(join(dir, 'a.yaml'), SERVICE('a0'));
    await watch();
    for (let i = 1; i <= 9; i++) {
      await writeFile(join(dir, 'a.yaml'), SERVICE(`a${i}`));
      await shows([`a${i}`], `write ${i}`);
    }
  });

  it('a same-size rewrite that keeps the file time (two writes in one tick of its grain)', async () => {
    // A whole second, so that putting it back below is exact.
    const second = Math.floor(Date.now() / 1000);
    await writeFile(join(dir, 'a.yaml'), SERVICE('a0'));
    await utimes(join(dir, 'a.yaml'), second, second);
    await watch();
    expect(names()).toEqual(['a0']);
    // As if written again within the tick the scan read it in: same inode, size and mtime.
    await writeFile(join(dir, 'a.yaml'), SERVICE('a1'));
    await utimes(join(dir, 'a.yaml'), second, second);
    await shows(['a1'], 'the rewrite');
  });

  it('a stream of writes does not put the rescan off until it ends', async () => {
    await writeFile(join(dir, 'a.yaml'), SERVICE('v0'));
    await watch();
    let served = false;
    // A write every 20 ms for up to 3 s, less than the debounce apart.
    for (let i = 1; i <= 150 && !served; i++) {
      await writeFile(join(dir, 'a.yaml'), SERVICE(`v${i}`));
      await sleep(20);
      served = names()[0] !== 'v0';
    }
    expect(served).toBe(true);
  });

  it('a file deleted, then one written in its place', async () => {
    await writeFile(join(dir, 'a.yaml'), SERVICE('a'));
    await writeFile(join(dir, 'b.yaml'), SERVICE('b'));
    await watch();
    await unlink(join(dir, 'a.yaml'));
    await shows(['b'], 'a deleted');
    await writeFile(join(dir, 'a.yaml'), SERVICE('a2'));
    await shows(['a2', 'b'], 'a written again');
  });
});

describe('ManifestFolderSource watching: folders', () => {
  it('a folder created empty, files written into it later', async () => {
    await watch();
    await mkdir(join(dir, 'new'));
    await sleep(200);
    await writeFile(join(dir, 'new', 'a.yaml'), SERVICE('a'));
    await shows(['a'], 'a file in the new folder');
    await sleep(200);
    await writeFile(join(dir, 'new', 'b.yaml'), SERVICE('b'));
    await shows(['a', 'b'], 'a second file in it');
  });

  it('a folder created and filled at once, many times', async () => {
    await watch();
    const expected: string[] = [];
    for (let i = 0; i < 10; i++) {
      await mkdir(join(dir, `d${i}`, 'x'), { recursive: true });
      await writeFile(join(dir, `d${i}`, 'x', 'a.yaml'), SERVICE(`d${i}`));
      expected.push(`d${i}`);
    }
    await shows(expected, 'every new folder');
  });

  it('a prepared tree several levels deep moved in from outside, then edited deep inside', async () => {
    await writeFile(join(dir, 'top.yaml'), SERVICE('top'));
    await watch();
    await mkdir(join(outside, 'tree', 'x', 'y', 'z'), { recursive: true });
    await writeFile(join(outside, 'tree', 'a.yaml'), SERVICE('a'));
    await writeFile(join(outside, 'tree', 'x', 'y', 'z', 'deep.yaml'), SERVICE('deep'));
    await rename(join(outside, 'tree'), join(dir, 'tree'));
    await shows(['a', 'deep', 'top'], 'the tree moved in');
    await sleep(200);
    await writeFile(join(dir, 'tree', 'x', 'y', 'z', 'deep.yaml'), SERVICE('deep2'));
    await shows(['a', 'deep2', 'top'], 'an edit deep in the moved tree');
    await writeFile(join(dir, 'tree', 'x', 'y', 'new.yaml'), SERVICE('new'));
    await shows(['a', 'deep2', 'new', 'top'], 'a new file in the moved tree');
  });

  it('a folder deleted and created again with the same name, then written to', async () => {
    await mkdir(join(dir, 'sub'));
    await writeFile(join(dir, 'sub', 'a.yaml'), SERVICE('a0'));
    await watch();
    for (let i = 1; i <= 4; i++) {
      await rm(join(dir, 'sub'), { recursive: true });
      await mkdir(join(dir, 'sub'));
      await writeFile(join(dir, 'sub', 'a.yaml'), SERVICE(`a${i}`));
      await shows([`a${i}`], `re-created ${i}`);
      // Written later: the new folder must be watched, not the deleted one.
      await sleep(150);
      await writeFile(join(dir, 'sub', 'a.yaml'), SERVICE(`a${i}-edit`));
      await shows([`a${i}-edit`], `edit in re-created ${i}`);
    }
  });

  it('a folder renamed away and another put in its place', async () => {
    await mkdir(join(dir, 'sub'));
    await writeFile(join(dir, 'sub', 'a.yaml'), SERVICE('a0'));
    await watch();
    await rename(join(dir, 'sub'), join(outside, 'old'));
    await mkdir(join(outside, 'next'));
    await writeFile(join(outside, 'next', 'a.yaml'), SERVICE('a1'));
    await rename(join(outside, 'next'), join(dir, 'sub'));
    await shows(['a1'], 'the replacement folder');
    await sleep(150);
    await writeFile(join(dir, 'sub', 'b.yaml'), SERVICE('b'));
    await shows(['a1', 'b'], 'a file in the replacement');
    // The old folder, now outside, no longer counts.
    await writeFile(join(outside, 'old', 'c.yaml'), SERVICE('c'));
    await sleep(300);
    expect(names()).toEqual(['a1', 'b']);
  });

  it('a file moved between subfolders, then edited where it is now', async () => {
    await mkdir(join(dir, 'one'));
    await mkdir(join(dir, 'two'));
    await writeFile(join(dir, 'one', 'a.yaml'), SERVICE('a'));
    await writeFile(join(dir, 'two', 'b.yaml'), SERVICE('b'));
    await watch();
    await rename(join(dir, 'one', 'a.yaml'), join(dir, 'two', 'a.yaml'));
    await sleep(150);
    await writeFile(join(dir, 'two', 'a.yaml'), SERVICE('a-moved'));
    await shows(['a-moved', 'b'], 'the moved file edited');
    await rename(join(dir, 'two', 'a.yaml'), join(dir, 'one', 'c.yml'));
    await writeFile(join(dir, 'one', 'c.yml'), SERVICE('c'));
    await shows(['b', 'c'], 'moved back under another name and edited');
  });

  it('the watched folder itself renamed away and back', async () => {
    await mkdir(join(dir, 'sub'));
    await writeFile(join(dir, 'sub', 'a.yaml'), SERVICE('a'));
    await watch();
    await rename(join(dir, 'sub'), join(dir, 'sub2'));
    await sleep(150);
    await rename(join(dir, 'sub2'), join(dir, 'sub'));
    await sleep(150);
    await writeFile(join(dir, 'sub', 'a.yaml'), SERVICE('a2'));
    await shows(['a2'], 'an edit after the round trip');
  });
});

describe('ManifestFolderSource watching: symbolic links', () => {
  /** What the kubelet does: a new timestamped folder, a new link to it renamed over `..data`, the old folder deleted. */
  async function configMapUpdate(mount: string, version: number, files: Record<string, string>) {
    const folder = join(mount, `..2026_12_04_00_00_0${version}.000${version}`);
    for (const [file, text] of Object.entries(files)) {
      await mkdir(join(folder, file, '..'), { recursive: true });
      await writeFile(join(folder, file), text);
    }
    await symlink(folder.slice(mount.length + 1), join(mount, '..data_tmp'));
    await rename(join(mount, '..data_tmp'), join(mount, '..data'));
    if (version > 1) {
      const old = `..2026_12_04_00_00_0${version - 1}.000${version - 1}`;
      await rm(join(mount, old), { recursive: true });
    }
  }

  it('the manifest folder is a ConfigMap volume: each ..data swap is served, keys added and removed', async () => {
    await configMapUpdate(dir, 1, { 'a.yaml': SERVICE('a1') });
    await symlink(join('..data', 'a.yaml'), join(dir, 'a.yaml'));
    await watch();
    expect(names()).toEqual(['a1']);
    await configMapUpdate(dir, 2, { 'a.yaml': SERVICE('a2') });
    await shows(['a2'], 'update 2');
    await configMapUpdate(dir, 3, { 'a.yaml': SERVICE('a3'), 'b.yaml': SERVICE('b3') });
    await symlink(join('..data', 'b.yaml'), join(dir, 'b.yaml'));
    await shows(['a3', 'b3'], 'update 3, a key added');
    await configMapUpdate(dir, 4, { 'b.yaml': SERVICE('b4') });
    await unlink(join(dir, 'a.yaml'));
    await shows(['b4'], 'update 4, a key removed');
  });

  it('a ConfigMap volume with items in subfolders (sub -> ..data/sub)', async () => {
    await configMapUpdate(dir, 1, { 'sub/a.yaml': SERVICE('a1') });
    await symlink(join('..data', 'sub'), join(dir, 'sub'));
    await watch();
    expect(names()).toEqual(['a1']);
    for (let v = 2; v <= 4; v++) {
      await configMapUpdate(dir, v, { 'sub/a.yaml': SERVICE(`a${v}`) });
      await shows([`a${v}`], `update ${v}`);
    }
  });

  it('--manifests names the ..data link of a ConfigMap volume itself', async () => {
    await configMapUpdate(outside, 1, { 'a.yaml': SERVICE('a1') });
    await watch(join(outside, '..data'));
    expect(names()).toEqual(['a1']);
    for (let v = 2; v <= 4; v++) {
      await configMapUpdate(outside, v, { 'a.yaml': SERVICE(`a${v}`) });
      await shows([`a${v}`], `update ${v}`);
    }
  });

  it('--manifests names a link to a folder, and the link is pointed elsewhere (the old folder kept)', async () => {
    await mkdir(join(outside, 'v1'));
    await writeFile(join(outside, 'v1', 'a.yaml'), SERVICE('a1'));
    await symlink('v1', join(outside, 'current'));
    await watch(join(outside, 'current'));
    expect(names()).toEqual(['a1']);
    await mkdir(join(outside, 'v2'));
    await writeFile(join(outside, 'v2', 'a.yaml'), SERVICE('a2'));
    await symlink('v2', join(outside, 'next'));
    await rename(join(outside, 'next'), join(outside, 'current'));
    await shows(['a2'], 'the link pointed at v2');
    await sleep(150);
    await writeFile(join(outside, 'v2', 'b.yaml'), SERVICE('b2'));
    await shows(['a2', 'b2'], 'a file written into v2');
  });

  it('a link to a folder outside, pointed elsewhere, and a linked file edited where it really is', async () => {
    await mkdir(join(outside, 'v1'));
    await mkdir(join(outside, 'v2'));
    await mkdir(join(outside, 'files'));
    await writeFile(join(outside, 'v1', 'a.yaml'), SERVICE('a1'));
    await writeFile(join(outside, 'v2', 'a.yaml'), SERVICE('a2'));
    await writeFile(join(outside, 'files', 'f.yaml'), SERVICE('f1'));
    await symlink(join(outside, 'v1'), join(dir, 'linked'));
    await symlink(join(outside, 'files', 'f.yaml'), join(dir, 'f.yaml'));
    await watch();
    expect(names()).toEqual(['a1', 'f1']);
    await symlink(join(outside, 'v2'), join(dir, '.linked-next'));
    await rename(join(dir, '.linked-next'), join(dir, 'linked'));
    await shows(['a2', 'f1'], 'the folder link pointed at v2');
    await sleep(150);
    await writeFile(join(outside, 'v2', 'a.yaml'), SERVICE('a2-edit'));
    await shows(['a2-edit', 'f1'], 'an edit in the linked folder');
    await writeFile(join(outside, 'files', 'f.yaml'), SERVICE('f2'));
    await shows(['a2-edit', 'f2'], 'an edit of the linked file');
  });
});
