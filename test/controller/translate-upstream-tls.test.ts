/**
 * Upstream TLS verification annotations on a Service (konghq.com/tls-verify,
 * tls-verify-depth, ca-certificates-secrets): what each value makes of the
 * upstream, and every way a CA Secret can be unusable, which fails the
 * Service's routes closed and never leaves the upstream unverified.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Route, Upstream } from '../../contract/compiled-config.js';
import { validateConfig } from '../../contract/validate.js';
import { emptySnapshot, secretReferences, translate } from '../../controller/translate/index.js';
import type { Secret } from '../../controller/translate/k8s-types.js';
import { ingress, ingressClass, secret, service } from '../fixtures/k8s.js';
import { certificateAuthority, serverCertificate, type IssuedCertificate } from '../support/upstreams.js';

const HTTPS = { 'konghq.com/protocol': 'https' };
const VERIFY = { ...HTTPS, 'konghq.com/tls-verify': 'true' };

let ca: IssuedCertificate;
let otherCa: IssuedCertificate;
let leaf: IssuedCertificate;

beforeAll(async () => {
  [ca, otherCa] = await Promise.all([certificateAuthority('Shop Root'), certificateAuthority('Other Root')]);
  leaf = await serverCertificate(ca, ['web.shop.svc']);
});

function caSecret(name: string, data: Record<string, string>, labelled = true): Secret {
  const s = secret('shop', name, data);
  if (labelled) s.metadata.labels = { 'konghq.com/ca-cert': 'true' };
  return s;
}

function translateWith(annotations: Record<string, string>, secrets: Secret[] = []) {
  const snapshot = emptySnapshot();
  snapshot.ingressClasses.push(ingressClass());
  snapshot.services.push(service('shop', 'web', { annotations }));
  snapshot.secrets.push(...secrets);
  snapshot.ingresses.push(
    ingress('shop', 'web', { rules: [{ host: 'shop.example.com', paths: [{ path: '/', service: 'web' }] }] }),
  );
  const result = translate(snapshot);
  const route = result.config.virtualHosts.find((v) => v.host === 'shop.example.com')?.routes[0] as Route;
  const upstream = result.config.upstreams.find((u) => u.name === 'shop.web.80') as Upstream;
  expect(validateConfig(result.config).ok).toBe(true);
  return { route, upstream, problems: result.problems, snapshot };
}

describe('konghq.com/tls-verify and tls-verify-depth', () => {
  it('without them the upstream is not verified (Kong default), even over https', () => {
    const { route, upstream, problems } = translateWith(HTTPS);
    expect(upstream.protocol).toBe('https');
    expect(upstream.tlsVerify).toBeUndefined();
    expect(route.unavailable).toBeUndefined();
    expect(problems).toEqual([]);
  });

  it.each([
    [{ 'konghq.com/tls-verify': 'true' }, {}],
    [{ 'konghq.com/tls-verify': 'True' }, {}],
    [{ 'konghq.com/tls-verify': '1' }, {}], // Go's strconv.ParseBool, as KIC reads it
    [{ 'konghq.com/tls-verify': 't' }, {}],
    [{ 'konghq.com/tls-verify': 'true', 'konghq.com/tls-verify-depth': '0' }, { depth: 0 }],
    [{ 'konghq.com/tls-verify': 'TRUE', 'konghq.com/tls-verify-depth': '64' }, { depth: 64 }],
    [{ 'konghq.com/tls-verify': 'false' }, undefined],
    [{ 'konghq.com/tls-verify': '0' }, undefined],
    [{ 'konghq.com/tls-verify': 'false', 'konghq.com/tls-verify-depth': '3' }, undefined],
  ])('%j verifies as %j', (annotations, expected) => {
    const { route, upstream, problems } = translateWith({ ...HTTPS, ...annotations });
    expect(problems).toEqual([]);
    expect(route.unavailable).toBeUndefined();
    expect(upstream.tlsVerify).toEqual(expected);
  });

  it.each([
    ['konghq.com/tls-verify', 'yes'],
    ['konghq.com/tls-verify', ''],
    ['konghq.com/tls-verify-depth', '-1'],
    ['konghq.com/tls-verify-depth', '65'],
    ['konghq.com/tls-verify-depth', '1.5'],
    ['konghq.com/tls-verify-depth', 'two'],
    ['konghq.com/ca-certificates-secrets', 'Bad_Name'],
  ])('%s: %j is refused by name and the routes answer 503', (name, value) => {
    const { route, problems } = translateWith({ ...VERIFY, [name]: value });
    expect(route.unavailable?.code).toBe('ANNOTATION_INVALID');
    expect(problems).toContainEqual(
      expect.objectContaining({
        code: 'ANNOTATION_INVALID',
        message: expect.stringContaining(name) as string,
      }),
    );
  });

  it('tls-verify on a plain http upstream fails closed (Kong rejects such a Service)', () => {
    const { route, problems } = translateWith({ 'konghq.com/tls-verify': 'true' });
    expect(route.unavailable?.code).toBe('ANNOTATION_INVALID');
    expect(problems[0]?.message).toContain('konghq.com/protocol');
  });

  it('CA certificates without tls-verify fail closed (KIC would serve it unverified)', () => {
    const { route, problems } = translateWith({ ...HTTPS, 'konghq.com/ca-certificates-secrets': 'root-ca' }, [
      caSecret('root-ca', { 'ca.crt': ca.cert }),
    ]);
    expect(route.unavailable?.code).toBe('ANNOTATION_INVALID');
    expect(problems[0]?.message).toContain('konghq.com/tls-verify');
  });

  // KIC ignores them on an Ingress; whoever wrote one asked for a verified upstream: fail closed.
  it.each([
    ['konghq.com/tls-verify', 'true'],
    ['konghq.com/tls-verify-depth', '1'],
    ['konghq.com/ca-certificates-secrets', 'root-ca'],
  ])('on an Ingress, %s is refused and the route fails closed (it would go unverified)', (name, value) => {
    const snapshot = emptySnapshot();
    snapshot.ingressClasses.push(ingressClass());
    snapshot.services.push(service('shop', 'web'));
    snapshot.ingresses.push(
      ingress('shop', 'web', {
        annotations: { [name]: value },
        rules: [{ host: 'shop.example.com', paths: [{ path: '/', service: 'web' }] }],
      }),
    );
    const { config, problems } = translate(snapshot);
    expect(problems.map((p) => p.code)).toEqual(['ANNOTATION_UNSUPPORTED']);
    expect(problems[0]?.message).toContain('put it on the Service');
    const route = config.virtualHosts.find((v) => v.host === 'shop.example.com')?.routes[0];
    expect(route?.unavailable?.code).toBe('ANNOTATION_UNSUPPORTED');
  });

  it('ca-certificates-configmaps is refused by name', () => {
    const { route, problems } = translateWith({
      ...VERIFY,
      'konghq.com/ca-certificates-configmaps': 'root-ca',
    });
    expect(route.unavailable?.code).toBe('ANNOTATION_UNSUPPORTED');
    expect(problems[0]?.message).toContain('ConfigMaps');
  });
});

describe('konghq.com/ca-certificates-secrets', () => {
  it('trusts the CA certificates of the Secrets it names, under cert or ca.crt', () => {
    const { route, upstream, problems } = translateWith(
      {
        ...VERIFY,
        'konghq.com/tls-verify-depth': '1',
        'konghq.com/ca-certificates-secrets': 'root-ca, other-ca',
      },
      [
        caSecret('root-ca', { 'ca.crt': ca.cert, id: 'ignored' }),
        caSecret('other-ca', { cert: otherCa.cert }),
      ],
    );
    expect(problems).toEqual([]);
    expect(route.unavailable).toBeUndefined();
    expect(upstream.tlsVerify).toEqual({
      depth: 1,
      caCertificates: [ca.cert.trim() + '\n', otherCa.cert.trim() + '\n'],
    });
  });

  it('reads base64 data as well as stringData', () => {
    const s = caSecret('root-ca', {});
    delete s.stringData;
    s.data = { 'ca.crt': Buffer.from(ca.cert).toString('base64') };
    const { upstream } = translateWith({ ...VERIFY, 'konghq.com/ca-certificates-secrets': 'root-ca' }, [s]);
    expect(upstream.tlsVerify?.caCertificates).toEqual([ca.cert.trim() + '\n']);
  });

  it.each([
    ['a missing Secret', () => [], 'UPSTREAM_CA_NOT_FOUND', 'does not exist'],
    [
      'a Secret without the label',
      () => [caSecret('root-ca', { 'ca.crt': ca.cert }, false)],
      'UPSTREAM_CA_NOT_FOUND',
      'konghq.com/ca-cert',
    ],
    [
      'no cert or ca.crt key',
      () => [caSecret('root-ca', { 'tls.crt': ca.cert })],
      'UPSTREAM_CA_INVALID',
      'neither a cert nor a ca.crt',
    ],
    ['not PEM', () => [caSecret('root-ca', { 'ca.crt': 'not a certificate' })], 'UPSTREAM_CA_INVALID', 'PEM'],
    [
      'a truncated PEM',
      () => [caSecret('root-ca', { 'ca.crt': ca.cert.slice(0, 200) })],
      'UPSTREAM_CA_INVALID',
      'PEM',
    ],
    [
      'two certificates (KIC takes one per Secret)',
      () => [caSecret('root-ca', { 'ca.crt': ca.cert + otherCa.cert })],
      'UPSTREAM_CA_INVALID',
      'exactly one',
    ],
    [
      'a certificate that is not a CA',
      () => [caSecret('root-ca', { 'ca.crt': leaf.cert })],
      'UPSTREAM_CA_INVALID',
      'CA basic constraint',
    ],
    [
      'a private key next to the certificate',
      () => [caSecret('root-ca', { 'ca.crt': ca.cert + ca.key })],
      'UPSTREAM_CA_INVALID',
      'PEM',
    ],
  ])('%s fails the routes closed and the upstream still verifies', (_what, secrets, code, text) => {
    const { route, upstream, problems } = translateWith(
      { ...VERIFY, 'konghq.com/ca-certificates-secrets': 'root-ca' },
      secrets(),
    );
    expect(route.unavailable?.code).toBe(code);
    const problem = problems.find((p) => p.code === code);
    expect(problem?.message).toContain('shop/root-ca');
    expect(problem?.message).toContain(text);
    // Never the certificate's or key's content in a problem.
    expect(problem?.message).not.toContain('BEGIN');
    expect(problem?.objects).toContainEqual({ kind: 'Service', namespace: 'shop', name: 'web' });
    // Never unverified: the routes 503 and the upstream keeps verifying against the default store.
    expect(upstream.tlsVerify).toEqual({});
  });

  it('a Secret in another namespace is not found: names are in the Service namespace', () => {
    const other = secret('elsewhere', 'root-ca', { 'ca.crt': ca.cert });
    other.metadata.labels = { 'konghq.com/ca-cert': 'true' };
    const { route } = translateWith({ ...VERIFY, 'konghq.com/ca-certificates-secrets': 'root-ca' }, [other]);
    expect(route.unavailable?.code).toBe('UPSTREAM_CA_NOT_FOUND');
  });

  it('the Secrets it names are referenced, so the Kubernetes source reads them', () => {
    const { snapshot } = translateWith({ ...VERIFY, 'konghq.com/ca-certificates-secrets': 'root-ca,b' });
    expect(secretReferences(snapshot)).toEqual([
      { namespace: 'shop', name: 'b' },
      { namespace: 'shop', name: 'root-ca' },
    ]);
  });
});
