/** Annotation values, one row each: what a valid value does to the route, and which values are refused. */
import { describe, expect, it } from 'vitest';
import type { Route } from '../../contract/compiled-config.js';
import { emptySnapshot, translate } from '../../controller/translate/index.js';
import { ingress, ingressClass, service } from '../fixtures/k8s.js';

const BODY_SIZE = 'portcullis.dev/max-request-body-size';

function routeWith(annotations: Record<string, string>, on: 'Ingress' | 'Service' = 'Ingress'): Route {
  return translateWith(annotations, on).route;
}

function translateWith(
  annotations: Record<string, string>,
  on: 'Ingress' | 'Service' | 'both' = 'Ingress',
  serviceAnnotations: Record<string, string> = annotations,
): { route: Route; problems: ReturnType<typeof translate>['problems'] } {
  const snapshot = emptySnapshot();
  snapshot.ingressClasses.push(ingressClass());
  snapshot.services.push(service('shop', 'web', on !== 'Ingress' ? { annotations: serviceAnnotations } : {}));
  snapshot.ingresses.push(
    ingress('shop', 'web', {
      ...(on !== 'Service' ? { annotations } : {}),
      rules: [{ host: 'shop.example.com', paths: [{ path: '/', service: 'web' }] }],
    }),
  );
  const { config, problems } = translate(snapshot);
  const route = config.virtualHosts.find((v) => v.host === 'shop.example.com')?.routes[0];
  if (!route) throw new Error('no route');
  return { route, problems };
}

const valid: [string, string, Partial<Route>][] = [
  ['konghq.com/strip-path', 'true', { stripPath: true }],
  ['konghq.com/strip-path', 'false', { stripPath: false }],
  ['konghq.com/strip-path', 'True', { stripPath: true }],
  ['konghq.com/preserve-host', 'FALSE', { preserveHost: false }],
  ['konghq.com/preserve-host', 'false', { preserveHost: false }],
  ['konghq.com/methods', 'get, Post,GET', { methods: ['GET', 'POST'] }],
  ['konghq.com/protocols', 'https', { protocols: ['https'] }],
  ['konghq.com/protocols', 'https, HTTP', { protocols: ['http', 'https'] }],
  ['konghq.com/https-redirect-status-code', '307', { httpsRedirectStatusCode: 307 }],
  [BODY_SIZE, '8m', { maxRequestBodySize: 8 * 1024 * 1024 }],
  [BODY_SIZE, '0', { maxRequestBodySize: 0 }],
  [BODY_SIZE, '4096', { maxRequestBodySize: 4096 }],
  [
    'ingress.kubernetes.io/force-ssl-redirect',
    'true',
    { protocols: ['https'], httpsRedirectStatusCode: 302 },
  ],
  [
    'ingress.kubernetes.io/force-ssl-redirect',
    'false',
    { protocols: ['http', 'https'], httpsRedirectStatusCode: 426 },
  ],
];

const invalid: [string, string][] = [
  ['konghq.com/strip-path', 'yes'],
  ['konghq.com/strip-path', '1'],
  ['konghq.com/preserve-host', ''],
  ['konghq.com/methods', ''],
  ['konghq.com/methods', 'GET;POST'],
  ['konghq.com/protocols', 'grpc'],
  ['konghq.com/protocols', 'https,ws'],
  ['konghq.com/https-redirect-status-code', '200'],
  ['konghq.com/https-redirect-status-code', '301 '.repeat(2)],
  ['konghq.com/host-aliases', '*.*.example.com'],
  ['konghq.com/host-aliases', ''],
  ['ingress.kubernetes.io/force-ssl-redirect', 'yes'],
];

