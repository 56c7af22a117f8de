/**
 * Kong's own openid-connect examples (test/fixtures/kong-compat/) against
 * the table in docs/kong-compatibility.md: each example, put on an Ingress,
 * either translates with no problem and its route runs the plugin, or is
 * refused with problems naming exactly the fields the table lists and its
 * route answers 503. A field that starts working, or a refusal that loses
 * its name, fails here until the table says so.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { emptySnapshot, translate } from '../../controller/translate/index.js';
import type { KongPlugin } from '../../controller/translate/k8s-types.js';
import { ingress, ingressClass, service } from '../fixtures/k8s.js';

const FIXTURES = join(import.meta.dirname, '../fixtures/kong-compat/openid-connect');
const DOC = readFileSync(join(import.meta.dirname, '../../docs/kong-compatibility.md'), 'utf8');

/** Kong's extra-jwks example leaves host placeholders without a scheme (Kong's URL check refuses them too). */
const PLACEHOLDERS: [RegExp, string][] = [[/^(example-host\d)\//, 'https://$1.test/']];

type Expected = { translates: true } | { translates: false; fields: string[] };

function table(): Map<string, Expected> {
  const section = DOC.split("### Kong's example configurations")[1]?.split('\n## ')[0] ?? '';
  const rows = new Map<string, Expected>();
  for (const line of section.split('\n')) {
    const match = /^\| `([a-z0-9-]+\.yaml)` +\| ([^|]+)\|/.exec(line);
    if (!match) continue;
    const outcome = match[2]!.trim();
    rows.set(
      match[1]!,
      outcome === 'translates'
        ? { translates: true }
        : { translates: false, fields: [...outcome.matchAll(/`([a-z_0-9]+)`/g)].map((m) => m[1]!) },
    );
  }
  return rows;
}

function withPlaceholdersFilled(value: unknown): unknown {
  if (typeof value === 'string') return PLACEHOLDERS.reduce((v, [re, to]) => v.replace(re, to), value);
  if (Array.isArray(value)) return value.map(withPlaceholdersFilled);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withPlaceholdersFilled(v)]));
  }
  return value;
}

function translateExample(file: string) {
  const plugin = parseAllDocuments(readFileSync(join(FIXTURES, file), 'utf8'))[0]!.toJS() as KongPlugin;
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

const expected = table();
const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.yaml'));

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
