import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  configHash,
  configTextHash,
  redactConfig,
  validateConfig,
  type CompiledConfig,
} from '../../contract/index.js';
import { schemaJson } from '../../contract/export-schema.js';

const source = { kind: 'Ingress', namespace: 'payments', name: 'payments' };

function route(overrides: Record<string, unknown> = {}) {
  return {
    id: 'payments.payments.0.0',
    path: '/payments',
    pathType: 'Prefix',
    upstream: 'payments.payments.80',
    plugins: [],
    timeouts: { connectMs: 1000, readMs: 1000, writeMs: 1000 },
    source,
    ...overrides,
  };
}

function config(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    schemaVersion: 1,
    certificates: [],
    virtualHosts: [{ host: 'api.example.com', routes: [route()] }],
    upstreams: [
      {
        name: 'payments.payments.80',
        targets: [{ host: '10.0.0.1', port: 8080 }],
        source: { kind: 'Service', namespace: 'payments', name: 'payments' },
      },
    ],
    plugins: [],
    applications: [],
    ...overrides,
  };
}

describe('validateConfig', () => {
  it('accepts a minimal config and fills in schema defaults', () => {
    const result = validateConfig(config());
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const r = result.config.virtualHosts[0]!.routes[0]!;
    expect(r).toMatchObject({
      protocols: ['http', 'https'],
      stripPath: false,
      preserveHost: true,
      retries: 5,
      httpsRedirectStatusCode: 426,
    });
    expect(result.config.upstreams[0]!.targets[0]!.weight).toBe(100);
  });

  it('does not modify its input', () => {
    const input = config();
    const before = JSON.stringify(input);
    validateConfig(input);
    expect(JSON.stringify(input)).toBe(before);
  });

  const cases: [string, Record<string, unknown>, string, string | undefined][] = [
    ['wrong schema version', config({ schemaVersion: 2 }), '/schemaVersion', undefined],
    ['unknown top-level field', config({ extra: true }), '/extra', undefined],
    [
      'unknown route field',
      config({ virtualHosts: [{ host: 'a.example.com', routes: [route({ stripPth: true })] }] }),
      '/virtualHosts/0/routes/0/stripPth',
      'payments',
    ],
    [
      'bad path type',
      config({ virtualHosts: [{ host: 'a.example.com', routes: [route({ pathType: 'Regex' })] }] }),
      '/virtualHosts/0/routes/0/pathType',
      'payments',
    ],
    [
      'upper-case host',
      config({ virtualHosts: [{ host: 'API.example.com', routes: [] }] }),
      '/virtualHosts/0/host',
      undefined,
    ],
    [
      'two-label wildcard',
      config({ virtualHosts: [{ host: '*.*.example.com', routes: [] }] }),
      '/virtualHosts/0/host',
      undefined,
    ],
    [
      'unknown upstream',
      config({ virtualHosts: [{ host: 'a.example.com', routes: [route({ upstream: 'nope' })] }] }),
      '/virtualHosts/0/routes/0/upstream',
      'payments',
    ],
    [
      'unknown plugin',
      config({ virtualHosts: [{ host: 'a.example.com', routes: [route({ plugins: ['okta'] })] }] }),
      '/virtualHosts/0/routes/0/plugins/0',
      'payments',
    ],
    [
      'bad regex',
      config({
        virtualHosts: [
          { host: 'a.example.com', routes: [route({ pathType: 'ImplementationSpecific', path: '~/a(' })] },
        ],
      }),
      '/virtualHosts/0/routes/0/path',
      'payments',
    ],
    [
      'relative path',
      config({ virtualHosts: [{ host: 'a.example.com', routes: [route({ path: 'payments' })] }] }),
      '/virtualHosts/0/routes/0/path',
      'payments',
    ],
    [
      'duplicate route ids',
      config({ virtualHosts: [{ host: 'a.example.com', routes: [route(), route({ path: '/x' })] }] }),
      '/virtualHosts/0/routes/1',
      'payments',
    ],
    [
      'duplicate virtual host',
      config({
        virtualHosts: [
          { host: 'a.example.com', routes: [] },
          { host: 'a.example.com', routes: [] },
        ],
      }),
      '/virtualHosts/1',
      undefined,
    ],
    ['unknown default certificate', config({ defaultCertificate: 'nope' }), '/defaultCertificate', undefined],
    [
      'port out of range',
      config({
        upstreams: [{ name: 'payments.payments.80', targets: [{ host: 'h', port: 70000 }], source }],
      }),
      '/upstreams/0/targets/0/port',
      'payments',
    ],
  ];
  it.each(cases)('rejects %s, naming the element and its source', (_name, input, path, sourceName) => {
    const result = validateConfig(input);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const problem = result.problems.find((p) => p.path === path);
    expect(problem, JSON.stringify(result.problems)).toBeDefined();
    expect(problem!.message.length).toBeGreaterThan(0);
    expect(problem!.source?.name).toBe(sourceName);
  });

  it('rejects values that are not objects without throwing', () => {
    for (const input of [null, 42, 'x', [], undefined]) expect(validateConfig(input).ok).toBe(false);
  });
});

