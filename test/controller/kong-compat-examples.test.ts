/**
 * Kong's own openid-connect examples (test/fixtures/kong-compat/) against
 * the table in docs/kong-compatibility.md: each example, put on an Ingress,
 * either translates with no problem and its route runs the plugin, or is
 * refused with problems naming exactly the fields the table lists and its
 * route answers 503. A field that starts working, or a refusal that loses
 * its name, fails here until the table says so.
 */
import { describe, expect, it } from 'vitest';
import { emptySnapshot, translate } from '../../controller/translate/index.js';
import { ingress, ingressClass, service } from '../fixtures/k8s.js';
import {
  COMPAT_DOC as DOC,
  exampleFiles,
  exampleTable,
  loadExample,
  mapStrings,
} from '../support/kong-compat-examples.js';

/** Kong's extra-jwks example leaves host placeholders without a scheme (Kong's URL check refuses them too). */
const PLACEHOLDERS: [RegExp, string][] = [[/^(example-host\d)\//, 'https://$1.test/']];

function withPlaceholdersFilled(value: unknown): unknown {
  return mapStrings(value, (v) => PLACEHOLDERS.reduce((s, [re, to]) => s.replace(re, to), v));
}

function translateExample(file: string) {
  const plugin = loadExample(file);
  plugin.config = withPlaceholdersFilled(plugin.config) as Record<string, unknown>;
  const { namespace, name } = plugin.metadata as { namespace: string; name: string };
  const snapshot = emptySnapshot();
  snapshot.ingressClasses.push(ingressClass());
  snapshot.kongPlugins.push(plugin);
  snapshot.services.push(service(namespace, 'api'));
  snapshot.ingresses.push(
    ingress(namespace, 'api', {
      annotations: { 'konghq.com/plugins': name },
      rules: [{ host: 'api.example.test', paths: [{ path: '/', service: 'api' }] }],
    }),
  );
  const { config, problems } = translate(snapshot);
  const route = config.virtualHosts.find((v) => v.host === 'api.example.test')?.routes[0];
  if (!route) throw new Error(`${file}: no route`);
  return { route, problems, config };
}

const expected = exampleTable();
const files = exampleFiles();

describe("Kong's openid-connect examples, as docs/kong-compatibility.md says", () => {
  it('the table lists every example, and only those', () => {
    expect(files).toHaveLength(33);
    expect([...expected.keys()].sort()).toEqual([...files].sort());
  });

  it.each(files)('%s', (file) => {
    const want = expected.get(file);
    if (!want) throw new Error(`${file} is not in the table`);
    const { route, problems, config } = translateExample(file);
    if (want.translates) {
      expect(problems).toEqual([]);
      expect(route.unavailable).toBeUndefined();
      expect(route.plugins).toHaveLength(1);
      expect(config.plugins.map((p) => p.name)).toEqual(['openid-connect']);
      return;
    }
    expect(route.unavailable).toBeDefined();
    const named = new Set(
      problems.flatMap((p) =>
        [...p.message.matchAll(/field "([a-z_0-9.]+)"/g)].map((m) => m[1]!.replace(/\.\d+$/, '')),
      ),
    );
    expect([...named].sort()).toEqual([...want.fields].sort());
  });

  it('the count in the text matches the table', () => {
    const translating = [...expected.values()].filter((e) => e.translates).length;
    expect(DOC).toContain(`Today ${translating} of 33 translate.`);
  });
});
