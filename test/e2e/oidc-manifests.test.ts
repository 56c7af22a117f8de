/**
 * Kong-shaped manifests drive the openid-connect plugin end to end:
 * `portcullis run --manifests DIR` (controller + proxy) with a KongPlugin
 * whose client secret comes from a Secret by configPatches, an Ingress
 * annotated `konghq.com/plugins`, and an Application mapped by clientId.
 * A second KongPlugin with a field the plugin does not have breaks only its
 * own route, which answers 503 rather than running without auth.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestIdp, type TestIdp } from '../../demo/idp/test-idp.js';
import { http } from '../support/http-client.js';
import { RunProcess } from '../support/run-process.js';
import { startEcho, type EchoServer } from '../support/upstreams.js';

function manifests(idp: TestIdp, upstreamPort: number): string {
  return `apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: { name: portcullis }
spec: { controller: portcullis.dev/ingress-controller }
---
apiVersion: v1
kind: Service
metadata: { name: payments, namespace: payments }
spec:
  ports: [{ name: http, port: 80, targetPort: ${upstreamPort} }]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: payments-local
  namespace: payments
  labels: { kubernetes.io/service-name: payments }
addressType: IPv4
ports: [{ name: http, port: ${upstreamPort} }]
endpoints: [{ addresses: [127.0.0.1], conditions: { ready: true } }]
---
apiVersion: v1
kind: Secret
metadata: { name: okta-client, namespace: payments }
stringData:
  secret: '${JSON.stringify(idp.gateway.clientSecret)}'
---
apiVersion: configuration.konghq.com/v1
kind: KongPlugin
metadata: { name: okta, namespace: payments }
plugin: openid-connect
config:
  issuer: ${idp.issuer}
  client_id: [${idp.gateway.clientId}]
  auth_methods: [client_credentials, bearer, session]
  consumer_claim: [application_id]
  consumer_by: [custom_id]
  scopes: [api:read]
configPatches:
  - path: /client_secret
    valueFrom: { secretKeyRef: { name: okta-client, key: secret } }
---
apiVersion: configuration.konghq.com/v1
kind: KongPlugin
metadata: { name: broken, namespace: payments }
plugin: openid-connect
config:
  issuer: ${idp.issuer}
  bearer_only: true
---
apiVersion: portcullis.dev/v1alpha1
kind: Application
metadata: { name: billing, namespace: billing }
spec:
  displayName: Billing
  clientId: app-billing
  registrations:
    - service: { namespace: payments, name: payments }
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: payments
  namespace: payments
  annotations: { konghq.com/plugins: okta }
spec:
  ingressClassName: portcullis
  rules:
    - http:
        paths:
          - { path: /payments, pathType: Prefix, backend: { service: { name: payments, port: { number: 80 } } } }
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: broken
  namespace: payments
  annotations: { konghq.com/plugins: broken }
spec:
  ingressClassName: portcullis
  rules:
    - http:
        paths:
          - { path: /broken, pathType: Prefix, backend: { service: { name: payments, port: { number: 80 } } } }
`;
}

describe('KongPlugin manifests drive openid-connect', () => {
  let idp: TestIdp;
  let echo: EchoServer;
  let dir: string;
  let run: RunProcess;
  let httpPort: number;

  beforeAll(async () => {
    idp = await startTestIdp({ profile: 'okta' });
    echo = await startEcho({ name: 'payments' });
    dir = await mkdtemp(join(tmpdir(), 'portcullis-oidc-'));
    await writeFile(join(dir, 'all.yaml'), manifests(idp, echo.port));
    run = await RunProcess.start(dir);
    httpPort = run.ports.http;
  }, 40_000);

  afterAll(async () => {
    await run?.stop();
    await echo?.close();
    await idp?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('refuses a request without credentials', async () => {
    const res = await http({ port: httpPort, path: '/payments/invoices' });
    expect(res.status).toBe(401);
    expect(echo.requests).toHaveLength(0);
  });

  it('lets an application in with its client credentials and names it upstream', async () => {
    const basic = Buffer.from(`app-billing:${idp.clients['app-billing']!.clientSecret}`).toString('base64');
    const res = await http({
      port: httpPort,
      path: '/payments/invoices',
      headers: { authorization: `Basic ${basic}` },
    });
    expect(res.status, res.text).toBe(200);
    const seen = res.json<{ headers: Record<string, string> }>().headers;
    expect(seen['x-consumer-custom-id']).toBe('app-billing');
    expect(seen['x-consumer-id']).toBe('billing/billing');
    expect(seen.authorization).toMatch(/^Bearer ey/);
  });

  it('answers 503 on the route whose KongPlugin has an unknown field, and never forwards', async () => {
    const before = echo.requests.length;
    const token = await idp.clientCredentials(
      'app-billing',
      idp.clients['app-billing']!.clientSecret!,
      'api:read',
    );
    const res = await http({
      port: httpPort,
      path: '/broken/x',
      headers: { authorization: `Bearer ${token.access_token}` },
    });
    expect(res.status).toBe(503);
    expect(echo.requests.length).toBe(before);
    expect(run.output).toContain('unknown field \\"bearer_only\\"');
  });
});