const serviceValid: [string, string, Partial<Route>][] = [
  ['konghq.com/path', '/v1/api', { upstreamPath: '/v1/api' }],
  ['konghq.com/connect-timeout', '1', { timeouts: { connectMs: 1, readMs: 60000, writeMs: 60000 } }],
  ['konghq.com/read-timeout', '3600000', { timeouts: { connectMs: 60000, readMs: 3600000, writeMs: 60000 } }],
  ['konghq.com/write-timeout', '250', { timeouts: { connectMs: 60000, readMs: 60000, writeMs: 250 } }],
  ['konghq.com/retries', '0', { retries: 0 }],
  ['konghq.com/retries', '32', { retries: 32 }],
  ['konghq.com/strip-path', 'true', { stripPath: true }],
  [BODY_SIZE, '2G', { maxRequestBodySize: 2 * 1024 ** 3 }],
];

const serviceInvalid: [string, string][] = [
  ['konghq.com/path', 'v1'],
  ['konghq.com/path', '/a b'],
  ['konghq.com/connect-timeout', '0'],
  ['konghq.com/read-timeout', '3600001'],
  ['konghq.com/write-timeout', '-5'],
  ['konghq.com/write-timeout', '1.5'],
  ['konghq.com/retries', '33'],
  ['konghq.com/protocol', 'grpcs'],
];

describe('annotations', () => {
  it('defaults to Kong defaults', () => {
    expect(routeWith({})).toMatchObject({
      protocols: ['http', 'https'],
      httpsRedirectStatusCode: 426,
      stripPath: false,
      preserveHost: true,
      timeouts: { connectMs: 60000, readMs: 60000, writeMs: 60000 },
      retries: 5,
    });
    expect(routeWith({}).methods).toBeUndefined();
    expect(routeWith({}).upstreamPath).toBeUndefined();
    // No annotation: the proxy's --max-request-body-size applies.
    expect(routeWith({}).maxRequestBodySize).toBeUndefined();
  });

  it.each(valid)('Ingress %s: %j', (name, value, expected) => {
    const route = routeWith({ [name]: value });
    expect(route).toMatchObject(expected);
    expect(route.unavailable).toBeUndefined();
  });

  it.each(invalid)('Ingress %s: %j is refused and the route answers 503', (name, value) => {
    expect(routeWith({ [name]: value }).unavailable?.code).toBe('ANNOTATION_INVALID');
  });

  it.each(serviceValid)('Service %s: %j', (name, value, expected) => {
    const route = routeWith({ [name]: value }, 'Service');
    expect(route).toMatchObject(expected);
    expect(route.unavailable).toBeUndefined();
  });

  it.each(serviceInvalid)('Service %s: %j is refused and the route answers 503', (name, value) => {
    expect(routeWith({ [name]: value }, 'Service').unavailable?.code).toBe('ANNOTATION_INVALID');
  });

  it.each(['konghq.com/path', 'konghq.com/retries', 'konghq.com/read-timeout'])(
    'Service-only %s on an Ingress is reported and ignored',
    (name) => {
      const route = routeWith({ [name]: '5' });
      expect(route.unavailable).toBeUndefined();
      expect(route.retries).toBe(5);
    },
  );

  describe(BODY_SIZE, () => {
    it('on the Ingress wins over the Service', () => {
      expect(
        translateWith({ [BODY_SIZE]: '2m' }, 'both', { [BODY_SIZE]: '50m' }).route.maxRequestBodySize,
      ).toBe(2 * 1024 * 1024);
    });

    it.each([
      ['Ingress', '1.5m'],
      ['Ingress', '10mb'],
      ['Ingress', '-1'],
      ['Service', 'lots'],
    ] as const)('on an %s, %j is a problem on that object and leaves the default', (on, value) => {
      const { route, problems } = translateWith({ [BODY_SIZE]: value }, on);
      // A bad size neither widens nor breaks the route: it keeps the proxy's default and is served.
      expect(route.maxRequestBodySize).toBeUndefined();
      expect(route.unavailable).toBeUndefined();
      expect(problems).toEqual([
        expect.objectContaining({
          code: 'ANNOTATION_INVALID',
          message: expect.stringContaining(BODY_SIZE) as string,
          objects: [expect.objectContaining({ kind: on, namespace: 'shop', name: 'web' })],
        }),
      ]);
    });
  });
});

