/**
 * ConfigWriter must give byte for byte what JSON.stringify gives: the text
 * is what gets hashed and pushed, and the proxy hashes what it receives.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { ConfigWriter } from '../../contract/config-writer.js';
import { ObjectStore } from '../../controller/object-store.js';
import { Translator, type KubeObject } from '../../controller/translate/index.js';
import type { CompiledConfig } from '../../contract/compiled-config.js';
import { configTextHash } from '../../contract/hash.js';
import { syntheticCluster } from '../fixtures/k8s.js';

const GOLDEN_DIR = fileURLToPath(new URL('../golden/translate/', import.meta.url));
const cases = readdirSync(GOLDEN_DIR, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name);

describe('ConfigWriter', () => {
  it('writes what JSON.stringify writes, for every golden case', () => {
    const writer = new ConfigWriter();
    for (const name of cases) {
      const store = new ObjectStore();
      const text = readFileSync(join(GOLDEN_DIR, name, 'in.yaml'), 'utf8');
      for (const doc of parseAllDocuments(text)) store.upsert(doc.toJS() as KubeObject);
      const { config } = new Translator().translate(store.snapshot());
      expect(writer.write(config), name).toBe(JSON.stringify(config));
      // Again, now from the cache.
      expect(writer.write(config), name).toBe(JSON.stringify(config));
      // The digest: the same hash, fed part by part, and the same text on demand.
      const digest = writer.digest(config);
      expect(digest.hash, name).toBe(configTextHash(JSON.stringify(config)));
      expect(digest.text(), name).toBe(JSON.stringify(config));
    }
  });

  it('reuses an unchanged host and writes a changed one anew', () => {
    const snapshot = syntheticCluster({ ingresses: 300, services: 30, applications: 30, namespaces: 3 });
    const store = new ObjectStore();
    for (const object of Object.values(snapshot).flat() as KubeObject[]) store.upsert(object);
    const translator = new Translator();
    const writer = new ConfigWriter();
    const first = translator.translate(store.snapshot()).config;
    expect(writer.write(first)).toBe(JSON.stringify(first));
    const ingress = structuredClone(snapshot.ingresses[42]!);
    (ingress.spec as { rules: { http: { paths: { path: string }[] } }[] }).rules[0]!.http.paths[0]!.path =
      '/renamed';
    store.upsert(ingress);
    const second = translator.translate(store.snapshot()).config;
    const text = writer.write(second);
    expect(text).toBe(JSON.stringify(second));
    expect(text).toContain('/renamed');
    const changed = second.virtualHosts.filter((v, i) => v !== first.virtualHosts[i]);
    expect(changed).toHaveLength(1);
  });

  it('is not fooled by the mark inside a string before or after the hosts', () => {
    const mark = '"virtualHosts":"\u0000portcullis:virtual-hosts"';
    const config = {
      schemaVersion: 1,
      certificates: [{ name: mark, certPem: mark, keyPem: mark }],
      defaultCertificate: mark,
      virtualHosts: [{ host: 'a.example', routes: [] }],
      upstreams: [],
      plugins: [{ id: mark, name: 'x', config: { [mark]: mark }, source: { kind: 'KongPlugin', name: 'x' } }],
      applications: [],
    } as unknown as CompiledConfig;
    expect(new ConfigWriter().write(config)).toBe(JSON.stringify(config));
  });
});
