/**
 * The Helm chart (charts/portcullis) checked with the real Helm and the real
 * kube-apiserver: lint, render with the default values and with every optional
 * feature on, the schema refusing bad values, the rendered objects applied
 * server-side, the ServiceAccount's permissions measured with
 * SubjectAccessReviews against files/rbac-rules.yaml, and `helm install` then
 * `helm upgrade` keeping the generated Secret. Pods never run on this server:
 * this checks objects and RBAC, not runtime.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/proxy-process.js';
import { HARNESS_DIR } from './apiserver-process.js';
import { kube, kubectl, kubectlOk, skip } from './harness.js';
import { installCrds, shippedRules } from './setup.js';

const HELM = join(HARNESS_DIR, 'bin/helm');
const CHART = join(REPO_ROOT, 'charts/portcullis');
const ALL_FEATURES = join(CHART, 'ci/all-features-values.yaml');
const helmSkip = skip || !existsSync(HELM);
if (!skip && helmSkip)
  console.warn(
    `helm.test.ts skipped: no ${HELM}; run test/kube/install-helm.sh (needs Go and the module proxy)`,
  );

// Helm's own caches and settings stay out of the user's home.
const helmHome = mkdtempSync(join(tmpdir(), 'portcullis-helm-'));
afterAll(() => rmSync(helmHome, { recursive: true, force: true }));

interface HelmResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

function helm(args: string[]): HelmResult {
  const result = spawnSync(HELM, args, {
    encoding: 'utf8',
    timeout: 120_000,
    env: {
      ...process.env,
      KUBECONFIG: kube.kubeconfigs?.admin,
      HELM_CACHE_HOME: join(helmHome, 'cache'),
      HELM_CONFIG_HOME: join(helmHome, 'config'),
      HELM_DATA_HOME: join(helmHome, 'data'),
    },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function helmOk(args: string[]): string {
  const result = helm(args);
  if (result.status !== 0)
    throw new Error(`helm ${args.join(' ')} failed:\n${result.stderr}${result.stdout}`);
  return result.stdout;
}

/* eslint-disable @typescript-eslint/no-explicit-any -- rendered Kubernetes objects, read field by field */
type Obj = Record<string, any>;

function parseManifests(text: string): Obj[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as Obj | null)
    .filter((o): o is Obj => o !== null);
}

function render(release: string, namespace: string, ...args: string[]): Obj[] {
  return parseManifests(helmOk(['template', release, CHART, '--namespace', namespace, ...args]));
}

const one = (objects: Obj[], kind: string, name?: string): Obj => {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  expect(found, `${kind} ${name ?? ''}`).toHaveLength(1);
  return found[0]!;
};
const container = (deployment: Obj, name: string): Obj =>
  deployment.spec.template.spec.containers.find((c: Obj) => c.name === name);
const flag = (c: Obj, name: string): string | undefined =>
  (c.args as string[]).find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);

function applyServerSide(objects: Obj[]): void {
  kubectlOk(
    'admin',
    ['apply', '--server-side', '--field-manager=helm-test', '-f', '-'],
    objects.map((o) => JSON.stringify(o)).join('\n---\n'),
  );
}

function deleteObjects(objects: Obj[]): void {
  kubectl(
    'admin',
    ['delete', '--ignore-not-found', '--wait=false', '-f', '-'],
    objects.map((o) => JSON.stringify(o)).join('\n---\n'),
  );
}

/** A minimal ServiceMonitor CRD (no Prometheus Operator here), with the fields the chart writes. */
const SERVICE_MONITOR_CRD = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: 'servicemonitors.monitoring.coreos.com' },
  spec: {
    group: 'monitoring.coreos.com',
    scope: 'Namespaced',
    names: {
      kind: 'ServiceMonitor',
      plural: 'servicemonitors',
      singular: 'servicemonitor',
      listKind: 'ServiceMonitorList',
    },
    versions: [
      {
        name: 'v1',
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: {
            type: 'object',
            properties: {
              spec: {
                type: 'object',
                properties: {
                  selector: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
                  namespaceSelector: {
                    type: 'object',
                    properties: { matchNames: { type: 'array', items: { type: 'string' } } },
                  },
                  endpoints: {
                    type: 'array',
                    items: {
                      type: 'object',
                      properties: {
                        port: { type: 'string' },
                        path: { type: 'string' },
                        interval: { type: 'string' },
                        scrapeTimeout: { type: 'string' },
                      },
                    },
                  },
                },
              },
            },
          },
        },
      },
    ],
  },
};

