/**
 * A Translator reuses per-object results between calls (memo.ts). Its output
 * must always be exactly what a fresh translate() gives for the same
 * snapshot. Checked on every golden case, through long seeded sequences of
 * random edits (a changed field, a removed or restored object) made through
 * the ObjectStore the controller uses, and for how little a one-Ingress
 * change recomputes in a large cluster.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { ObjectStore } from '../../controller/object-store.js';
import { translate, Translator, type KubeObject, type Snapshot } from '../../controller/translate/index.js';
import { syntheticCluster } from '../fixtures/k8s.js';
import { seededRandom } from '../support/random.js';

const GOLDEN_DIR = fileURLToPath(new URL('../golden/translate/', import.meta.url));
const cases = readdirSync(GOLDEN_DIR, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)
  .sort();

function loadObjects(name: string): KubeObject[] {
  const text = readFileSync(join(GOLDEN_DIR, name, 'in.yaml'), 'utf8');
  return parseAllDocuments(text).map((doc) => doc.toJS() as KubeObject);
}

/** The whole result as text: any difference in config, statuses or problems shows. */
function render(result: ReturnType<typeof translate>): string {
  return JSON.stringify(result);
}

type Leaf = { path: (string | number)[]; value: string | number | boolean };

/** Every scalar in an object except its identity (kind, apiVersion, name, namespace). */
function leaves(value: unknown, path: (string | number)[] = [], out: Leaf[] = []): Leaf[] {
  if (Array.isArray(value)) value.forEach((v, i) => leaves(v, [...path, i], out));
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      const identity =
        (path.length === 0 && (k === 'kind' || k === 'apiVersion')) ||
        (path.length === 1 && path[0] === 'metadata' && (k === 'name' || k === 'namespace'));
      if (!identity) leaves(v, [...path, k], out);
    }
  } else if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
    out.push({ path, value });
  }
  return out;
}

function setAt(obj: unknown, path: (string | number)[], value: unknown): void {
  let parent = obj as Record<string | number, unknown>;
  for (const step of path.slice(0, -1)) parent = parent[step] as Record<string | number, unknown>;
  parent[path[path.length - 1]!] = value;
}

/**
 * Random edits: a scalar replaced by another scalar of the same type found
 * anywhere in the objects (so names, ports and plugin lists stay plausible
 * and references keep resolving, or stop resolving), an object removed, or
 * a removed one restored.
 */
type Edit = { remove: KubeObject } | { upsert: KubeObject };

function* edits(objects: KubeObject[], seed: number, count: number): Generator<Edit> {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const pool = new Map<string, (string | number | boolean)[]>();
  for (const object of objects) {
    for (const { value } of leaves(object)) {
      const list = pool.get(typeof value) ?? [];
      list.push(value);
      pool.set(typeof value, list);
    }
  }
  pool.get('boolean')?.push(true, false);
  const current = new Map(objects.map((o) => [o, o]));
  const removed: KubeObject[] = [];
  for (let i = 0; i < count; i++) {
    const roll = random();
    if (roll < 0.1 && current.size > 1) {
      const original = pick([...current.keys()]);
      const object = current.get(original)!;
      current.delete(original);
      removed.push(original);
      yield { remove: object };
    } else if (roll < 0.2 && removed.length > 0) {
      const original = removed.splice(Math.floor(random() * removed.length), 1)[0]!;
      current.set(original, original);
      yield { upsert: original };
    } else {
      const original = pick([...current.keys()]);
      const next = structuredClone(current.get(original)!);
      const candidates = leaves(next);
      if (candidates.length === 0) continue;
      const leaf = pick(candidates);
      setAt(next, leaf.path, pick(pool.get(typeof leaf.value)!));
      current.set(original, next);
      yield { upsert: next };
    }
  }
}

function storeOf(objects: KubeObject[]): ObjectStore {
  const store = new ObjectStore();
  for (const object of objects) store.upsert(object);
  return store;
}

function expectSame(translator: Translator, snapshot: Snapshot, context: string): void {
  const incremental = render(translator.translate(snapshot));
  const fresh = render(translate(snapshot));
  if (incremental !== fresh) expect.fail(`${context}: a reused result differs from a fresh translate`);
}

describe('Translator: incremental translate equals a fresh one', () => {
  for (const name of cases) {
    it(`golden case ${name}: equal on first and repeated calls, nothing recomputed the second time`, () => {
      const store = storeOf(loadObjects(name));
      const translator = new Translator();
      const snapshot = store.snapshot();
      expect(render(translator.translate(snapshot))).toBe(render(translate(snapshot)));
      expect(render(translator.translate(store.snapshot()))).toBe(render(translate(snapshot)));
      expect(translator.reuse.misses).toBe(0);
    });

    it(`golden case ${name}: equal with each object removed and restored in turn`, () => {
      const objects = loadObjects(name);
      const store = storeOf(objects);
      const translator = new Translator();
      translator.translate(store.snapshot());
      for (const object of objects) {
        const { kind, metadata } = object;
        store.remove(kind as never, metadata.namespace, metadata.name);
        expectSame(
          translator,
          store.snapshot(),
          `${name}, without ${kind} ${metadata.namespace}/${metadata.name}`,
        );
        store.upsert(object);
        expectSame(
          translator,
          store.snapshot(),
          `${name}, ${kind} ${metadata.namespace}/${metadata.name} restored`,
        );
      }
    });

    it(`golden case ${name}: equal after each of 150 random edits`, () => {
      const objects = loadObjects(name);
      const store = storeOf(objects);
      const translator = new Translator();
      translator.translate(store.snapshot());
      let step = 0;
      for (const edit of edits(objects, 7919 * (name.length + 1), 150)) {
        step++;
        if ('remove' in edit) {
          const { kind, metadata } = edit.remove;
          store.remove(kind as never, metadata.namespace, metadata.name);
        } else store.upsert(edit.upsert);
        expectSame(
          translator,
          store.snapshot(),
          `${name}, edit ${step} (${JSON.stringify(edit).slice(0, 300)})`,
        );
      }
    });
  }

  it('a one-Ingress change in a 2,000-Ingress cluster recomputes only that Ingress', () => {
    const snapshot = syntheticCluster({ ingresses: 2_000, services: 200, applications: 200, namespaces: 20 });
    const objects = Object.values(snapshot).flat() as KubeObject[];
    const store = storeOf(objects);
    const translator = new Translator();
    translator.translate(store.snapshot());
    const full = translator.reuse.misses;
    expect(full).toBeGreaterThan(4_000);

    const ingress = structuredClone(snapshot.ingresses[1234]!);
    const rule = (ingress.spec as { rules: { http: { paths: { path: string }[] } }[] }).rules[0]!;
    rule.http.paths[0]!.path = '/changed';
    store.upsert(ingress);
    const result = translator.translate(store.snapshot());
    expect(render(result)).toBe(render(translate(store.snapshot())));
    // The Ingress's own steps, and the scope of its kind.
    expect(translator.reuse.misses).toBeLessThanOrEqual(6);
    expect(JSON.stringify(result.config)).toContain('/changed');
  });
});
