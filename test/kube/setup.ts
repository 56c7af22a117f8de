/** Objects several kube-real files need: the CRDs, and the controller's ServiceAccount with the shipped RBAC. */
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { REPO_ROOT } from '../support/proxy-process.js';
import { shared, type Identity, type KubeClient } from './harness.js';

export const CONTROLLER_NAMESPACE = 'portcullis';
export const CONTROLLER_SERVICE_ACCOUNT = 'portcullis-controller';

/**
 * A real API server refuses loopback addresses in EndpointSlices, so test
 * upstreams listen on this host's first non-loopback IPv4 address.
 */
export const HOST_IP = Object.values(networkInterfaces())
  .flat()
  .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;

/** Installs every CRD in crds/ (idempotent: server-side apply) and waits until they are served. */
export function installCrds(client: KubeClient = shared): void {
  client.kubectlOk('admin', ['apply', '--server-side', '--force-conflicts', '-f', join(REPO_ROOT, 'crds')]);
  client.kubectlOk('admin', [
    'wait',
    '--for=condition=Established',
    '--timeout=60s',
    '-f',
    join(REPO_ROOT, 'crds'),
  ]);
}

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

/** The rules the chart ships, from the one file both use. */
export function shippedRules(): { cluster: Rule[]; namespace: Rule[] } {
  return parse(readFileSync(join(REPO_ROOT, 'charts/portcullis/files/rbac-rules.yaml'), 'utf8')) as {
    cluster: Rule[];
    namespace: Rule[];
  };
}

/** The controller's ServiceAccount, bound to exactly the shipped rules (idempotent). */
export function installControllerRbac(client: KubeClient = shared): void {
  const { cluster, namespace } = shippedRules();
  const subject = {
    kind: 'ServiceAccount',
    name: CONTROLLER_SERVICE_ACCOUNT,
    namespace: CONTROLLER_NAMESPACE,
  };
  const objects = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: CONTROLLER_NAMESPACE } },
    {
      apiVersion: 'v1',
      kind: 'ServiceAccount',
      metadata: { name: CONTROLLER_SERVICE_ACCOUNT, namespace: CONTROLLER_NAMESPACE },
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'portcullis-controller' },
      rules: cluster,
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'portcullis-controller' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'portcullis-controller' },
      subjects: [subject],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'portcullis-controller', namespace: CONTROLLER_NAMESPACE },
      rules: namespace,
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'portcullis-controller', namespace: CONTROLLER_NAMESPACE },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'portcullis-controller' },
      subjects: [subject],
    },
  ];
  client.kubectlOk(
    'admin',
    ['apply', '--server-side', '--force-conflicts', '-f', '-'],
    objects.map((o) => JSON.stringify(o)).join('\n---\n'),
  );
}

/** `kubectl auth can-i` as `identity`: a SelfSubjectAccessReview the server answers. */
export function canI(identity: Identity, ...args: string[]): boolean {
  const result = shared.kubectl(identity, ['auth', 'can-i', ...args]);
  if (result.status !== 0 && result.stdout.trim() !== 'no') throw new Error(`can-i failed: ${result.stderr}`);
  return result.stdout.trim() === 'yes';
}