interface Check {
  namespace?: string;
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
}

const describeCheck = (c: Check) =>
  `${c.verb} ${c.resource}${c.subresource ? `/${c.subresource}` : ''}.${c.group || 'core'} in ${c.namespace ?? 'all namespaces'}`;

/** Asks the server, in one request per batch, what the ServiceAccount may do (as `kubectl auth can-i --as` would). */
function allowed(namespace: string, serviceAccount: string, checks: Check[]): boolean[] {
  const reviews = checks.map((c) => ({
    apiVersion: 'authorization.k8s.io/v1',
    kind: 'SubjectAccessReview',
    spec: {
      user: `system:serviceaccount:${namespace}:${serviceAccount}`,
      groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'],
      resourceAttributes: {
        namespace: c.namespace ?? '',
        verb: c.verb,
        group: c.group,
        resource: c.resource,
        subresource: c.subresource ?? '',
      },
    },
  }));
  // One line per review, in order (kubectl prints each created object on its own).
  const out = kubectlOk(
    'admin',
    ['create', '-o', 'jsonpath={.status.allowed}{"\\n"}', '-f', '-'],
    JSON.stringify({ apiVersion: 'v1', kind: 'List', items: reviews }),
  );
  const answers = out.trim().split('\n');
  expect(answers).toHaveLength(checks.length);
  return answers.map((a) => a === 'true');
}

const VERBS = ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete', 'deletecollection'];

/** Every verb on every resource of `rules`: granted exactly when a rule lists it. */
function expectedChecks(
  rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[],
  namespace: string | undefined,
): { check: Check; granted: boolean }[] {
  const result: { check: Check; granted: boolean }[] = [];
  const seen = new Set<string>();
  for (const rule of rules)
    for (const group of rule.apiGroups)
      for (const full of rule.resources) {
        if (seen.has(`${group}/${full}`)) continue;
        seen.add(`${group}/${full}`);
        const [resource, subresource] = full.split('/') as [string, string | undefined];
        for (const verb of VERBS) {
          const granted = rules.some(
            (r) => r.apiGroups.includes(group) && r.resources.includes(full) && r.verbs.includes(verb),
          );
          result.push({ check: { namespace, verb, group, resource, subresource }, granted });
        }
      }
  return result;
}

function expectPermissions(
  namespace: string,
  serviceAccount: string,
  expected: { check: Check; granted: boolean }[],
) {
  const answers = allowed(
    namespace,
    serviceAccount,
    expected.map((e) => e.check),
  );
  const wrong = expected
    .map((e, i) => ({ ...e, answer: answers[i] }))
    .filter((e) => e.answer !== e.granted)
    .map((e) => `${e.granted ? 'denied' : 'allowed'}: ${describeCheck(e.check)}`);
  expect(wrong).toEqual([]);
}

const CLUSTER_SCOPED = new Set(['ingressclasses', 'kongclusterplugins']);

