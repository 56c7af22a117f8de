/**
 * Application registration as a user runs it: `portcullis run --manifests
 * DIR` with the service team's KongPlugins and Ingress, the app team's
 * Application and the service owner's ApplicationRegistration, against the
 * test OpenID Providers (Okta-like and Azure-like). Every change is a file
 * write in the folder, the way `kubectl apply` changes the cluster; a
 * revocation must refuse the next requests within a second, whatever the
 * caller rides on.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHROMIUM, launchChromium } from '../../support/browser.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, http, type HttpResult } from '../../support/http-client.js';
import { CLI } from '../../support/proxy-process.js';
import { RunProcess } from '../../support/run-process.js';
import { startEcho, type EchoServer } from '../../support/upstreams.js';
import { startTestIdp, type TestIdp } from '../../../demo/idp/test-idp.js';

const SECRET = 'run-apps-session-secret-0123456789abcdef';
const BILLING = { id: 'app-billing', secret: 'app-billing-secret' };
const FORBIDDEN = { message: 'You cannot consume this service' };
/** Revocation to first refusal, polled: the target is 1 s; the bound leaves room for a loaded machine. */
const REVOCATION_BOUND_MS = 1_000;

let okta: TestIdp;
let azure: TestIdp;
let echo: EchoServer;
let dir: string;
let run: RunProcess;
let origin: string;

const basic = (c: { id: string; secret: string }) =>
  `Basic ${Buffer.from(`${c.id}:${c.secret}`).toString('base64')}`;

const service = (name: string, port: number) => `apiVersion: v1
kind: Service
metadata: { name: ${name}, namespace: payments }
spec:
  ports: [{ name: http, port: 80, targetPort: ${port} }]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: ${name}-local
  namespace: payments
  labels: { kubernetes.io/service-name: ${name} }
addressType: IPv4
ports: [{ name: http, port: ${port} }]
endpoints: [{ addresses: [127.0.0.1], conditions: { ready: true } }]
`;

const ingress = (name: string, path: string, plugins: string) => `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: ${name}
  namespace: payments
  annotations: { konghq.com/plugins: "${plugins}" }
spec:
  ingressClassName: portcullis
  rules:
    - http:
        paths:
          - { path: ${path}, pathType: Prefix, backend: { service: { name: ${name}, port: { number: 80 } } } }
`;

const appsPlugin = (name: string, autoApprove: boolean) => `apiVersion: configuration.konghq.com/v1
kind: KongPlugin
metadata: { name: ${name}, namespace: payments }
plugin: application-registration
config: { display_name: ${name}, auto_approve: ${autoApprove} }
`;

const application = (
  namespace: string,
  name: string,
  clientId: string,
  services: string[],
) => `apiVersion: portcullis.dev/v1alpha1
kind: Application
metadata: { name: ${name}, namespace: ${namespace} }
spec:
  displayName: ${name}
  clientId: ${clientId}
  registrations:
${services.map((s) => `    - service: { namespace: payments, name: ${s} }`).join('\n')}
`;

const registration = (app: string, svc: string, state: string) => `apiVersion: portcullis.dev/v1alpha1
kind: ApplicationRegistration
metadata: { name: ${app.replace('/', '.')}.${svc}, namespace: payments }
spec:
  application: { namespace: ${app.split('/')[0]}, name: ${app.split('/')[1]} }
  service: ${svc}
  state: ${state}
`;

/** Writes a manifest as editors and kubectl-like tools do: a temporary file renamed over it. */
async function put(file: string, text: string): Promise<void> {
  const temporary = join(dir, `.${file}.tmp`);
  await writeFile(temporary, text);
  await rename(temporary, join(dir, file));
}

function get(path: string, headers: Record<string, string> = {}): Promise<HttpResult> {
  return http({ port: run.ports.http, path, headers });
}

/** Polls until `path` answers `status`; returns how long that took. */
async function answers(path: string, headers: Record<string, string>, status: number, boundMs = 5_000) {
  const started = performance.now();
  await eventually(
    async () => ((await get(path, headers)).status === status ? true : undefined),
    `${path} -> ${status}`,
    boundMs,
    20,
  );
  return performance.now() - started;
}

