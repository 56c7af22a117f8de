/**
 * A patch applied to the config a proxy serves must give, byte for byte,
 * the text a full push would have sent: checked as a proxy sees it (both the
 * served config and the patch come through JSON), over seeded random edits
 * of a synthetic cluster.
 */
import { describe, expect, it } from 'vitest';
import {
  applyConfigPatch,
  configChanges,
  isConfigPatch,
  type ConfigChanges,
} from '../../contract/config-patch.js';
import { ConfigWriter } from '../../contract/config-writer.js';
import type { CompiledConfig } from '../../contract/compiled-config.js';
import { ObjectStore } from '../../controller/object-store.js';
import { Translator, type Ingress, type KubeObject } from '../../controller/translate/index.js';
import { syntheticCluster } from '../fixtures/k8s.js';

const viaJson = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

function cluster() {
  const snapshot = syntheticCluster({ ingresses: 200, services: 20, applications: 20, namespaces: 4 });
  const store = new ObjectStore();
  for (const object of Object.values(snapshot).flat() as KubeObject[]) store.upsert(object);
  return { snapshot, store };
}

describe('config patches', () => {
  it('turn the served config into exactly the next one, over 40 random edits', () => {
    const { snapshot, store } = cluster();
    const translator = new Translator();
    const controllerWriter = new ConfigWriter();
    const proxyWriter = new ConfigWriter();
    let previousConfig = translator.translate(store.snapshot()).config;
    let previous = controllerWriter.digest(previousConfig);
    // What the proxy holds: the served text, parsed.
    let served = JSON.parse(previous.text()) as CompiledConfig;
    let seed = 17;
    const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    for (let step = 0; step < 40; step++) {
      const roll = random();
      const index = Math.floor(random() * snapshot.ingresses.length);
      const ingress = structuredClone(snapshot.ingresses[index]!) as Ingress;
      const spec = ingress.spec as { rules: { host?: string; http: { paths: { path: string }[] } }[] };
      if (roll < 0.2) store.remove('Ingress', ingress.metadata.namespace, ingress.metadata.name);
      else if (roll < 0.4) spec.rules[0]!.host = `moved-${step}.example.com`;
      else spec.rules[0]!.http.paths[0]!.path = `/step-${step}`;
      if (roll >= 0.2) store.upsert(ingress);
      if (step % 7 === 3) {
        // A change outside the virtual hosts: a Service's endpoints.
        const slice = structuredClone(snapshot.endpointSlices[step % snapshot.endpointSlices.length]!);
        (slice as { endpoints: { addresses: string[] }[] }).endpoints[0]!.addresses = [`10.9.0.${step}`];
        store.upsert(slice);
      }
      const nextConfig = translator.translate(store.snapshot()).config;
      const next = controllerWriter.digest(nextConfig);
      const changes: ConfigChanges = configChanges(
        { config: previousConfig, rest: previous.rest },
        {
          config: nextConfig,
          rest: next.rest,
        },
      );
      expect(changes.set.length).toBeLessThanOrEqual(3);
      if (step % 7 === 3) expect(changes.rest).toBeDefined();
      const patch = viaJson({ base: 'a'.repeat(64), hash: 'b'.repeat(64), ...changes });
      expect(isConfigPatch(patch)).toBe(true);
      served = applyConfigPatch(served, patch);
      expect(proxyWriter.write(served), `step ${step}`).toBe(next.text());
      previousConfig = nextConfig;
      previous = next;
    }
  });

  it('reports nothing for an unchanged config, and removals by host', () => {
    const { store } = cluster();
    const translator = new Translator();
    const writer = new ConfigWriter();
    const config = translator.translate(store.snapshot()).config;
    const parts = writer.digest(config);
    expect(configChanges({ config, rest: parts.rest }, { config, rest: parts.rest })).toEqual({
      set: [],
      remove: [],
    });
    const fewer = { ...config, virtualHosts: config.virtualHosts.slice(1) };
    const changes = configChanges({ config, rest: parts.rest }, { config: fewer, rest: parts.rest });
    expect(changes).toEqual({ set: [], remove: [config.virtualHosts[0]!.host] });
    expect(writer.write(applyConfigPatch(config, changes))).toBe(JSON.stringify(fewer));
  });

  it('refuses a patch of the wrong shape', () => {
    expect(isConfigPatch({ base: 'x', hash: 'y', set: [], remove: [] })).toBe(false);
    expect(
      isConfigPatch({ base: 'a'.repeat(64), hash: 'b'.repeat(64), set: [{ host: 'a' }], remove: [] }),
    ).toBe(false);
    expect(isConfigPatch({ base: 'a'.repeat(64), hash: 'b'.repeat(64), set: [], remove: [], extra: 1 })).toBe(
      false,
    );
  });
});
