/** Standalone manifests the `portcullis run` / `controller --manifests` tests write: class, backend, Ingress. */

export const INGRESS_CLASS = `apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: { name: portcullis }
spec: { controller: portcullis.dev/ingress-controller }
`;

/** Service `echo` in `namespace` with one loopback endpoint at `upstreamPort`. */
export const echoBackend = (upstreamPort: number, namespace = 'demo') => `apiVersion: v1
kind: Service
metadata: { name: echo, namespace: ${namespace} }
spec:
  ports: [{ name: http, port: 80, targetPort: ${upstreamPort} }]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: echo-local
  namespace: ${namespace}
  labels: { kubernetes.io/service-name: echo }
addressType: IPv4
ports: [{ name: http, port: ${upstreamPort} }]
endpoints: [{ addresses: [127.0.0.1], conditions: { ready: true } }]
`;

/** An Ingress of class portcullis sending `path` (Prefix) to Service `echo`. */
export const echoIngress = (
  name: string,
  path: string,
  namespace = 'demo',
) => `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: ${name}, namespace: ${namespace} }
spec:
  ingressClassName: portcullis
  rules:
    - http:
        paths:
          - { path: ${path}, pathType: Prefix, backend: { service: { name: echo, port: { number: 80 } } } }
`;