beforeAll(async () => {
  [okta, azure, echo] = await Promise.all([
    startTestIdp({ profile: 'okta' }),
    startTestIdp({ profile: 'azure' }),
    startEcho(),
  ]);
  dir = await mkdtemp(join(tmpdir(), 'portcullis-apps-'));
  const oidc = (idp: TestIdp, extra: string) => `
  issuer: ${idp.issuer}
  client_id: [${idp.gateway.clientId}]
  client_secret: [${idp.gateway.clientSecret}]
  session_secret: ${SECRET}
${extra}`;
  await writeFile(
    join(dir, 'platform.yaml'),
    `apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: { name: portcullis }
spec: { controller: portcullis.dev/ingress-controller }
---
apiVersion: configuration.konghq.com/v1
kind: KongPlugin
metadata: { name: okta, namespace: payments }
plugin: openid-connect
config:${oidc(
      okta,
      `  auth_methods: [client_credentials, bearer, session, authorization_code]
  scopes: [openid, api:read]
  scopes_claim: [scp]
  consumer_claim: [application_id]
  consumer_by: [custom_id]`,
    )}
---
apiVersion: configuration.konghq.com/v1
kind: KongPlugin
metadata: { name: azure, namespace: payments }
plugin: openid-connect
config:${oidc(
      azure,
      `  auth_methods: [bearer]
  consumer_claim: [azp]
  consumer_by: [custom_id]`,
    )}
`,
  );
  await writeFile(
    join(dir, 'services.yaml'),
    ['payments', 'ledger', 'catalog'].map((s) => service(s, echo.port)).join('---\n'),
  );
  await writeFile(join(dir, 'payments-apps.yaml'), appsPlugin('payments-apps', false));
  await writeFile(join(dir, 'catalog-apps.yaml'), appsPlugin('catalog-apps', true));
  await writeFile(
    join(dir, 'ingresses.yaml'),
    [
      ingress('payments', '/payments', 'okta,payments-apps'),
      ingress('ledger', '/ledger', 'azure,payments-apps'),
      ingress('catalog', '/catalog', 'okta,catalog-apps'),
    ].join('---\n'),
  );
  await writeFile(
    join(dir, 'billing.yaml'),
    application('billing', 'billing', BILLING.id, ['payments', 'ledger', 'catalog']),
  );
  await writeFile(join(dir, 'web.yaml'), application('web', 'portal', 'gateway', ['payments']));
  await writeFile(
    join(dir, 'reg-billing-payments.yaml'),
    registration('billing/billing', 'payments', 'Approved'),
  );
  await writeFile(
    join(dir, 'reg-billing-ledger.yaml'),
    registration('billing/billing', 'ledger', 'Approved'),
  );
  await writeFile(join(dir, 'reg-web-payments.yaml'), registration('web/portal', 'payments', 'Approved'));
  run = await RunProcess.start(dir);
  origin = `http://127.0.0.1:${run.ports.http}`;
  okta.setRedirectUris('gateway', [`${origin}/payments/page`]);
}, 60_000);

