/**
 * The controller benchmark's synthetic cluster, as plain Kubernetes objects.
 *
 * Mirrors `syntheticCluster()` in test/fixtures/k8s.ts (test/ is not built
 * into dist/, so the bench cannot import it). Keep the two in step: the same
 * shapes and counts (10,000 Ingresses with one host and two paths each, 1,000
 * Services with two ready endpoints each, 1,000 Applications each approved
 * for one Service, per namespace an openid-connect KongPlugin with a
 * configPatch from a Secret and an application-registration KongPlugin).
 *
 * With `upstream` (the latency benchmark), every EndpointSlice points at that
 * local server and the Services carry no plugins, so a request answers 200
 * from the upstream instead of an OpenID Connect redirect.
 */

const meta = (namespace, name, extra = {}) => ({
  name,
  ...(namespace === undefined ? {} : { namespace }),
  ...extra,
});

/**
 * @param {{ ingresses?: number, services?: number, applications?: number, namespaces?: number,
 *           upstream?: { host: string, port: number } }} [size]
 * @returns {object[]}
 */
export function syntheticObjects(size = {}) {
  const { ingresses = 10_000, services = 1_000, applications = 1_000, namespaces = 100, upstream } = size;
  const ns = (i) => `team-${i % namespaces}`;
  const objects = [
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'IngressClass',
      metadata: meta(undefined, 'portcullis'),
      spec: { controller: 'portcullis.dev/ingress-controller' },
    },
  ];
  for (let n = 0; n < namespaces; n++) {
    objects.push(
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: meta(ns(n), 'oidc'),
        stringData: { secret: '"client-secret"' },
      },
      {
        apiVersion: 'configuration.konghq.com/v1',
        kind: 'KongPlugin',
        metadata: meta(ns(n), 'oidc'),
        plugin: 'openid-connect',
        config: { issuer: 'https://idp.example.com', client_id: ['gw'] },
        configPatches: [
          { path: '/client_secret', valueFrom: { secretKeyRef: { name: 'oidc', key: 'secret' } } },
        ],
      },
      {
        apiVersion: 'configuration.konghq.com/v1',
        kind: 'KongPlugin',
        metadata: meta(ns(n), 'apps'),
        plugin: 'application-registration',
        config: { display_name: `Team ${n}`, auto_approve: false },
      },
    );
  }
  for (let s = 0; s < services; s++) {
    const annotations = upstream
      ? { 'konghq.com/read-timeout': '30000' }
      : { 'konghq.com/plugins': 'oidc,apps', 'konghq.com/read-timeout': '30000' };
    objects.push(
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: meta(ns(s), `svc-${s}`, { annotations }),
        spec: { ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
      },
      {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: meta(ns(s), `svc-${s}-slice`, { labels: { 'kubernetes.io/service-name': `svc-${s}` } }),
        addressType: 'IPv4',
        ports: [{ name: 'http', port: upstream?.port ?? 8080, protocol: 'TCP' }],
        endpoints: (upstream
          ? [upstream.host]
          : [`10.${(s >> 8) & 255}.${s & 255}.1`, `10.${(s >> 8) & 255}.${s & 255}.2`]
        ).map((address) => ({ addresses: [address], conditions: { ready: true } })),
      },
    );
  }
  for (let i = 0; i < ingresses; i++)
    objects.push(syntheticIngress(i, ns(i % services), `svc-${i % services}`));
  for (let a = 0; a < applications; a++) {
    const s = a % services;
    const appNs = `apps-${a % namespaces}`;
    objects.push(
      {
        apiVersion: 'portcullis.dev/v1alpha1',
        kind: 'Application',
        metadata: meta(appNs, `app-${a}`),
        spec: {
          displayName: `app-${a}`,
          clientId: `client-${a}`,
          registrations: [{ service: { namespace: ns(s), name: `svc-${s}` } }],
        },
      },
      {
        apiVersion: 'portcullis.dev/v1alpha1',
        kind: 'ApplicationRegistration',
        metadata: meta(ns(s), `${appNs}.app-${a}.svc-${s}`),
        spec: { application: { namespace: appNs, name: `app-${a}` }, service: `svc-${s}`, state: 'Approved' },
      },
    );
  }
  return objects;
}

/** Ingress `ing-<i>`: host `app-<i>.example.com`, `/api` (Prefix) and `/health` (Exact), plus `extraPaths` (Prefix). */
export function syntheticIngress(i, namespace, serviceName, extraPaths = []) {
  const path = (p, pathType) => ({
    path: p,
    pathType,
    backend: { service: { name: serviceName, port: { number: 80 } } },
  });
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'Ingress',
    metadata: meta(namespace, `ing-${i}`, { annotations: { 'konghq.com/strip-path': 'true' } }),
    spec: {
      ingressClassName: 'portcullis',
      rules: [
        {
          host: `app-${i}.example.com`,
          http: {
            paths: [
              path('/api', 'Prefix'),
              path('/health', 'Exact'),
              ...extraPaths.map((p) => path(p, 'Prefix')),
            ],
          },
        },
      ],
    },
  };
}