describe('unknown konghq.com annotations fail closed', () => {
  it('a typo of konghq.com/plugins does not serve the route without its plugins', () => {
    // The attack: `plugin` for `plugins` used to be reported and ignored, serving the route with no auth.
    const { route, problems } = translateWith({ 'konghq.com/plugin': 'okta' });
    expect(route.unavailable?.code).toBe('ANNOTATION_UNSUPPORTED');
    expect(route.plugins ?? []).toEqual([]);
    expect(problems).toContainEqual(
      expect.objectContaining({
        code: 'ANNOTATION_UNSUPPORTED',
        message: expect.stringContaining('did you mean konghq.com/plugins') as string,
      }),
    );
  });

  it('a typo on the Service fails its routes closed too', () => {
    expect(routeWith({ 'konghq.com/plugin': 'okta' }, 'Service').unavailable?.code).toBe(
      'ANNOTATION_UNSUPPORTED',
    );
  });

  it.each([
    ['konghq.com/override', 'my-kong-ingress'],
    ['konghq.com/regex-priority', '10'],
    ['konghq.com/regex-prefix', '/~'],
    ['konghq.com/host-header', 'internal.example.com'],
    ['konghq.com/path-handling', 'v1'],
    ['konghq.com/rewrite', '/v2/$1'],
    ['konghq.com/client-cert', 'my-cert'],
    ['konghq.com/ca-certificates-configmaps', 'ca'],
    ['konghq.com/upstream-policy', 'policy'],
    ['konghq.com/something-new', 'x'],
  ])('%s is refused by name and the route answers 503', (name, value) => {
    for (const on of ['Ingress', 'Service'] as const) {
      const { route, problems } = translateWith({ [name]: value }, on);
      expect(route.unavailable?.code).toBe('ANNOTATION_UNSUPPORTED');
      expect(problems).toContainEqual(
        expect.objectContaining({
          code: 'ANNOTATION_UNSUPPORTED',
          message: expect.stringContaining(name) as string,
        }),
      );
    }
  });

  it.each([
    ['konghq.com/request-buffering', 'false'],
    ['konghq.com/response-buffering', 'true'],
    ['konghq.com/tags', 'team-a,prod'],
  ])('%s is accepted with no effect', (name, value) => {
    const { route, problems } = translateWith({ [name]: value });
    expect(route.unavailable).toBeUndefined();
    expect(problems).toEqual([]);
  });
});