describe.skipIf(helmSkip)('the Helm chart, rendered', () => {
  it('passes helm lint with the default values and with every feature on', () => {
    helmOk(['lint', '--strict', CHART]);
    helmOk(['lint', '--strict', CHART, '--namespace', 'helm-all', '-f', ALL_FEATURES]);
  });

  it('renders the default objects: two containers of one image, wired to each other', () => {
    const objects = render('pc', 'portcullis');
    expect(objects.map((o) => o.kind).sort()).toEqual([
      'ClusterRole',
      'ClusterRoleBinding',
      'Deployment',
      'IngressClass',
      'Role',
      'RoleBinding',
      'Secret',
      'Service',
      'ServiceAccount',
    ]);
    const deployment = one(objects, 'Deployment');
    const pod = deployment.spec.template.spec;
    const controller = container(deployment, 'controller');
    const proxy = container(deployment, 'proxy');
    expect(pod.containers).toHaveLength(2);
    expect(controller.image).toBe(proxy.image);
    expect(controller.args[0]).toBe('controller');
    expect(proxy.args[0]).toBe('proxy');

    // The controller pushes to its proxy on loopback, with the proxy's token file.
    expect(flag(proxy, 'admin-address')).toBe('127.0.0.1');
    expect(flag(controller, 'proxy-admin-url')).toBe(`http://127.0.0.1:${flag(proxy, 'admin-port')}`);
    const tokenFile = flag(proxy, 'admin-token-file')!;
    expect(flag(controller, 'admin-token-file')).toBe(tokenFile);
    const secret = one(objects, 'Secret');
    const tokenVolume = pod.volumes.find((v: Obj) => v.secret?.secretName === secret.metadata.name);
    for (const c of [controller, proxy]) {
      const mount = c.volumeMounts.find((m: Obj) => m.name === tokenVolume.name);
      expect(tokenFile.startsWith(`${mount.mountPath}/`)).toBe(true);
      expect(tokenVolume.secret.items).toContainEqual({
        key: 'admin-token',
        path: tokenFile.slice(mount.mountPath.length + 1),
      });
    }
    const session = proxy.env.find((e: Obj) => e.name === 'PORTCULLIS_SESSION_SECRET');
    expect(session.valueFrom.secretKeyRef.name).toBe(secret.metadata.name);
    expect(Object.keys(secret.data)).toContain(session.valueFrom.secretKeyRef.key);
    expect(Buffer.from(secret.data['admin-token'], 'base64').length).toBeGreaterThanOrEqual(32);

    // Leader election: identity and namespace from the downward API; the Lease Role in the release namespace.
    expect(controller.args).not.toContain('--no-leader-election');
    expect(controller.env.map((e: Obj) => [e.name, e.valueFrom?.fieldRef?.fieldPath])).toEqual(
      expect.arrayContaining([
        ['POD_NAME', 'metadata.name'],
        ['POD_NAMESPACE', 'metadata.namespace'],
      ]),
    );

    // Non-root, read-only root file system, the state dir on an emptyDir.
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    const stateDir = flag(proxy, 'state-dir')!;
    const stateMount = proxy.volumeMounts.find((m: Obj) => m.mountPath === stateDir);
    expect(pod.volumes.find((v: Obj) => v.name === stateMount.name).emptyDir).toBeDefined();
    for (const c of [controller, proxy]) {
      expect(c.securityContext).toMatchObject({
        readOnlyRootFilesystem: true,
        allowPrivilegeEscalation: false,
        capabilities: { drop: ['ALL'] },
      });
      // Probes on the container's own status port.
      const ports = new Map<string, number>(c.ports.map((p: Obj) => [p.name, p.containerPort]));
      for (const [probe, path] of [
        ['livenessProbe', '/healthz'],
        ['readinessProbe', '/readyz'],
      ] as const) {
        expect(c[probe].httpGet.path).toBe(path);
        expect(ports.get(c[probe].httpGet.port)).toBe(
          Number(flag(c, c === proxy ? 'status-port' : 'controller-status-port')),
        );
      }
    }

    // The Service reaches the proxy's traffic ports, and is the one published in Ingress status.
    const service = one(objects, 'Service');
    expect(service.spec.type).toBe('LoadBalancer');
    expect(service.spec.selector).toEqual(deployment.spec.selector.matchLabels);
    const proxyPorts = proxy.ports.map((p: Obj) => p.name);
    for (const port of service.spec.ports) expect(proxyPorts).toContain(port.targetPort);
    expect(flag(controller, 'publish-service')).toBe(`portcullis/${service.metadata.name}`);
    expect(flag(proxy, 'https-redirect-port')).toBe(
      String(service.spec.ports.find((p: Obj) => p.name === 'https').port),
    );

    // RBAC is exactly files/rbac-rules.yaml.
    const rules = shippedRules();
    expect(one(objects, 'ClusterRole').rules).toEqual(rules.cluster);
    expect(one(objects, 'Role').rules).toEqual(rules.namespace);
    expect(one(objects, 'IngressClass').metadata.annotations).toBeUndefined();
    expect(flag(controller, 'ingress-class')).toBe(one(objects, 'IngressClass').metadata.name);
  });

  it('renders every optional feature', () => {
    const objects = render('all', 'helm-all', '-f', ALL_FEATURES);
    const kinds = new Set(objects.map((o) => o.kind));
    for (const kind of ['PodDisruptionBudget', 'HorizontalPodAutoscaler', 'ServiceMonitor'])
      expect(kinds).toContain(kind);
    // The Secret comes from outside.
    expect(kinds).not.toContain('Secret');
    const deployment = one(objects, 'Deployment');
    const pod = deployment.spec.template.spec;
    // The autoscaler owns the replica count.
    expect(deployment.spec.replicas).toBeUndefined();
    expect(one(objects, 'HorizontalPodAutoscaler').spec.scaleTargetRef.name).toBe(deployment.metadata.name);
    expect(pod.priorityClassName).toBe('portcullis-all-critical');
    expect(pod.volumes.find((v: Obj) => v.name === 'admin-token').secret).toMatchObject({
      secretName: 'portcullis-all-keys',
      items: [{ key: 'token', path: 'admin-token' }],
    });
    // A spread constraint without labelSelector gets the pods' own; one with it keeps it.
    expect(pod.topologySpreadConstraints[0].labelSelector.matchLabels).toEqual(
      deployment.spec.selector.matchLabels,
    );
    expect(pod.topologySpreadConstraints[1].labelSelector.matchLabels).toEqual({
      'example.com/tier': 'edge',
    });
    const controller = container(deployment, 'controller');
    expect(flag(controller, 'watch-namespaces')).toBe('helm-all,helm-team-a,helm-team-b');
    expect(controller.args).toContain('--manifest-max-files');

    // Watched namespaces: one RoleBinding each, and only the cluster-scoped kinds bound cluster-wide.
    const bindings = objects.filter((o) => o.kind === 'RoleBinding' && o.roleRef.kind === 'ClusterRole');
    expect(bindings.map((b) => b.metadata.namespace).sort()).toEqual([
      'helm-all',
      'helm-team-a',
      'helm-team-b',
    ]);
    const clusterBinding = one(objects, 'ClusterRoleBinding');
    const scoped = one(objects, 'ClusterRole', clusterBinding.roleRef.name);
    expect(scoped.rules.flatMap((r: Obj) => r.resources).sort()).toEqual([...CLUSTER_SCOPED].sort());

    const ingressClass = one(objects, 'IngressClass');
    expect(ingressClass.metadata.annotations['ingressclass.kubernetes.io/is-default-class']).toBe('true');
    const service = one(objects, 'Service', 'portcullis-all-proxy');
    expect(service.spec).toMatchObject({
      externalTrafficPolicy: 'Local',
      loadBalancerClass: 'example.com/lb',
    });
    expect(service.metadata.annotations).toEqual({
      'service.beta.kubernetes.io/aws-load-balancer-type': 'nlb',
    });
  });

  it.each([
    ['an unknown key', ['--set', 'replicas=2'], /additional propert.*replicas/],
    [
      'an unknown nested key',
      ['--set', 'proxy.adminAddress=0.0.0.0'],
      /\/proxy.*additional propert.*adminAddress/,
    ],
    ['a wrong type', ['--set-string', 'replicaCount=two'], /\/replicaCount.*want integer/],
    ['a value out of its set', ['--set', 'service.type=External'], /\/service\/type/],
    ['a port out of range', ['--set', 'proxy.httpPort=70000'], /\/proxy\/httpPort/],
  ])('refuses %s', (_, args, message) => {
    const result = helm(['template', 'bad', CHART, ...args]);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(message);
  });

  it.each([
    [
      'several replicas without leader election',
      ['--set', 'replicaCount=2', '--set', 'controller.leaderElection=false'],
      /controller.leaderElection must be true/,
    ],
    [
      'a published Service outside the watched namespaces',
      ['--set', 'watchNamespaces={team-a}'],
      /add the release namespace "portcullis" to watchNamespaces/,
    ],
    [
      'a drain longer than the grace period',
      ['--set', 'proxy.drainTimeout=40000'],
      /terminationGracePeriodSeconds must be longer/,
    ],
  ])('refuses %s with one clear message', (_, args, message) => {
    const result = helm(['template', 'bad', CHART, '--namespace', 'portcullis', ...args]);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(message);
  });
});

