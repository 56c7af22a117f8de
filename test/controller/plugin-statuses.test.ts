/** The Programmed condition of KongPlugins and KongClusterPlugins: the rule as a table, then through translate(). */
import { describe, expect, it } from 'vitest';
import { programmedCondition, type ProgrammedInput } from '../../controller/translate/plugin-statuses.js';
import { emptySnapshot, translate, type Snapshot } from '../../controller/translate/index.js';
import { ingress, ingressClass, kongClusterPlugin, kongPlugin, service } from '../fixtures/k8s.js';

describe('programmedCondition', () => {
  const base: ProgrammedInput = { ingressClass: 'portcullis', disabled: false, failures: [], routes: 2 };
  const cases: [string, Partial<ProgrammedInput>, { status: string; reason: string; message: string }][] = [
    [
      'in use',
      {},
      {
        status: 'True',
        reason: 'Programmed',
        message: 'ingress class portcullis: in the config, used by 2 routes',
      },
    ],
    [
      'one route',
      { routes: 1 },
      {
        status: 'True',
        reason: 'Programmed',
        message: 'ingress class portcullis: in the config, used by 1 route',
      },
    ],
    [
      'valid, unused (Pending, as KIC)',
      { routes: 0 },
      {
        status: 'False',
        reason: 'Pending',
        message: 'ingress class portcullis: valid, but no route in the config uses it',
      },
    ],
    [
      'disabled (KIC sends it with enabled: false)',
      { disabled: true, routes: 0 },
      {
        status: 'True',
        reason: 'Programmed',
        message: 'ingress class portcullis: disabled, runs on no route',
      },
    ],
    [
      'problems win over use',
      { failures: ['a is wrong', 'b is wrong'] },
      { status: 'False', reason: 'Invalid', message: 'ingress class portcullis: a is wrong; b is wrong' },
    ],
    [
      'problems win over disabled',
      { failures: ['x'], disabled: true },
      { status: 'False', reason: 'Invalid', message: 'ingress class portcullis: x' },
    ],
    [
      'class named',
      { ingressClass: 'internal', routes: 0 },
      {
        status: 'False',
        reason: 'Pending',
        message: 'ingress class internal: valid, but no route in the config uses it',
      },
    ],
  ];
  it.each(cases)('%s', (_name, input, expected) => {
    expect(programmedCondition({ ...base, ...input })).toEqual({ type: 'Programmed', ...expected });
  });

  it('carries the generation and keeps a long message within bounds', () => {
    const long = programmedCondition({ ...base, failures: ['x'.repeat(10_000)], generation: 3 });
    expect(long.observedGeneration).toBe(3);
    expect(long.message.length).toBe(4096);
  });
});

describe('translate: plugin statuses', () => {
  function cluster(...extra: Partial<Snapshot>[]): Snapshot {
    const snapshot = emptySnapshot();
    snapshot.ingressClasses.push(ingressClass());
    snapshot.services.push(service('shop', 'web'));
    snapshot.ingresses.push(
      ingress('shop', 'web', {
        annotations: { 'konghq.com/plugins': 'okta,apps' },
        rules: [
          {
            host: 'shop.example.com',
            paths: [{ path: '/' }, { path: '/api' }].map((p) => ({ ...p, service: 'web' })),
          },
        ],
      }),
      ingress('shop', 'broken', {
        annotations: { 'konghq.com/plugins': 'bad' },
        rules: [{ host: 'broken.example.com', paths: [{ path: '/', service: 'web' }] }],
      }),
    );
    for (const part of extra)
      for (const [kind, items] of Object.entries(part))
        (snapshot[kind as keyof Snapshot] as unknown[]).push(...items);
    return snapshot;
  }
  const plugins = {
    kongPlugins: [
      kongPlugin('shop', 'okta', 'openid-connect', { issuer: 'https://idp.example.com' }, { generation: 4 }),
      kongPlugin('shop', 'bad', 'no-such-plugin'),
      kongPlugin('shop', 'unreferenced', 'openid-connect', { issuer: 'https://idp.example.com' }),
    ],
    kongClusterPlugins: [
      kongClusterPlugin('apps', 'application-registration', { display_name: 'Shop' }),
      kongClusterPlugin(
        'other-class',
        'openid-connect',
        { issuer: 'https://idp.example.com' },
        { global: true, ingressClass: 'kong' },
      ),
    ],
  };

  it('gives each plugin our routes use a Programmed condition, and none to plugins we do not use', () => {
    const { statuses } = translate(cluster(plugins));
    expect(
      statuses.plugins.map((p) => [
        p.kind,
        p.namespace,
        p.name,
        p.conditions[0]!.status,
        p.conditions[0]!.reason,
      ]),
    ).toEqual([
      ['KongClusterPlugin', undefined, 'apps', 'True', 'Programmed'],
      ['KongPlugin', 'shop', 'bad', 'False', 'Invalid'],
      ['KongPlugin', 'shop', 'okta', 'True', 'Programmed'],
    ]);
    const okta = statuses.plugins.find((p) => p.name === 'okta')!;
    expect(okta.conditions[0]).toMatchObject({
      observedGeneration: 4,
      message: 'ingress class portcullis: in the config, used by 2 routes',
    });
    expect(statuses.plugins.find((p) => p.name === 'bad')!.conditions[0]!.message).toBe(
      'ingress class portcullis: KongPlugin shop/bad: plugin "no-such-plugin" is not known',
    );
  });

  it('names every plugin in a problem that takes routes out of service, not warnings', () => {
    // Two openid-connect plugins on one Ingress: Kong runs one per name, so both are reported.
    const { statuses, problems } = translate(
      cluster({
        kongPlugins: [
          kongPlugin('shop', 'okta', 'openid-connect', { issuer: 'https://idp.example.com' }),
          kongPlugin('shop', 'apps', 'openid-connect', { issuer: 'https://other.example.com' }),
          kongPlugin('shop', 'bad', 'openid-connect', {
            issuer: 'https://idp.example.com',
            session_cookie_lifetime: 600,
          }),
        ],
      }),
    );
    const byName = Object.fromEntries(statuses.plugins.map((p) => [p.name, p.conditions[0]!]));
    expect(byName.okta).toMatchObject({
      status: 'False',
      reason: 'Invalid',
      message: expect.stringContaining('both "openid-connect"'),
    });
    expect(byName.apps).toMatchObject({ status: 'False', reason: 'Invalid' });
    // A Kong 2.8 name is a warning (PLUGIN_FIELD_DEPRECATED, applied): the plugin is programmed.
    expect(problems.map((p) => [p.code, p.objects[0]!.name])).toContainEqual([
      'PLUGIN_FIELD_DEPRECATED',
      'bad',
    ]);
    expect(byName.bad).toMatchObject({ status: 'True', reason: 'Programmed' });
  });

  it('reports a referenced plugin whose routes are all dropped as Pending, and a disabled one as Programmed', () => {
    const snapshot = cluster(plugins);
    snapshot.ingresses[0]!.spec!.rules = [];
    snapshot.kongPlugins[1] = kongPlugin('shop', 'bad', 'no-such-plugin', {}, { disabled: true });
    const byName = Object.fromEntries(
      translate(snapshot).statuses.plugins.map((p) => [p.name, p.conditions[0]!]),
    );
    expect(byName.okta).toMatchObject({ status: 'False', reason: 'Pending' });
    expect(byName.bad).toMatchObject({
      status: 'True',
      reason: 'Programmed',
      message: expect.stringContaining('disabled'),
    });
  });
});