describe('route conditions: konghq.com/headers.<name>, headers-separator, snis', () => {
  it.each<[string, Record<string, string>, Partial<Route>]>([
    ['one value', { 'konghq.com/headers.x-tenant': 'a' }, { headers: [{ name: 'x-tenant', values: ['a'] }] }],
    [
      'a list, trimmed, lower-cased, without repeats (Kong compares values without case)',
      { 'konghq.com/headers.X-Tenant': ' b, A ,a' },
      { headers: [{ name: 'x-tenant', values: ['a', 'b'] }] },
    ],
    [
      'several headers, sorted by name',
      { 'konghq.com/headers.x-tenant': 'a', 'konghq.com/headers.x-channel': 'beta' },
      {
        headers: [
          { name: 'x-channel', values: ['beta'] },
          { name: 'x-tenant', values: ['a'] },
        ],
      },
    ],
    [
      'another separator, so that values may hold commas',
      { 'konghq.com/headers-separator': ';', 'konghq.com/headers.x-range': 'a,b; c' },
      { headers: [{ name: 'x-range', values: ['a,b', 'c'] }] },
    ],
    ['a separator alone does nothing', { 'konghq.com/headers-separator': ';' }, {}],
    [
      'server names, lower-cased, without the root dot',
      { 'konghq.com/snis': 'Shop.example.com, api.example.com.' },
      { snis: ['api.example.com', 'shop.example.com'] },
    ],
  ])('%s', (_, annotations, expected) => {
    const { route, problems } = translateWith(annotations);
    expect(problems).toEqual([]);
    expect(route.unavailable).toBeUndefined();
    expect(route.headers).toEqual(expected.headers);
    expect(route.snis).toEqual(expected.snis);
  });

  it.each<[string, Record<string, string>, string]>([
    ['an empty list', { 'konghq.com/headers.x-tenant': '' }, 'konghq.com/headers.x-tenant'],
    ['an empty value in the list', { 'konghq.com/headers.x-tenant': 'a,,b' }, 'konghq.com/headers.x-tenant'],
    ['only separators', { 'konghq.com/headers.x-tenant': ' , ' }, 'konghq.com/headers.x-tenant'],
    ['no header name', { 'konghq.com/headers.': 'a' }, 'konghq.com/headers.'],
    ['a name that is no header name', { 'konghq.com/headers.x tenant': 'a' }, 'konghq.com/headers.x tenant'],
    ['the Host header', { 'konghq.com/headers.Host': 'evil.example.com' }, 'konghq.com/headers.Host'],
    [
      'a name Object.prototype has',
      { 'konghq.com/headers.constructor': 'a' },
      'konghq.com/headers.constructor',
    ],
    ['__proto__', { 'konghq.com/headers.__proto__': 'a' }, 'konghq.com/headers.__proto__'],
    ['prototype, in any case', { 'konghq.com/headers.Prototype': 'a' }, 'konghq.com/headers.Prototype'],
    [
      'the same header twice, in different case',
      { 'konghq.com/headers.x-tenant': 'a', 'konghq.com/headers.X-Tenant': 'b' },
      'konghq.com/headers.',
    ],
    [
      'a control character in a value',
      { 'konghq.com/headers.x-tenant': 'a\u0000b' },
      'konghq.com/headers.x-tenant',
    ],
    ["Kong's regex values", { 'konghq.com/headers.x-tenant': '~*^a' }, 'konghq.com/headers.x-tenant'],
    [
      'a blank separator',
      { 'konghq.com/headers-separator': '  ', 'konghq.com/headers.x-tenant': 'a' },
      'konghq.com/headers-separator',
    ],
    [
      'an empty separator',
      { 'konghq.com/headers-separator': '', 'konghq.com/headers.x-tenant': 'a' },
      'konghq.com/headers-separator',
    ],
    ['an empty SNI list', { 'konghq.com/snis': ' , ' }, 'konghq.com/snis'],
    ['a wildcard SNI', { 'konghq.com/snis': '*.example.com' }, 'konghq.com/snis'],
    ['an SNI that is no host name', { 'konghq.com/snis': 'shop example' }, 'konghq.com/snis'],
  ])('%s is a problem naming the annotation, and the route answers 503', (_, annotations, named) => {
    const { route, problems } = translateWith(annotations);
    // Failing closed: a condition that cannot be read must not leave the route open to every request.
    expect(route.unavailable?.code).toBe('ANNOTATION_INVALID');
    expect(problems).toContainEqual(
      expect.objectContaining({
        code: 'ANNOTATION_INVALID',
        message: expect.stringContaining(named) as string,
      }),
    );
  });

  it.each([
    ['konghq.com/snis', 'shop.example.com'],
    ['konghq.com/headers.x-tenant', 'a,b'],
    ['konghq.com/headers-separator', ';'],
  ])('%s on a Service is refused (KIC ignores it there, which would widen the route)', (name, value) => {
    const { route, problems } = translateWith({ [name]: value }, 'Service');
    expect(route.unavailable?.code).toBe('ANNOTATION_UNSUPPORTED');
    expect(route.headers).toBeUndefined();
    expect(problems).toContainEqual(
      expect.objectContaining({
        code: 'ANNOTATION_UNSUPPORTED',
        message: expect.stringContaining('Ingress only') as string,
      }),
    );
  });
});
