/**
 * The CRDs against a real kube-apiserver: they install (server-side apply),
 * are structural, take status only through the status subresource, and
 * print the columns the docs list.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/proxy-process.js';
import { kubectlOk, skip } from './harness.js';
import { installCrds } from './setup.js';

const CRD_FILES = readdirSync(join(REPO_ROOT, 'crds')).filter((f) => f.endsWith('.yaml'));

describe.skipIf(skip)('CRDs on a real kube-apiserver', () => {
  beforeAll(() => installCrds());

  it.each(CRD_FILES)('%s: established, names accepted, structural', (file) => {
    const name = kubectlOk('admin', [
      'create',
      '--dry-run=client',
      '-f',
      join(REPO_ROOT, 'crds', file),
      '-o',
      'jsonpath={.metadata.name}',
    ]);
    const crd = JSON.parse(kubectlOk('admin', ['get', 'crd', name, '-o', 'json'])) as {
      status: { conditions: { type: string; status: string }[] };
    };
    const condition = (type: string) => crd.status.conditions.find((c) => c.type === type)?.status;
    expect(condition('Established')).toBe('True');
    expect(condition('NamesAccepted')).toBe('True');
    expect(condition('NonStructuralSchema')).toBeUndefined();
  });

  it('status is written only through the status subresource', () => {
    kubectlOk('admin', ['create', 'namespace', 'crd-status']);
    kubectlOk(
      'admin',
      ['apply', '--server-side', '-f', '-'],
      `apiVersion: portcullis.dev/v1alpha1
kind: Application
metadata: { name: billing, namespace: crd-status }
spec: { clientId: crd-status-billing, registrations: [{ service: { namespace: payments, name: payments } }] }
`,
    );
    const status = {
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          reason: 'Accepted',
          message: 'ok',
          lastTransitionTime: '2026-12-03T00:00:00Z',
        },
      ],
    };
    // Through the main resource: the status is dropped.
    kubectlOk('admin', [
      'patch',
      'application',
      'billing',
      '-n',
      'crd-status',
      '--type=merge',
      '-p',
      JSON.stringify({ status }),
    ]);
    expect(
      kubectlOk('admin', ['get', 'application', 'billing', '-n', 'crd-status', '-o', 'jsonpath={.status}']),
    ).toBe('');
    kubectlOk('admin', [
      'patch',
      'application',
      'billing',
      '-n',
      'crd-status',
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify({ status }),
    ]);
    expect(
      kubectlOk('admin', [
        'get',
        'application',
        'billing',
        '-n',
        'crd-status',
        '-o',
        'jsonpath={.status.conditions[0].reason}',
      ]),
    ).toBe('Accepted');
  });

  it('kubectl get prints the documented columns', () => {
    kubectlOk(
      'admin',
      ['apply', '--server-side', '-f', '-'],
      `apiVersion: portcullis.dev/v1alpha1
kind: ApplicationRegistration
metadata: { name: crd-status.billing.payments, namespace: crd-status }
spec: { application: { namespace: crd-status, name: billing }, service: payments, state: Approved }
`,
    );
    const header = (resource: string) =>
      kubectlOk('admin', ['get', resource, '-n', 'crd-status'])
        .split('\n')[0]!
        .trim()
        .split(/\s{2,}/);
    expect(header('applicationregistrations')).toEqual([
      'NAME',
      'APPLICATION',
      'SERVICE',
      'STATE',
      'READY',
      'AGE',
    ]);
    expect(header('applications')[0]).toBe('NAME');
    const row = kubectlOk('admin', ['get', 'applicationregistrations', '-n', 'crd-status', '--no-headers']);
    // APPLICATION comes from status, which the controller writes (none runs here).
    expect(row).toMatch(/^crd-status\.billing\.payments\s+payments\s+Approved\s/);
  });

  it('a spec the schema refuses is refused by the server, naming the field', () => {
    expect(() =>
      kubectlOk(
        'admin',
        ['apply', '--server-side', '-f', '-'],
        `apiVersion: portcullis.dev/v1alpha1
kind: ApplicationRegistration
metadata: { name: bad, namespace: crd-status }
spec: { application: { namespace: crd-status, name: billing }, service: payments, state: Maybe }
`,
      ),
    ).toThrow(/spec\.state/);
  });
});
