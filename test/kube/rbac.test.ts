/**
 * Least privilege, measured: the controller's ServiceAccount bound to exactly
 * the rules the chart ships (charts/portcullis/files/rbac-rules.yaml), asked
 * of the real server with SelfSubjectAccessReviews (`kubectl auth can-i`).
 * And the separation application registration rests on: an app team cannot
 * approve its own access; the service team can.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { kubectl, kubectlOk, skip } from './harness.js';
import { canI, CONTROLLER_NAMESPACE, installControllerRbac, installCrds } from './setup.js';

describe.skipIf(skip)('the controller’s RBAC', () => {
  beforeAll(() => {
    installCrds();
    installControllerRbac();
  });

  it.each([
    ['list', 'ingresses.networking.k8s.io', '-A'],
    ['watch', 'ingresses.networking.k8s.io', '-A'],
    ['list', 'ingressclasses.networking.k8s.io'],
    ['watch', 'services', '-A'],
    ['watch', 'endpointslices.discovery.k8s.io', '-A'],
    ['watch', 'kongplugins.configuration.konghq.com', '-A'],
    ['watch', 'kongclusterplugins.configuration.konghq.com'],
    ['watch', 'applications.portcullis.dev', '-A'],
    ['watch', 'applicationregistrations.portcullis.dev', '-A'],
    ['get', 'secrets', '-n', 'payments'],
    ['patch', 'ingresses.networking.k8s.io', '--subresource=status', '-n', 'payments'],
    ['patch', 'applications.portcullis.dev', '--subresource=status', '-n', 'billing'],
    ['patch', 'applicationregistrations.portcullis.dev', '--subresource=status', '-n', 'payments'],
    ['patch', 'kongplugins.configuration.konghq.com', '--subresource=status', '-n', 'payments'],
    ['patch', 'kongclusterplugins.configuration.konghq.com', '--subresource=status'],
    ['create', 'applicationregistrations.portcullis.dev', '-n', 'payments'],
    ['create', 'events', '-n', 'payments'],
    ['get', 'leases.coordination.k8s.io', '-n', CONTROLLER_NAMESPACE],
    ['create', 'leases.coordination.k8s.io', '-n', CONTROLLER_NAMESPACE],
    ['update', 'leases.coordination.k8s.io', '-n', CONTROLLER_NAMESPACE],
  ])('can %s %s %s', (...args) => {
    expect(canI('controller', ...args)).toBe(true);
  });

  it.each([
    // Secrets: never enumerated, never written.
    ['list', 'secrets', '-A'],
    ['watch', 'secrets', '-A'],
    ['list', 'secrets', '-n', 'payments'],
    ['create', 'secrets', '-n', 'payments'],
    ['update', 'secrets', '-n', 'payments'],
    ['patch', 'secrets', '-n', 'payments'],
    ['delete', 'secrets', '-n', 'payments'],
    // Specs are the users': only status is written.
    ['update', 'ingresses.networking.k8s.io', '-n', 'payments'],
    ['patch', 'ingresses.networking.k8s.io', '-n', 'payments'],
    ['patch', 'applications.portcullis.dev', '-n', 'billing'],
    ['update', 'applicationregistrations.portcullis.dev', '-n', 'payments'],
    ['patch', 'applicationregistrations.portcullis.dev', '-n', 'payments'],
    ['patch', 'kongplugins.configuration.konghq.com', '-n', 'payments'],
    ['update', 'kongplugins.configuration.konghq.com', '-n', 'payments'],
    ['patch', 'kongclusterplugins.configuration.konghq.com'],
    // Status is written by apply patches only.
    ['update', 'kongplugins.configuration.konghq.com', '--subresource=status', '-n', 'payments'],
    ['update', 'services', '-n', 'payments'],
    // Deletes nothing, not even what it created.
    ['delete', 'applicationregistrations.portcullis.dev', '-n', 'payments'],
    ['delete', 'events', '-n', 'payments'],
    ['delete', 'leases.coordination.k8s.io', '-n', CONTROLLER_NAMESPACE],
    ['delete', 'ingresses.networking.k8s.io', '-n', 'payments'],
    // Leases only in its own namespace.
    ['update', 'leases.coordination.k8s.io', '-n', 'kube-system'],
    // Nothing else.
    ['list', 'pods', '-A'],
    ['list', 'configmaps', '-A'],
    ['create', 'clusterrolebindings.rbac.authorization.k8s.io'],
    ['escalate', 'clusterroles.rbac.authorization.k8s.io'],
    ['impersonate', 'serviceaccounts', '-A'],
  ])('cannot %s %s %s', (...args) => {
    expect(canI('controller', ...args)).toBe(false);
  });
});

/** What docs/application-registration.md recommends each team be given. */
const TEAM_ROLES = `apiVersion: v1
kind: Namespace
metadata: { name: billing }
---
apiVersion: v1
kind: Namespace
metadata: { name: payments }
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: { name: application-owner, namespace: billing }
rules:
  - apiGroups: [portcullis.dev]
    resources: [applications]
    verbs: [get, list, watch, create, update, patch, delete]
  - apiGroups: [portcullis.dev]
    resources: [applicationregistrations]
    verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: app-team, namespace: billing }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: Role, name: application-owner }
subjects: [{ apiGroup: rbac.authorization.k8s.io, kind: Group, name: app-team }]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: { name: registration-approver, namespace: payments }
rules:
  - apiGroups: [portcullis.dev]
    resources: [applicationregistrations]
    verbs: [get, list, watch, create, update, patch, delete]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: { name: service-team, namespace: payments }
roleRef: { apiGroup: rbac.authorization.k8s.io, kind: Role, name: registration-approver }
subjects: [{ apiGroup: rbac.authorization.k8s.io, kind: Group, name: service-team }]
`;

