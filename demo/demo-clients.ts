/**
 * Who the demo's IdP knows: the proxy's own client, one client per
 * Application in examples/demo, and the user of the browser login. The
 * manifests name the same client ids (Application `spec.clientId`, the
 * KongPlugin's `client_id`); the secrets are demo values, printed on purpose.
 */
import type { TestClient } from './idp/types.js';

export interface DemoClient {
  id: string;
  secret: string;
  /** The Application (namespace/name) whose `spec.clientId` this is. */
  application: string;
}

/** The KongPlugin's client_id: the browser login runs with it, so its tokens name the storefront. */
export const GATEWAY: DemoClient = {
  id: 'demo-gateway',
  secret: 'demo-gateway-secret',
  application: 'storefront/storefront',
};

/** Approved by payments/billing-registration.yaml. */
export const APPROVED: DemoClient = {
  id: 'billing-app',
  secret: 'billing-secret',
  application: 'billing/billing',
};

/** Its registration is Pending. */
export const PENDING: DemoClient = {
  id: 'analytics-app',
  secret: 'analytics-secret',
  application: 'analytics/analytics',
};

/** One of the test IdP's default users. */
export const DEMO_USER = { username: 'alice', password: 'alice-password' } as const;

/** The IdP's client registrations for them; the gateway may only return to the proxy's callback. */
export function idpClients(callback: string): Partial<TestClient>[] {
  const machine = (c: DemoClient): Partial<TestClient> => ({
    clientId: c.id,
    clientSecret: c.secret,
    kind: 'application',
    grantTypes: ['client_credentials'],
    responseTypes: [],
    redirectUris: [],
  });
  return [
    {
      clientId: GATEWAY.id,
      clientSecret: GATEWAY.secret,
      kind: 'gateway',
      grantTypes: ['authorization_code', 'refresh_token', 'client_credentials'],
      responseTypes: ['code'],
      redirectUris: [callback],
    },
    machine(APPROVED),
    machine(PENDING),
  ];
}
