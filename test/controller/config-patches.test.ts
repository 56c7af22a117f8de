/**
 * configPatches as KIC applies them (JSON Patch `add` with json-patch's
 * EnsurePathExistsOnAdd): one row per path shape, with the config the
 * plugin ends up with or the problem that breaks it.
 */
import { describe, expect, it } from 'vitest';
import { looseCatalog, translate } from '../../controller/translate/index.js';
import { emptySnapshot } from '../../controller/translate/k8s-types.js';
import { ingress, ingressClass, kongPlugin, secret, service } from '../fixtures/k8s.js';

const catalog = looseCatalog({ 'openid-connect': 1050 });

function patched(config: Record<string, unknown>, path: string, value: string) {
  const snapshot = emptySnapshot();
  snapshot.ingressClasses.push(ingressClass());
  snapshot.services.push(service('shop', 'web'));
  snapshot.secrets.push(secret('shop', 'values', { v: value }));
  snapshot.kongPlugins.push(
    kongPlugin('shop', 'p', 'openid-connect', config, {
      configPatches: [{ path, valueFrom: { secretKeyRef: { name: 'values', key: 'v' } } }],
    }),
  );
  snapshot.ingresses.push(
    ingress('shop', 'web', {
      annotations: { 'konghq.com/plugins': 'p' },
      rules: [{ host: 'shop.example.com', paths: [{ path: '/', service: 'web' }] }],
    }),
  );
  const { config: out, problems } = translate(snapshot, { pluginCatalog: catalog });
  return { config: out.plugins[0]?.config, problems: problems.map((p) => `${p.code}: ${p.message}`) };
}

describe('configPatches (KIC semantics)', () => {
  it.each([
    ['a top-level field', { a: 1 }, '/b', '"x"', { a: 1, b: 'x' }],
    ['a plain-string value', {}, '/secret', 's3cret', { secret: 's3cret' }],
    [
      'missing parents are created',
      { a: 1 },
      '/session/redis/password',
      '"pw"',
      { a: 1, session: { redis: { password: 'pw' } } },
    ],
    ['an existing parent is kept', { s: { k: 1 } }, '/s/j', '"j"', { s: { k: 1, j: 'j' } }],
    ['an array append', { l: ['a'] }, '/l/-', '"b"', { l: ['a', 'b'] }],
    ['an array insert', { l: ['a', 'c'] }, '/l/1', '"b"', { l: ['a', 'b', 'c'] }],
    ['the root "" replaces the config', { a: 1 }, '', '{"b":2}', { b: 2 }],
    ['an escaped pointer', {}, '/a~1b/c~0d', '[1]', { 'a/b': { 'c~d': [1] } }],
  ])('%s', (_name, config, path, value, want) => {
    const result = patched(config, path, value);
    expect(result.problems).toEqual([]);
    expect(result.config).toEqual(want);
  });

  it.each([
    ['the root with a non-object', { a: 1 }, '', '"x"', /path "" replaces the whole config/],
    ['a pointer without a leading slash', {}, 'a', '1', /must be a JSON pointer/],
    ['a prototype key', {}, '/__proto__/x', '1', /must be a JSON pointer/],
    ['through a scalar', { a: 'text' }, '/a/b', '1', /cannot be added/],
    ['an array index out of range', { l: [] }, '/l/3', '1', /cannot be added/],
    ['a missing array is not guessed', {}, '/l/0/x', '1', /cannot be added/],
  ])('refuses %s', (_name, config, path, value, problem) => {
    const result = patched(config, path, value);
    expect(result.config).toBeUndefined();
    expect(result.problems).toEqual([expect.stringMatching(problem)]);
  });
});