afterAll(async () => {
  await run?.stop();
  await echo?.close();
  await okta?.stop();
  await azure?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('client credentials via Basic (Okta-like)', () => {
  it('approved: 200, and the upstream is told which Application', async () => {
    const res = await get('/payments/x', { authorization: basic(BILLING) });
    expect(res.status, res.text).toBe(200);
    expect(res.json<{ headers: Record<string, string> }>().headers['x-consumer-id']).toBe('billing/billing');
  });

  it.each(['Pending', 'Rejected', 'Revoked'])('%s: 403', async (state) => {
    await put('reg-billing-payments.yaml', registration('billing/billing', 'payments', state));
    await answers('/payments/x', { authorization: basic(BILLING) }, 403);
    expect((await get('/payments/x', { authorization: basic(BILLING) })).json()).toEqual(FORBIDDEN);
    await put('reg-billing-payments.yaml', registration('billing/billing', 'payments', 'Approved'));
    await answers('/payments/x', { authorization: basic(BILLING) }, 200);
  });

  it('a client with no Application: 403', async () => {
    const res = await get('/payments/x', {
      authorization: basic({ id: 'app-other', secret: 'app-other-secret' }),
    });
    expect(res.status).toBe(403);
  });
});

describe('bearer token with an Azure-like azp claim', () => {
  it('maps by azp and passes while approved', async () => {
    const issued = await azure.clientCredentials(
      BILLING.id,
      BILLING.secret,
      `${azure.resources.jwt}/.default`,
    );
    const res = await get('/ledger/x', { authorization: `Bearer ${issued.access_token!}` });
    expect(res.status, res.text).toBe(200);
    expect(res.json<{ headers: Record<string, string> }>().headers['x-consumer-custom-id']).toBe(BILLING.id);
  });
});

describe('revocation is immediate', () => {
  it('a cached client-credentials token and a cached bearer verification: refused within 1 s', async () => {
    const issued = await okta.clientCredentials(BILLING.id, BILLING.secret, 'api:read');
    const bearer = { authorization: `Bearer ${issued.access_token!}` };
    const viaBasic = { authorization: basic(BILLING) };
    // Both cached now: the exchanged token and the verified bearer token.
    for (const headers of [viaBasic, bearer]) expect((await get('/payments/x', headers)).status).toBe(200);

    await put('reg-billing-payments.yaml', registration('billing/billing', 'payments', 'Revoked'));
    const elapsed = await answers('/payments/x', viaBasic, 403, REVOCATION_BOUND_MS);
    expect((await get('/payments/x', bearer)).status).toBe(403);
    console.info(`[apps] revoked -> first 403 in ${Math.round(elapsed)} ms (cached client credentials)`);

    await put('reg-billing-payments.yaml', registration('billing/billing', 'payments', 'Approved'));
    await answers('/payments/x', viaBasic, 200);
  });

  it('a deleted ApplicationRegistration: refused (no auto_approve)', async () => {
    await unlink(join(dir, 'reg-billing-payments.yaml'));
    await answers('/payments/x', { authorization: basic(BILLING) }, 403, REVOCATION_BOUND_MS);
    await put('reg-billing-payments.yaml', registration('billing/billing', 'payments', 'Approved'));
    await answers('/payments/x', { authorization: basic(BILLING) }, 200);
  });

  it('an Application that stops listing the Service: refused, though its registration says Approved', async () => {
    await put('billing.yaml', application('billing', 'billing', BILLING.id, ['ledger', 'catalog']));
    await answers('/payments/x', { authorization: basic(BILLING) }, 403, REVOCATION_BOUND_MS);
    await put(
      'billing.yaml',
      application('billing', 'billing', BILLING.id, ['payments', 'ledger', 'catalog']),
    );
    await answers('/payments/x', { authorization: basic(BILLING) }, 200);
  });
});

describe('auto_approve', () => {
  it('approves an Application that asks, without a registration', async () => {
    expect((await get('/catalog/x', { authorization: basic(BILLING) })).status).toBe(200);
  });

  it('a registration a person set still decides: Rejected holds', async () => {
    await put('reg-billing-catalog.yaml', registration('billing/billing', 'catalog', 'Rejected'));
    await answers('/catalog/x', { authorization: basic(BILLING) }, 403);
    await unlink(join(dir, 'reg-billing-catalog.yaml'));
    await answers('/catalog/x', { authorization: basic(BILLING) }, 200);
  });

  it('turned off, the Application is no longer approved', async () => {
    await put('catalog-apps.yaml', appsPlugin('catalog-apps', false));
    await answers('/catalog/x', { authorization: basic(BILLING) }, 403);
    await put('catalog-apps.yaml', appsPlugin('catalog-apps', true));
    await answers('/catalog/x', { authorization: basic(BILLING) }, 200);
  });
});

describe.skipIf(!existsSync(CHROMIUM))('authorization code in Chromium, then the session', () => {
  it('logs in, rides the session while approved, and is refused within 1 s of revocation', async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      const target = `${origin}/payments/page`;
      await page.goto(target);
      expect(page.url().startsWith(okta.origin)).toBe(true);
      await page.fill('input[name=login]', 'alice');
      await page.fill('input[name=password]', 'alice-password');
      await Promise.all([page.waitForURL(target), page.click('button[type=submit]')]);
      const seen = JSON.parse(await page.locator('body').innerText()) as { headers: Record<string, string> };
      expect(seen.headers['x-consumer-id']).toBe('web/portal');

      // The session alone: no token is sent again.
      const cookie = (await page.context().cookies(origin))
        .filter((c) => c.name === 'session' || c.name.startsWith('session_'))
        .map((c) => `${c.name}=${c.value}`)
        .join('; ');
      expect(cookie).not.toBe('');
      expect((await get('/payments/page', { cookie })).status).toBe(200);

      await put('reg-web-payments.yaml', registration('web/portal', 'payments', 'Revoked'));
      const elapsed = await answers('/payments/page', { cookie }, 403, REVOCATION_BOUND_MS);
      console.info(`[apps] revoked -> first 403 in ${Math.round(elapsed)} ms (session cookie)`);
      const response = await page.goto(target);
      expect(response?.status()).toBe(403);
      expect(await page.locator('body').innerText()).toContain('You cannot consume this service');
    } finally {
      await browser.close();
      await put('reg-web-payments.yaml', registration('web/portal', 'payments', 'Approved'));
    }
  });
});
if (!existsSync(CHROMIUM))
  console.warn(
    `[apps] ${CHROMIUM} not found: the Chromium login test is skipped (install Debian's chromium)`,
  );