const registration = (state: string) => `apiVersion: portcullis.dev/v1alpha1
kind: ApplicationRegistration
metadata: { name: billing.billing.payments, namespace: payments }
spec:
  application: { namespace: billing, name: billing }
  service: payments
  state: ${state}
`;

describe.skipIf(skip)('an Application cannot approve itself', () => {
  beforeAll(() => {
    installCrds();
    kubectlOk('admin', ['apply', '--server-side', '-f', '-'], TEAM_ROLES);
  });

  it('the app team writes its Application, and is forbidden to write the registration in the service’s namespace', () => {
    kubectlOk(
      'app-team',
      ['apply', '--server-side', '-f', '-'],
      `apiVersion: portcullis.dev/v1alpha1
kind: Application
metadata: { name: billing, namespace: billing }
spec: { clientId: billing-client, registrations: [{ service: { namespace: payments, name: payments } }] }
`,
    );
    const approve = kubectl('app-team', ['apply', '--server-side', '-f', '-'], registration('Approved'));
    expect(approve.status).not.toBe(0);
    expect(approve.stderr).toMatch(/forbidden/i);
    // Nor in its own namespace: a registration there decides nothing (the plugin reads the service's namespace).
    expect(canI('app-team', 'create', 'applicationregistrations.portcullis.dev', '-n', 'billing')).toBe(
      false,
    );
  });

  it('the service team approves it, and can revoke it', () => {
    kubectlOk('service-team', ['apply', '--server-side', '-f', '-'], registration('Approved'));
    kubectlOk('service-team', ['apply', '--server-side', '-f', '-'], registration('Revoked'));
    expect(
      kubectlOk('admin', [
        'get',
        'applicationregistration',
        'billing.billing.payments',
        '-n',
        'payments',
        '-o',
        'jsonpath={.spec.state}',
      ]),
    ).toBe('Revoked');
    // And cannot write the app team's Application.
    expect(canI('service-team', 'update', 'applications.portcullis.dev', '-n', 'billing')).toBe(false);
  });
});