describe('configHash', () => {
  it('is sha256 of the JSON text as sent: equal for equal text, different for other content', () => {
    const a = validateConfig(config());
    const same = validateConfig(JSON.parse(JSON.stringify(config())));
    const c = validateConfig(config({ virtualHosts: [{ host: 'b.example.com', routes: [route()] }] }));
    if (!a.ok || !same.ok || !c.ok) throw new Error('fixtures must be valid');
    const text = JSON.stringify(a.config);
    expect(configHash(a.config)).toBe(createHash('sha256').update(text).digest('hex'));
    expect(configTextHash(text)).toBe(configHash(a.config));
    expect(configHash(same.config)).toBe(configHash(a.config));
    expect(configHash(c.config)).not.toBe(configHash(a.config));
  });

  it('is over the bytes, not a canonical form: another key order is another hash', () => {
    const text = JSON.stringify(config());
    const reordered = JSON.stringify(
      JSON.parse(text, (_k, v: unknown) =>
        v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).reverse()) : v,
      ),
    );
    expect(configTextHash(reordered)).not.toBe(configTextHash(text));
    expect(canonicalJson(JSON.parse(reordered))).toBe(canonicalJson(JSON.parse(text)));
  });
});

describe('validateConfig and defaults', () => {
  it('returns a complete config as the same object, and fills defaults into a copy otherwise', () => {
    const minimal = config();
    const filled = validateConfig(minimal);
    if (!filled.ok) throw new Error('fixture must be valid');
    expect(filled.config).not.toBe(minimal);
    const complete = JSON.parse(JSON.stringify(filled.config)) as unknown;
    const again = validateConfig(complete);
    if (!again.ok) throw new Error('a filled config must be valid');
    expect(again.config).toBe(complete);
  });
});

describe('redactConfig', () => {
  it('hides private keys and secret plugin fields, keeps everything else', () => {
    const input = config({
      certificates: [{ id: 'c', hosts: ['a.example.com'], cert: 'CERT', key: 'PRIVATE', source }],
      plugins: [
        {
          id: 'okta',
          name: 'openid-connect',
          config: {
            issuer: 'https://idp',
            client_id: ['gw'],
            client_secret: ['s3cret'],
            session_secret: 'x',
            nested: { password: 'p' },
          },
          source,
        },
      ],
    }) as unknown as CompiledConfig;
    const text = JSON.stringify(redactConfig(input));
    for (const secret of ['PRIVATE', 's3cret', '"x"', '"p"']) expect(text).not.toContain(secret);
    expect(text).toContain('CERT');
    expect(text).toContain('https://idp');
    expect(text).toContain('"gw"');
  });
});

describe('JSON Schema export', () => {
  it('is checked in and current (regenerate with `npm run schema`)', () => {
    expect(readFileSync('contract/compiled-config.schema.json', 'utf8')).toBe(schemaJson());
  });
});
