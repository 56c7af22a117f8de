/**
 * The demo's ports: fixed, so the commands it prints (and docs/demo.md) can be
 * pasted as they are, and each changeable by the flag named here. Everything
 * listens on 127.0.0.1 only.
 */

export interface DemoPorts {
  /** The proxy's HTTP traffic port: every printed curl goes here. */
  http: number;
  https: number;
  /** The proxy's admin API (config pushes from the controller). */
  admin: number;
  /** The proxy's status port (/healthz, /readyz, /metrics). */
  status: number;
  /** The controller's status port: /readyz and the portal view. */
  controller: number;
  /** The Okta-shaped test identity provider. */
  idp: number;
  /** The echo upstream behind the payments Service. */
  upstream: number;
}

export const DEFAULT_DEMO_PORTS: Readonly<DemoPorts> = {
  http: 8000,
  https: 8443,
  admin: 8001,
  status: 8100,
  controller: 8101,
  idp: 8900,
  upstream: 8901,
};

export const DEMO_PORT_FLAGS: Readonly<Record<keyof DemoPorts, string>> = {
  http: '--http-port',
  https: '--https-port',
  admin: '--admin-port',
  status: '--status-port',
  controller: '--controller-status-port',
  idp: '--idp-port',
  upstream: '--upstream-port',
};

/** The only address the demo binds. */
export const DEMO_ADDRESS = '127.0.0.1';

/** The issuer of the demo IdP (Okta's path for the default authorization server). */
export const demoIssuer = (ports: Pick<DemoPorts, 'idp'>): string =>
  `http://${DEMO_ADDRESS}:${ports.idp}/oauth2/default`;

/** The proxy's origin, as the printed commands use it. */
export const proxyOrigin = (ports: Pick<DemoPorts, 'http'>): string => `http://${DEMO_ADDRESS}:${ports.http}`;

/** The browser login's callback, registered at the IdP and named by the KongPlugin's redirect_uri. */
export const demoCallback = (ports: Pick<DemoPorts, 'http'>): string =>
  `${proxyOrigin(ports)}/payments/callback`;

/** Two flags naming one port would make one of the servers fail to start: say which. */
export function duplicatePorts(ports: DemoPorts): string | undefined {
  const seen = new Map<number, keyof DemoPorts>();
  for (const key of Object.keys(DEMO_PORT_FLAGS) as (keyof DemoPorts)[]) {
    const other = seen.get(ports[key]);
    if (other) return `${DEMO_PORT_FLAGS[other]} and ${DEMO_PORT_FLAGS[key]} are both ${ports[key]}`;
    seen.set(ports[key], key);
  }
  return undefined;
}