describe.skipIf(helmSkip)('the Helm chart on a real kube-apiserver', () => {
  const applied: Obj[][] = [];
  const namespaces = [
    'helm-defaults',
    'helm-all',
    'helm-team-a',
    'helm-team-b',
    'helm-ns-only',
    'helm-unwatched',
  ];

  beforeAll(() => {
    installCrds();
    applyServerSide([
      ...namespaces.map((name) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } })),
      SERVICE_MONITOR_CRD,
    ]);
    kubectlOk('admin', [
      'wait',
      '--for=condition=Established',
      '--timeout=60s',
      'crd/servicemonitors.monitoring.coreos.com',
    ]);
  });

  afterAll(() => {
    if (helmSkip) return;
    // The cluster-scoped objects too (a default IngressClass would change other files' Ingresses).
    for (const objects of applied) deleteObjects(objects);
    kubectl('admin', ['delete', 'namespace', '--wait=false', ...namespaces]);
  });

  it('accepts the default objects, and the ServiceAccount may do exactly what rbac-rules.yaml says', () => {
    const objects = render('helm-defaults', 'helm-defaults', '--set', 'ingressClass.name=helm-defaults');
    applied.push(objects);
    applyServerSide(objects);
    const sa = one(objects, 'ServiceAccount').metadata.name as string;
    const rules = shippedRules();
    expectPermissions('helm-defaults', sa, [
      // Namespaced kinds in any namespace, and across all of them.
      ...expectedChecks(rules.cluster, 'helm-unwatched'),
      ...expectedChecks(rules.cluster, undefined),
      ...expectedChecks(rules.namespace, 'helm-defaults'),
      // Leases nowhere else.
      ...expectedChecks(rules.namespace, 'helm-unwatched').map((e) => ({ ...e, granted: false })),
      ...[
        ['list', '', 'secrets'],
        ['list', '', 'pods'],
        ['get', '', 'configmaps'],
        ['create', 'rbac.authorization.k8s.io', 'rolebindings'],
      ].map(([verb, group, resource]) => ({
        check: { verb: verb!, group: group!, resource: resource! },
        granted: false,
      })),
    ]);
  });

  it('accepts every optional feature, and watchNamespaces confines the namespaced permissions', () => {
    const objects = render('all', 'helm-all', '-f', ALL_FEATURES);
    applied.push(objects);
    applyServerSide(objects);
    const rules = shippedRules();
    const namespaced = rules.cluster
      .map((r) => ({ ...r, resources: r.resources.filter((x) => !CLUSTER_SCOPED.has(x.split('/')[0]!)) }))
      .filter((r) => r.resources.length > 0);
    const clusterScoped = rules.cluster
      .map((r) => ({ ...r, resources: r.resources.filter((x) => CLUSTER_SCOPED.has(x)) }))
      .filter((r) => r.resources.length > 0);
    expectPermissions('helm-all', 'portcullis-all-sa', [
      ...expectedChecks(namespaced, 'helm-team-a'),
      ...expectedChecks(namespaced, 'helm-team-b'),
      ...expectedChecks(namespaced, 'helm-all'),
      ...expectedChecks(namespaced, 'helm-unwatched').map((e) => ({ ...e, granted: false })),
      ...expectedChecks(namespaced, undefined).map((e) => ({ ...e, granted: false })),
      ...expectedChecks(clusterScoped, undefined),
      ...expectedChecks(rules.namespace, 'helm-all'),
    ]);
  });

  it('gives a release outside its watched namespaces leases and Events at home, nothing more', () => {
    const objects = render(
      'helm-ns-only',
      'helm-ns-only',
      '--set',
      'ingressClass.name=helm-ns-only',
      '--set',
      'watchNamespaces={helm-team-a}',
      '--set',
      'controller.publishService=false',
    );
    applied.push(objects);
    applyServerSide(objects);
    const sa = one(objects, 'ServiceAccount').metadata.name as string;
    const rules = shippedRules();
    expectPermissions('helm-ns-only', sa, [
      ...expectedChecks(rules.namespace, 'helm-ns-only'),
      { check: { namespace: 'helm-ns-only', verb: 'create', group: '', resource: 'events' }, granted: true },
      { check: { namespace: 'helm-ns-only', verb: 'get', group: '', resource: 'services' }, granted: false },
      { check: { namespace: 'helm-ns-only', verb: 'get', group: '', resource: 'secrets' }, granted: false },
      { check: { namespace: 'helm-team-a', verb: 'watch', group: '', resource: 'services' }, granted: true },
      { check: { namespace: 'helm-team-b', verb: 'watch', group: '', resource: 'services' }, granted: false },
    ]);
  });
});