describe('the portal view', () => {
  it('GET /portal/services lists each Service with its plugin, routes and auth, never a secret', async () => {
    const res = await http({ port: run.ports.controller, path: '/portal/services' });
    expect(res.status).toBe(200);
    const { services } = res.json<{
      services: { name: string; routes: { path: string }[]; autoApprove: boolean }[];
    }>();
    expect(services.map((s) => s.name)).toEqual(['catalog', 'ledger', 'payments']);
    expect(services.find((s) => s.name === 'catalog')!.autoApprove).toBe(true);
    expect(services.find((s) => s.name === 'payments')!.routes).toEqual([
      { host: '*', path: '/payments', pathType: 'Prefix' },
    ]);
    expect(res.text).not.toContain(SECRET);
    expect(res.text).not.toContain(okta.gateway.clientSecret!);
  });

  it('GET /portal/applications shows each requested Service with its state', async () => {
    const res = await http({ port: run.ports.controller, path: '/portal/applications?namespace=billing' });
    const { applications } = res.json<{
      applications: { name: string; clientId: string; registrations: { service: string; state: string }[] }[];
    }>();
    expect(applications.map((a) => a.name)).toEqual(['billing']);
    expect(applications[0]!.clientId).toBe(BILLING.id);
    expect(Object.fromEntries(applications[0]!.registrations.map((r) => [r.service, r.state]))).toEqual({
      'payments/payments': 'Approved',
      'payments/ledger': 'Approved',
      'payments/catalog': 'Approved',
    });
  });

  it('portcullis apps --controller prints it as tables', () => {
    const result = spawnSync(
      process.execPath,
      [CLI, 'apps', '--controller', `http://127.0.0.1:${run.ports.controller}`],
      { encoding: 'utf8' },
    );
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^payments\/ledger +payments-apps +no +\/ledger +bearer$/m);
    expect(result.stdout).toMatch(/^web\/portal +gateway +payments\/payments +Approved/m);
  });
});

describe('deleting the Application', () => {
  it('refuses its callers: nothing maps to it any more', async () => {
    await unlink(join(dir, 'billing.yaml'));
    await answers('/payments/x', { authorization: basic(BILLING) }, 403, REVOCATION_BOUND_MS);
  });
});
