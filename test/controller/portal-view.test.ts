import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { portalView } from '../../controller/portal/view.js';
import { snapshotFromObjects } from '../../controller/snapshot.js';
import { translate } from '../../controller/translate/index.js';

function viewOf(objects: unknown[]) {
  const { config, statuses } = translate(snapshotFromObjects(objects).snapshot);
  return portalView(config, statuses);
}

const golden = (name: string) =>
  parseAllDocuments(
    readFileSync(new URL(`../golden/translate/${name}/in.yaml`, import.meta.url), 'utf8'),
  ).map((d) => d.toJS() as unknown);

const SECRET = 'portal-client-secret-do-not-show';
const SESSION = 'portal-session-secret-do-not-show-0123456789';

function cluster(showIssuer: boolean): unknown[] {
  return [
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'IngressClass',
      metadata: { name: 'portcullis' },
      spec: { controller: 'portcullis.dev/ingress-controller' },
    },
    {
      apiVersion: 'configuration.konghq.com/v1',
      kind: 'KongPlugin',
      metadata: { name: 'okta', namespace: 'payments' },
      plugin: 'openid-connect',
      config: {
        issuer: 'https://dev-1.okta.example/oauth2/default',
        client_id: ['gateway'],
        client_secret: [SECRET],
        session_secret: SESSION,
        auth_methods: ['client_credentials', 'bearer'],
        scopes: ['api:read'],
        scopes_required: ['api:read'],
      },
    },
    {
      apiVersion: 'configuration.konghq.com/v1',
      kind: 'KongPlugin',
      metadata: { name: 'apps', namespace: 'payments' },
      plugin: 'application-registration',
      config: { display_name: 'Payments API', description: 'Card payments', show_issuer: showIssuer },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'payments', namespace: 'payments' },
      spec: { ports: [{ name: 'http', port: 80 }] },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'open', namespace: 'payments' },
      spec: { ports: [{ name: 'http', port: 80 }] },
    },
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: {
        name: 'payments',
        namespace: 'payments',
        annotations: { 'konghq.com/plugins': 'okta,apps' },
      },
      spec: {
        ingressClassName: 'portcullis',
        rules: [
          {
            host: 'api.example.com',
            http: {
              paths: [
                {
                  path: '/payments',
                  pathType: 'Prefix',
                  backend: { service: { name: 'payments', port: { number: 80 } } },
                },
              ],
            },
          },
        ],
      },
    },
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: { name: 'open', namespace: 'payments' },
      spec: {
        ingressClassName: 'portcullis',
        rules: [
          {
            http: {
              paths: [
                {
                  path: '/open',
                  pathType: 'Prefix',
                  backend: { service: { name: 'open', port: { number: 80 } } },
                },
              ],
            },
          },
        ],
      },
    },
    {
      apiVersion: 'portcullis.dev/v1alpha1',
      kind: 'Application',
      metadata: { name: 'billing', namespace: 'billing' },
      spec: {
        displayName: 'Billing',
        clientId: '0oa5billing',
        registrations: [{ service: { namespace: 'payments', name: 'payments' } }],
      },
    },
  ];
}

describe('portal view', () => {
  it('lists the Services that use application registration, with where and how to reach them', () => {
    const { services } = viewOf(cluster(false));
    expect(services).toEqual([
      {
        namespace: 'payments',
        name: 'payments',
        displayName: 'Payments API',
        description: 'Card payments',
        autoApprove: false,
        routes: [{ host: 'api.example.com', path: '/payments', pathType: 'Prefix' }],
        authentication: [
          {
            authMethods: ['client_credentials', 'bearer'],
            scopes: ['api:read'],
            scopesRequired: ['api:read'],
          },
        ],
      },
    ]);
  });

  it('shows the issuer only with show_issuer', () => {
    expect(viewOf(cluster(true)).services[0]!.authentication[0]!.issuer).toBe(
      'https://dev-1.okta.example/oauth2/default',
    );
    expect(viewOf(cluster(false)).services[0]!.authentication[0]).not.toHaveProperty('issuer');
  });

  it('never carries a secret', () => {
    for (const show of [true, false]) {
      const text = JSON.stringify(viewOf(cluster(show)));
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain(SESSION);
    }
  });

  it('a requested registration with no ApplicationRegistration shows as Pending (standalone)', () => {
    expect(viewOf(cluster(false)).applications).toEqual([
      expect.objectContaining({
        namespace: 'billing',
        name: 'billing',
        displayName: 'Billing',
        clientId: '0oa5billing',
        registrations: [expect.objectContaining({ service: 'payments/payments', state: 'Pending' })],
      }),
    ]);
  });

  it('maps every state, and lists Applications left out of the config', () => {
    const { applications } = viewOf(golden('applications'));
    const billing = applications.find((a) => a.name === 'billing')!;
    const states = Object.fromEntries(billing.registrations.map((r) => [r.service, r.state]));
    expect(states).toMatchObject({
      'payments/payments': 'Approved',
      'payments/refunds': 'Revoked',
      'catalog/catalog': 'Approved',
    });
    expect(billing.registrations.find((r) => r.service === 'catalog/catalog')!.note).toBe('auto_approve');
    const impostor = applications.find((a) => a.name === 'impostor')!;
    expect(impostor.clientId).toBeUndefined();
    expect(impostor.conditions.find((c) => c.type === 'Ready')!.reason).toBe('ClientIdConflict');
    expect(applications.map((a) => `${a.namespace}/${a.name}`)).toEqual(
      [...applications.map((a) => `${a.namespace}/${a.name}`)].sort(),
    );
  });
});