describe.skipIf(helmSkip)('helm install and helm upgrade', () => {
  const releases = ['helm-keep', 'helm-crds'];

  beforeAll(() => installCrds());
  afterAll(() => {
    if (helmSkip) return;
    for (const release of releases) helm(['uninstall', release, '--namespace', release]);
    kubectl('admin', ['delete', 'namespace', '--wait=false', ...releases]);
  });

  const secretData = (release: string) =>
    (
      JSON.parse(
        kubectlOk('admin', ['get', 'secret', `${release}-portcullis`, '-n', release, '-o', 'json']),
      ) as Obj
    ).data as Record<string, string>;
  const crds = () =>
    (
      JSON.parse(kubectlOk('admin', ['get', 'crd', '--show-managed-fields', '-o', 'json'])) as Obj
    ).items.filter(
      (c: Obj) => c.spec.group === 'portcullis.dev' || c.spec.group === 'configuration.konghq.com',
    ) as Obj[];
  const crdVersions = () => crds().map((c) => [c.metadata.name, c.metadata.resourceVersion]);
  const settings = (release: string) => ['--namespace', release, '--set', `ingressClass.name=${release}`];

  it('keeps the generated admin token and session key across upgrades; --skip-crds leaves the CRDs as they are', () => {
    const release = 'helm-keep';
    const crdsBefore = crdVersions();
    helmOk(['install', release, CHART, '--create-namespace', '--skip-crds', ...settings(release)]);
    const generated = secretData(release);
    expect(Object.keys(generated).sort()).toEqual(['admin-token', 'session-key']);
    expect(generated['admin-token']).not.toBe(generated['session-key']);

    helmOk(['upgrade', release, CHART, ...settings(release), '--set', 'replicaCount=2']);
    const deployment = JSON.parse(
      kubectlOk('admin', ['get', 'deployment', `${release}-portcullis`, '-n', release, '-o', 'json']),
    ) as Obj;
    expect(deployment.spec.replicas).toBe(2);
    expect(secretData(release)).toEqual(generated);
    expect(crdVersions()).toEqual(crdsBefore);

    // Uninstalling removes the generated Secret and keeps the CRDs.
    helmOk(['uninstall', release, '--namespace', release]);
    expect(kubectl('admin', ['get', 'secret', `${release}-portcullis`, '-n', release]).status).not.toBe(0);
    expect(crdVersions()).toEqual(crdsBefore);
  });

  it('without --skip-crds, Helm 4 applies crds/ server-side even over CRDs already there (docs/helm.md)', () => {
    const release = 'helm-crds';
    helmOk(['install', release, CHART, '--create-namespace', ...settings(release)]);
    for (const crd of crds())
      expect(
        (crd.metadata.managedFields as Obj[]).map((f) => f.manager),
        crd.metadata.name,
      ).toContain('helm');
    helmOk(['uninstall', release, '--namespace', release]);
    expect(crds()).toHaveLength(4);
  });
});
