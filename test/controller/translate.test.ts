/** translate() properties that a table or a generated cluster shows better than a golden file. */
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../contract/validate.js';
import { RouteTable } from '../../proxy/routing/route-table.js';
import {
  emptySnapshot,
  KONG_PLUGIN_PRIORITIES,
  looseCatalog,
  PROBLEM_CODES,
  secretReferences,
  translate,
  type PluginCatalog,
  type Snapshot,
} from '../../controller/translate/index.js';
import {
  application,
  applicationRegistration,
  ingress,
  ingressClass,
  kongClusterPlugin,
  kongPlugin,
  secret,
  service,
  syntheticCluster,
} from '../fixtures/k8s.js';

function shuffled<T>(items: T[], seed: number): T[] {
  const out = [...items];
  let state = seed;
  for (let i = out.length - 1; i > 0; i--) {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    const j = state % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

function shuffleSnapshot(snapshot: Snapshot, seed: number): Snapshot {
  return Object.fromEntries(
    Object.entries(snapshot).map(([kind, items]) => [kind, shuffled(items as unknown[], seed)]),
  ) as unknown as Snapshot;
}

function oneRoute(plugins: string, extra: Partial<Snapshot> = {}): Snapshot {
  const snapshot = emptySnapshot();
  snapshot.ingressClasses.push(ingressClass());
  snapshot.services.push(service('shop', 'web'));
  snapshot.ingresses.push(
    ingress('shop', 'web', {
      annotations: { 'konghq.com/plugins': plugins },
      rules: [{ host: 'shop.example.com', paths: [{ path: '/', service: 'web' }] }],
    }),
  );
  for (const [kind, items] of Object.entries(extra))
    (snapshot[kind as keyof Snapshot] as unknown[]).push(...items);
  return snapshot;
}

describe('translate', () => {
  const cluster = syntheticCluster({ ingresses: 300, services: 40, applications: 50, namespaces: 7 });

  it('gives byte-identical output for the same objects in any order', () => {
    const expected = JSON.stringify(translate(cluster));
    for (const seed of [1, 2, 3])
      expect(JSON.stringify(translate(shuffleSnapshot(cluster, seed)))).toBe(expected);
  });

  it('emits configs the proxy accepts, with no problems for a valid cluster', () => {
    const { config, problems } = translate(cluster);
    expect(problems).toEqual([]);
    const result = validateConfig(config);
    expect(result.ok ? [] : result.problems).toEqual([]);
    expect(config.virtualHosts).toHaveLength(300);
    expect(config.applications.every((a) => a.approvedServices.length === 1)).toBe(true);
  });

  it('does not modify its input', () => {
    const before = JSON.stringify(cluster);
    translate(cluster);
    expect(JSON.stringify(cluster)).toBe(before);
  });

  it('only reads watched namespaces', () => {
    const { config, statuses } = translate(cluster, { watchNamespaces: ['team-1', 'apps-1'] });
    const namespaces = new Set(config.virtualHosts.flatMap((v) => v.routes.map((r) => r.source.namespace)));
    expect([...namespaces]).toEqual(['team-1']);
    expect(new Set(config.applications.map((a) => a.source.namespace))).toEqual(new Set(['apps-1']));
    expect(statuses.ingresses.every((s) => s.namespace === 'team-1')).toBe(true);
  });

  it('serves the configured class and controller only', () => {
    const snapshot = emptySnapshot();
    snapshot.ingressClasses.push(ingressClass('internal', { controller: 'example.com/gw' }));
    snapshot.services.push(service('shop', 'web'));
    snapshot.ingresses.push(
      ingress('shop', 'a', {
        className: 'internal',
        rules: [{ host: 'a.example.com', paths: [{ service: 'web' }] }],
      }),
      ingress('shop', 'b', {
        className: 'portcullis',
        rules: [{ host: 'b.example.com', paths: [{ service: 'web' }] }],
      }),
    );
    const hosts = (options = {}) => translate(snapshot, options).config.virtualHosts.map((v) => v.host);
    expect(hosts()).toEqual(['b.example.com']);
    expect(hosts({ ingressClass: 'internal', controllerName: 'example.com/gw' })).toEqual(['a.example.com']);
    expect(hosts({ ingressClass: 'internal' })).toEqual([]);
  });

  it('never throws, whatever the objects look like', () => {
    const junk: unknown[] = [
      null,
      0,
      'x',
      [],
      {},
      { metadata: null },
      { metadata: { name: 5 } },
      { metadata: { name: 'a' } },
    ];
    const weird = (i: number) => ({
      metadata: { name: `n${i}`, namespace: 'ns', annotations: { 'konghq.com/plugins': i } },
      spec: junk[i % junk.length],
      plugin: junk[i % junk.length],
      config: junk[i % junk.length],
      configPatches: junk,
      configFrom: junk[i % junk.length],
    });
    const snapshot = Object.fromEntries(
      Object.keys(emptySnapshot()).map((kind) => [
        kind,
        [...junk, ...Array.from({ length: 8 }, (_, i) => weird(i))],
      ]),
    ) as unknown as Snapshot;
    expect(() => translate(snapshot)).not.toThrow();
    const { problems } = translate(snapshot);
    expect(problems.every((p) => p.code in PROBLEM_CODES && p.objects.length > 0)).toBe(true);
  });
});

describe('plugin order and catalog', () => {
  const plugins = [
    kongPlugin('shop', 'authz', 'application-registration', { display_name: 'Shop' }),
    // A valid openid-connect config (the shared catalog checks it): the order is what is tested.
    kongPlugin('shop', 'authn', 'openid-connect', { issuer: 'https://idp.example.com' }),
    kongPlugin('shop', 'first', 'pre-check', {}),
    kongPlugin('shop', 'logger', 'audit-log', {}),
  ];

  it("runs plugins by Kong's priority, highest first, whatever the annotation order", () => {
    const { config } = translate(oneRoute('authz,authn', { kongPlugins: plugins }));
    expect(KONG_PLUGIN_PRIORITIES['openid-connect']).toBeGreaterThan(
      KONG_PLUGIN_PRIORITIES['application-registration']!,
    );
    expect(config.virtualHosts[0]!.routes[0]!.plugins).toEqual(['shop/authn', 'shop/authz']);
  });

  it('uses the catalog it is given: priorities and validation', () => {
    const catalog: PluginCatalog = {
      ...looseCatalog({ ...KONG_PLUGIN_PRIORITIES, 'pre-check': 5000, 'audit-log': 1 }),
      validate: (name, config) =>
        name === 'audit-log' ? ['needs a target'] : looseCatalog({}).validate(name, config),
    };
    const ok = translate(oneRoute('logger,authz,first,authn', { kongPlugins: plugins }), {
      pluginCatalog: catalog,
    });
    const route = ok.config.virtualHosts[0]!.routes[0]!;
    expect(route.plugins).toEqual(['shop/first', 'shop/authn', 'shop/authz']);
    expect(route.unavailable?.code).toBe('PLUGIN_CONFIG_INVALID');
    expect(ok.problems.map((p) => p.code)).toEqual(['PLUGIN_CONFIG_INVALID']);
    expect(ok.config.plugins.map((p) => p.id)).not.toContain('shop/logger');
  });

  it('treats a name outside the default catalog as unknown', () => {
    const { config, problems } = translate(oneRoute('first', { kongPlugins: plugins }));
    expect(config.virtualHosts[0]!.routes[0]!.unavailable?.code).toBe('PLUGIN_UNKNOWN');
    expect(problems[0]).toMatchObject({
      code: 'PLUGIN_UNKNOWN',
      objects: [{ kind: 'KongPlugin', namespace: 'shop', name: 'first' }],
    });
  });
});

describe('secretReferences', () => {
  it('lists TLS and plugin Secrets that translate may read, nothing else', () => {
    const snapshot = oneRoute('oidc', {
      kongPlugins: [
        kongPlugin(
          'shop',
          'oidc',
          'openid-connect',
          {},
          {
            configPatches: [
              { path: '/client_secret', valueFrom: { secretKeyRef: { name: 'oidc-secret', key: 'k' } } },
            ],
          },
        ),
      ],
      kongClusterPlugins: [
        {
          ...kongClusterPlugin('corp', 'openid-connect', {}),
          config: undefined,
          configFrom: { secretKeyRef: { namespace: 'sec', name: 'corp', key: 'c' } },
        },
        {
          ...kongClusterPlugin('other', 'openid-connect', {}, { ingressClass: 'kong' }),
          configFrom: { secretKeyRef: { namespace: 'sec', name: 'not-ours', key: 'c' } },
        },
      ],
      secrets: [secret('shop', 'unrelated', { a: 'b' })],
    });
    snapshot.ingresses.push(
      ingress('shop', 'tls', { tls: [{ hosts: ['a.example.com'], secretName: 'a-tls' }] }),
    );
    snapshot.ingresses.push(
      ingress('shop', 'other-class', { className: 'nginx', tls: [{ secretName: 'nginx-tls' }] }),
    );
    expect(secretReferences(snapshot)).toEqual([
      { namespace: 'sec', name: 'corp' },
      { namespace: 'shop', name: 'a-tls' },
      { namespace: 'shop', name: 'oidc-secret' },
    ]);
  });
});

describe('applications', () => {
  it.each([
    ['an existing Application', 'apps/guest', []],
    ['a missing Application', 'apps/nobody', ['PLUGIN_ANONYMOUS_NOT_FOUND']],
    ['a bare name (no namespace is assumed)', 'guest', ['PLUGIN_ANONYMOUS_NOT_FOUND']],
  ])("openid-connect's anonymous naming %s", (_, anonymous, codes) => {
    const snapshot = oneRoute('authn', {
      kongPlugins: [
        kongPlugin('shop', 'authn', 'openid-connect', { issuer: 'https://idp.example.com', anonymous }),
      ],
      applications: [application('apps', 'guest', 'client-guest', [])],
    });
    const { config, problems, statuses } = translate(snapshot);
    expect(problems.map((p) => p.code)).toEqual(codes);
    // The plugin stays in the config: authenticated requests are unaffected, the proxy answers 503 for the rest.
    expect(config.plugins.map((p) => p.id)).toEqual(['shop/authn']);
    const programmed = statuses.plugins.find((p) => p.name === 'authn')?.conditions[0]?.status;
    expect(programmed).toBe(codes.length === 0 ? 'True' : 'False');
  });

  it('approves only what both sides agree on', () => {
    const snapshot = oneRoute('');
    snapshot.applications.push(
      application('apps', 'a', 'client-a', ['shop/web']),
      application('apps', 'b', 'client-b', []),
    );
    snapshot.applicationRegistrations.push(
      applicationRegistration('shop', 'apps/a', 'web', 'Approved'),
      applicationRegistration('shop', 'apps/b', 'web', 'Approved'),
    );
    const { config, problems } = translate(snapshot);
    expect(config.applications.map((a) => [a.id, a.approvedServices])).toEqual([
      ['apps/a', ['shop/web']],
      ['apps/b', []],
    ]);
    expect(problems.map((p) => p.code)).toEqual(['APPLICATION_REGISTRATION_NOT_REQUESTED']);
  });
});

describe('path claims across namespaces (the attack: a path written another way)', () => {
  /** The older payments namespace owns api.example.com /payments; a newer namespace claims `path`. */
  function claim(path: string, pathType = 'Prefix', victim = { path: '/payments', pathType: 'Prefix' }) {
    const snapshot = emptySnapshot();
    snapshot.ingressClasses.push(ingressClass());
    snapshot.services.push(service('payments', 'payments'), service('attacker', 'web'));
    snapshot.ingresses.push(
      ingress('payments', 'payments', {
        creationTimestamp: '2024-01-01T00:00:00Z',
        rules: [{ host: 'api.example.com', paths: [{ ...victim, service: 'payments' }] }],
      }),
      ingress('attacker', 'web', {
        creationTimestamp: '2024-06-01T00:00:00Z',
        annotations: { 'konghq.com/snis': 'api.example.com' },
        rules: [{ host: 'api.example.com', paths: [{ path, pathType, service: 'web' }] }],
      }),
    );
    return translate(snapshot);
  }

  it.each<[string, string]>([
    ['/pay%6Dents', 'Prefix'],
    ['/pay%6dents', 'Prefix'],
    ['/%70ayments', 'ImplementationSpecific'],
    ['/payments/', 'Prefix'],
    ['//payments', 'Prefix'],
    ['/payments//', 'Prefix'],
    ['/x/../payments', 'Prefix'],
    ['/./payments/.', 'Prefix'],
    ['/pay%6Dents', 'Exact'],
  ])('%s (%s) is the same path as /payments: ROUTE_CONFLICT, left out', (path, pathType) => {
    const { config, problems } = claim(path, pathType);
    expect(problems.map((p) => p.code)).toContain('ROUTE_CONFLICT');
    const namespaces = config.virtualHosts.flatMap((v) => v.routes.map((r) => r.source.namespace));
    expect(namespaces).toEqual(['payments']);
  });

  it('a path the proxy would refuse as a request path (an encoded slash) is INGRESS_PATH_INVALID', () => {
    const { config, problems } = claim('/payments%2Fx', 'Prefix');
    expect(problems.map((p) => p.code)).toEqual(['INGRESS_PATH_INVALID']);
    expect(problems[0]!.message).toContain('can never match a request');
    expect(config.virtualHosts[0]!.routes.map((r) => r.source.namespace)).toEqual(['payments']);
  });

  it('another path is no conflict', () => {
    const { config, problems } = claim('/payments-v2');
    expect(problems).toEqual([]);
    expect(config.virtualHosts[0]!.routes).toHaveLength(2);
  });
});

describe('regex paths across namespaces (the attack: a newer regex narrowed with snis)', () => {
  function served(attackerPath: string) {
    const snapshot = emptySnapshot();
    snapshot.ingressClasses.push(ingressClass());
    snapshot.services.push(service('payments', 'payments'), service('attacker', 'web'));
    snapshot.ingresses.push(
      // Listed newest first: the age decides, not the order objects arrive in.
      ingress('attacker', 'web', {
        creationTimestamp: '2024-06-01T00:00:00Z',
        annotations: { 'konghq.com/snis': 'api.example.com' },
        rules: [
          {
            host: 'api.example.com',
            paths: [{ path: attackerPath, pathType: 'ImplementationSpecific', service: 'web' }],
          },
        ],
      }),
      ingress('payments', 'payments', {
        creationTimestamp: '2024-01-01T00:00:00Z',
        rules: [
          {
            host: 'api.example.com',
            paths: [{ path: '/~/payments/.*', pathType: 'ImplementationSpecific', service: 'payments' }],
          },
        ],
      }),
    );
    const table = RouteTable.build(translate(snapshot).config);
    return table.match('api.example.com', '/payments/1', 'GET', {}, 'api.example.com')?.route.source
      .namespace;
  }

  it.each(['/~/payments/.+', '/~/pay(ments)/.*', '/~/(payments)/.*', '/~/.*'])(
    'the older namespace keeps its HTTPS traffic against %s',
    (path) => {
      expect(served(path)).toBe('payments');
    },
  );
});
