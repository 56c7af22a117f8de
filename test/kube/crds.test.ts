// The CRDs in crds/ and every Kubernetes manifest in the examples and docs,
// against a real kube-apiserver (see test/kube-apiserver/README.md).
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { apiRequest } from '../../controller/kubernetes/api-request.js';
import { StatusWriter } from '../../controller/kubernetes/status-writer.js';
import { kubeHarness, kubectl, kubectlOk, type KubeHarness } from './support.js';

const ROOT = join(import.meta.dirname, '../..');
const CRD_DIR = join(ROOT, 'crds');
const CRD_FILES = readdirSync(CRD_DIR).filter((f) => f.endsWith('.yaml'));

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- Kubernetes objects, checked field by field
type Obj = Record<string, any>;

interface Block {
  source: string; // file, or file#n for the n-th yaml block of a Markdown page
  docs: (Obj | null)[];
}

function yamlDocs(text: string): (Obj | null)[] {
  return parseAllDocuments(text).map((d) => d.toJS() as Obj | null);
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)],
  );
}

/** Every manifest the repo shows a reader: examples/manifests/** and the yaml blocks of docs/*.md and README.md. */
function manifestBlocks(): Block[] {
  const blocks: Block[] = walk(join(ROOT, 'examples/manifests'))
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => ({ source: relative(ROOT, f), docs: yamlDocs(readFileSync(f, 'utf8')) }));
  const pages = [
    'README.md',
    ...readdirSync(join(ROOT, 'docs'))
      .filter((f) => f.endsWith('.md'))
      .sort()
      .map((f) => `docs/${f}`),
  ];
  for (const page of pages) {
    const text = readFileSync(join(ROOT, page), 'utf8');
    let n = 0;
    for (const m of text.matchAll(/^```ya?ml\n([\s\S]*?)^```/gm)) {
      n += 1;
      blocks.push({ source: `${page}#${n}`, docs: yamlDocs(m[1]!) });
    }
  }
  return blocks;
}

const isObject = (d: Obj | null): d is Obj =>
  d !== null && typeof d.apiVersion === 'string' && typeof d.kind === 'string';
const objectId = (d: Obj) =>
  `${d.kind} ${d.metadata?.namespace ? `${d.metadata.namespace}/` : ''}${d.metadata?.name}`;

/**
 * What is shown but not applied, and why. A block that is not a whole
 * Kubernetes object must be listed here; an entry that matches nothing fails.
 */
const SKIPPED: Record<string, string> = {
  'docs/controller.md#1': 'an annotations fragment to put on an Ingress, not a whole object',
  'examples/manifests/status.yaml EndpointSlice example/status-local':
    'the standalone demo points its upstream at 127.0.0.1; a real API server refuses loopback endpoint addresses (checked below)',
};

/** A Ready condition as the controller writes it. */
const ready = (reason: string) => ({
  type: 'Ready',
  status: 'True',
  reason,
  message: 'set by the test',
  lastTransitionTime: '2026-01-01T00:00:00Z',
});

// Without Go, harness.ts has printed why these are skipped.
const h = kubeHarness();

describe.skipIf(!h)('CRDs against a real kube-apiserver', () => {
  const k = h as KubeHarness;
  const crdNames = CRD_FILES.map(
    (f) => (yamlDocs(readFileSync(join(CRD_DIR, f), 'utf8'))[0] as Obj).metadata.name,
  );

  async function applyOurCrds(): Promise<string> {
    const out = await kubectlOk(k, 'admin', ['apply', '--server-side', '-f', CRD_DIR]);
    await kubectlOk(k, 'admin', [
      'wait',
      '--for=condition=Established',
      '--timeout=30s',
      ...crdNames.map((n) => `crd/${n}`),
    ]);
    return out;
  }

  async function getJson(as: 'admin', args: string[]): Promise<Obj> {
    return JSON.parse(await kubectlOk(k, as, ['get', ...args, '-o', 'json'])) as Obj;
  }

  beforeAll(async () => {
    await applyOurCrds();
  });

  describe('crds/', () => {
    it('every CRD applies server-side', async () => {
      // Applying again must be accepted too (no field conflicts with ourselves).
      const out = await applyOurCrds();
      for (const name of crdNames)
        expect(out).toContain(`customresourcedefinition.apiextensions.k8s.io/${name} serverside-applied`);
      expect(crdNames).toHaveLength(CRD_FILES.length);
    });

    it('every CRD is accepted as structural: NamesAccepted and Established, no NonStructuralSchema', async () => {
      for (const name of crdNames) {
        const crd = await getJson('admin', ['crd', name]);
        const conditions = Object.fromEntries(
          (crd.status.conditions as Obj[]).map((c) => [c.type as string, c.status as string]),
        );
        expect({ name, ...conditions }).toMatchObject({ name, NamesAccepted: 'True', Established: 'True' });
        expect(conditions).not.toHaveProperty('NonStructuralSchema');
        expect(crd.status.acceptedNames.kind).toBe(crd.spec.names.kind);
      }
    });

    it('every CRD is served at its storage version', async () => {
      const resources = await kubectlOk(k, 'admin', ['api-resources', '-o', 'name']);
      for (const name of crdNames) {
        const [plural, ...group] = name.split('.');
        expect(resources.split('\n')).toContain(`${plural}.${group.join('.')}`);
      }
    });
  });

  describe('example and docs manifests', () => {
    const blocks = manifestBlocks();

    function planned(block: Block): { apply: Obj[]; skipped: string[]; fragments: number } {
      const apply: Obj[] = [];
      const skipped: string[] = [];
      let fragments = 0;
      for (const d of block.docs) {
        if (d === null) continue;
        if (!isObject(d)) fragments += 1;
        else if (SKIPPED[`${block.source} ${objectId(d)}`]) skipped.push(objectId(d));
        else apply.push(d);
      }
      return { apply, skipped, fragments };
    }

    it('finds the manifests (examples, docs, README)', () => {
      const sources = blocks.map((b) => b.source);
      expect(sources).toContain('examples/manifests/status.yaml');
      expect(sources.filter((s) => s.startsWith('docs/')).length).toBeGreaterThanOrEqual(4);
    });

    it('every block is a Kubernetes object or skipped with a reason, and every skip entry is used', () => {
      const used = new Set<string>();
      const unexplained: string[] = [];
      for (const block of blocks) {
        const { fragments, skipped } = planned(block);
        for (const s of skipped) used.add(`${block.source} ${s}`);
        if (fragments === 0) continue;
        if (SKIPPED[block.source]) used.add(block.source);
        else unexplained.push(block.source);
      }
      expect(unexplained).toEqual([]);
      expect(Object.keys(SKIPPED).filter((s) => !used.has(s))).toEqual([]);
    });

    it('every object applies server-side (namespaces they need are created first)', async () => {
      const objects = blocks.filter((b) => !SKIPPED[b.source]).flatMap((b) => planned(b).apply);
      expect(objects.length).toBeGreaterThan(5);
      const namespaces = [...new Set(objects.map((o) => o.metadata?.namespace as string | undefined))].filter(
        (n): n is string => Boolean(n),
      );
      for (const ns of namespaces) {
        const doc = stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
        await kubectlOk(k, 'admin', ['apply', '--server-side', '-f', '-'], { input: doc });
      }
      const failures: string[] = [];
      for (const block of blocks) {
        if (SKIPPED[block.source]) continue;
        const { apply } = planned(block);
        if (apply.length === 0) continue;
        // Every kind these use exists in a real API server or in crds/, so
        // they are stored for real, not dry-run.
        const r = await kubectl(k, 'admin', ['apply', '--server-side', '-f', '-'], {
          input: apply.map((o) => stringify(o)).join('---\n'),
        });
        const applied = r.stdout.split('\n').filter((l) => / serverside-applied$/.test(l)).length;
        if (r.code !== 0 || applied !== apply.length)
          failures.push(`${block.source}: ${r.stderr || r.stdout}`);
      }
      expect(failures).toEqual([]);
    });

    it('the standalone demo EndpointSlice is refused by a real API server (why it is skipped)', async () => {
      const block = blocks.find((b) => b.source === 'examples/manifests/status.yaml')!;
      const slice = block.docs.find((d) => d?.kind === 'EndpointSlice')!;
      const r = await kubectl(k, 'admin', ['apply', '--server-side', '--dry-run=server', '-f', '-'], {
        input: stringify(slice),
      });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(/127\.0\.0\.1.*loopback/);
    });
  });

  describe('status subresources', () => {
    const ns = 'crd-status';

    beforeAll(async () => {
      await kubectlOk(k, 'admin', ['apply', '--server-side', '-f', '-'], {
        input: [
          { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } },
          {
            apiVersion: 'portcullis.dev/v1alpha1',
            kind: 'Application',
            metadata: { name: 'status-app', namespace: ns },
            spec: { clientId: 'status-app-client', registrations: [{ service: { name: 'svc' } }] },
          },
          {
            apiVersion: 'portcullis.dev/v1alpha1',
            kind: 'ApplicationRegistration',
            metadata: { name: 'crd-status.status-app.svc', namespace: ns },
            spec: { application: { namespace: ns, name: 'status-app' }, service: 'svc' },
          },
          {
            apiVersion: 'configuration.konghq.com/v1',
            kind: 'KongPlugin',
            metadata: { name: 'status-plugin', namespace: ns },
            plugin: 'application-registration',
          },
        ]
          .map((o) => stringify(o))
          .join('---\n'),
      });
    });

    for (const [resource, name, status] of [
      ['application', 'status-app', { approvedServices: 1, conditions: [ready('Approved')] }],
      [
        'applicationregistration',
        'crd-status.status-app.svc',
        { application: 'crd-status/status-app', conditions: [ready('Pending')] },
      ],
    ] as const) {
      it(`${resource}: status is written through /status only, without bumping generation`, async () => {
        const before = await getJson('admin', ['-n', ns, resource, name]);
        expect(before.metadata.generation).toBe(1);
        expect(before.spec.state ?? 'n/a').toBe(resource === 'applicationregistration' ? 'Pending' : 'n/a'); // CRD default
        await kubectlOk(k, 'admin', [
          '-n',
          ns,
          'patch',
          resource,
          name,
          '--subresource=status',
          '--type=merge',
          '-p',
          JSON.stringify({ status }),
        ]);
        const written = await getJson('admin', ['-n', ns, resource, name]);
        expect(written.status).toMatchObject(status);
        expect(written.metadata.generation).toBe(1);

        // Through the main resource, status is ignored and spec is taken.
        const spec = resource === 'application' ? { displayName: 'changed' } : { state: 'Approved' };
        await kubectlOk(k, 'admin', [
          '-n',
          ns,
          'patch',
          resource,
          name,
          '--type=merge',
          '-p',
          JSON.stringify({ spec, status: { conditions: [ready('Overwritten')] } }),
        ]);
        const after = await getJson('admin', ['-n', ns, resource, name]);
        expect(after.spec).toMatchObject(spec);
        expect(after.status).toMatchObject(status);
        expect(after.metadata.generation).toBe(2);
      });
    }

    it('KongPlugin: the Programmed condition is written through /status only; status in an apply is ignored', async () => {
      const programmed = {
        type: 'Programmed',
        status: 'True',
        reason: 'Programmed',
        message: 'set by the test',
        lastTransitionTime: '2026-01-01T00:00:00Z',
      };
      await kubectlOk(k, 'admin', [
        ...['-n', ns, 'patch', 'kongplugin', 'status-plugin', '--subresource=status', '--type=merge'],
        ...['-p', JSON.stringify({ status: { conditions: [programmed] } })],
      ]);
      await kubectlOk(k, 'admin', ['apply', '--server-side', '-f', '-'], {
        input: stringify({
          apiVersion: 'configuration.konghq.com/v1',
          kind: 'KongPlugin',
          metadata: { name: 'status-plugin', namespace: ns },
          plugin: 'application-registration',
          status: { conditions: [] },
        }),
      });
      const after = await getJson('admin', ['-n', ns, 'kongplugin', 'status-plugin']);
      expect(after.status).toEqual({ conditions: [programmed] });
      expect(after.metadata.generation).toBe(1);
      // A condition without reason or message is refused, as by KIC's schema.
      const bad = await kubectl(k, 'admin', [
        ...['-n', ns, 'patch', 'kongplugin', 'status-plugin', '--subresource=status', '--type=merge'],
        ...['-p', '{"status":{"conditions":[{"type":"Programmed","status":"True"}]}}'],
      ]);
      expect(bad.code).not.toBe(0);
      expect(bad.stderr).toMatch(/reason: Required value/);
    });
  });

  describe('printer columns', () => {
    const headerOf = (table: string) => table.trim().split('\n')[0]!.trim().split(/\s+/);
    const rowOf = (table: string, name: string) =>
      table
        .trim()
        .split('\n')
        .map((l) => l.trim().split(/\s+/))
        .find((cells) => cells[1] === name);

    it('kubectl get applications -A shows what docs/kubernetes.md lists', async () => {
      // docs/kubernetes.md: "Client-ID, Approved (status.approvedServices), Ready and its Reason, and Age".
      const out = await kubectlOk(k, 'admin', ['get', 'applications', '-A']);
      expect(headerOf(out)).toEqual(['NAMESPACE', 'NAME', 'CLIENT-ID', 'APPROVED', 'READY', 'REASON', 'AGE']);
      expect(rowOf(out, 'status-app')?.slice(0, 6)).toEqual([
        'crd-status',
        'status-app',
        'status-app-client',
        '1',
        'True',
        'Approved',
      ]);
    });

    it('kubectl get applicationregistrations -A matches the table in docs/application-registration.md', async () => {
      const page = readFileSync(join(ROOT, 'docs/application-registration.md'), 'utf8');
      const m = /kubectl get applicationregistrations -A\n# (.+)\n# (.+)\n/.exec(page);
      expect(m).not.toBeNull();
      const [docHeader, docRow] = [m![1]!.trim().split(/\s+/), m![2]!.trim().split(/\s+/)];
      const [namespace, name] = docRow;
      // The page's registration was applied above; give it the status the
      // controller writes when the owner approves.
      await kubectlOk(k, 'admin', [
        '-n',
        namespace!,
        'patch',
        'applicationregistration',
        name!,
        '--subresource=status',
        '--type=merge',
        '-p',
        JSON.stringify({ status: { application: 'billing/billing', conditions: [ready('Approved')] } }),
      ]);
      const out = await kubectlOk(k, 'admin', ['get', 'applicationregistrations', '-A']);
      expect(headerOf(out)).toEqual(docHeader);
      // Every cell but AGE.
      expect(rowOf(out, name!)?.slice(0, -1)).toEqual(docRow.slice(0, -1));
    });

    it('kubectl get of both kinds at once prints one table per kind', async () => {
      const out = await kubectlOk(k, 'admin', ['get', 'applications,applicationregistrations', '-A']);
      const headers = out
        .split('\n')
        .filter((l) => l.startsWith('NAMESPACE'))
        .map((l) => l.trim().split(/\s+/));
      expect(headers).toEqual([
        ['NAMESPACE', 'NAME', 'CLIENT-ID', 'APPROVED', 'READY', 'REASON', 'AGE'],
        ['NAMESPACE', 'NAME', 'APPLICATION', 'SERVICE', 'STATE', 'READY', 'AGE'],
      ]);
    });

    it('KongPlugin and KongClusterPlugin show Plugin-Type, Age and Programmed, Disabled only with -o wide', async () => {
      const plain = await kubectlOk(k, 'admin', ['get', 'kongplugins', '-A']);
      expect(headerOf(plain)).toEqual(['NAMESPACE', 'NAME', 'PLUGIN-TYPE', 'AGE', 'PROGRAMMED']);
      expect(rowOf(plain, 'status-plugin')).toEqual([
        'crd-status',
        'status-plugin',
        'application-registration',
        expect.any(String),
        'True',
      ]);
      expect(headerOf(await kubectlOk(k, 'admin', ['get', 'kongplugins', '-A', '-o', 'wide']))).toEqual([
        'NAMESPACE',
        'NAME',
        'PLUGIN-TYPE',
        'AGE',
        'DISABLED',
        'PROGRAMMED',
      ]);
      await kubectlOk(k, 'admin', ['apply', '--server-side', '-f', '-'], {
        input: stringify({
          apiVersion: 'configuration.konghq.com/v1',
          kind: 'KongClusterPlugin',
          metadata: { name: 'columns-test', annotations: { 'kubernetes.io/ingress.class': 'portcullis' } },
          plugin: 'openid-connect',
          disabled: true,
        }),
      });
      const wide = await kubectlOk(k, 'admin', ['get', 'kongclusterplugins', '-o', 'wide']);
      expect(headerOf(wide)).toEqual(['NAME', 'PLUGIN-TYPE', 'AGE', 'DISABLED', 'PROGRAMMED']);
      const row = wide.split('\n').find((l) => l.startsWith('columns-test'))!;
      expect(row.trim().split(/\s+/)).toEqual(['columns-test', 'openid-connect', expect.any(String), 'true']);
    });
  });

  // Kong's own KongPlugin CRD has the same group, names and version as ours
  // but another schema. This stand-in is written here (not Kong's file): it
  // differs from ours the way that matters: a column of its own, and no
  // configFrom/configPatches. Like Kong's (3.x) and ours, it has a status
  // subresource whose conditions are a list keyed by type.
  describe("a cluster that already has Kong's CRDs", () => {
    const CRD = 'kongplugins.configuration.konghq.com';
    const ns = 'kong-coexist';
    const standIn = stringify({
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: CRD },
      spec: {
        group: 'configuration.konghq.com',
        scope: 'Namespaced',
        names: {
          kind: 'KongPlugin',
          listKind: 'KongPluginList',
          plural: 'kongplugins',
          singular: 'kongplugin',
        },
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            subresources: { status: {} },
            additionalPrinterColumns: [
              { name: 'Plugin-Type', type: 'string', jsonPath: '.plugin' },
              { name: 'Programmed', type: 'string', jsonPath: '.status.conditions[0].status' },
            ],
            schema: {
              openAPIV3Schema: {
                type: 'object',
                required: ['plugin'],
                properties: {
                  apiVersion: { type: 'string' },
                  kind: { type: 'string' },
                  metadata: { type: 'object' },
                  plugin: { type: 'string' },
                  config: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
                  disabled: { type: 'boolean' },
                  // Kong's controller 3.x: conditions keyed by type.
                  status: {
                    type: 'object',
                    properties: {
                      conditions: {
                        type: 'array',
                        'x-kubernetes-list-type': 'map',
                        'x-kubernetes-list-map-keys': ['type'],
                        items: {
                          type: 'object',
                          required: ['type'],
                          properties: { type: { type: 'string' } },
                          'x-kubernetes-preserve-unknown-fields': true,
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
    });
    const plugin = (name: string, extra: Obj = {}) =>
      stringify({
        apiVersion: 'configuration.konghq.com/v1',
        kind: 'KongPlugin',
        metadata: { name, namespace: ns },
        plugin: 'rate-limiting',
        config: { minute: 5 },
        ...extra,
      });

    async function replaceWithStandIn(args: string[]): Promise<void> {
      await kubectlOk(k, 'admin', ['delete', 'crd', CRD, '--ignore-not-found', '--wait=true']);
      await kubectlOk(k, 'admin', [...args, '-f', '-'], { input: standIn });
      await kubectlOk(k, 'admin', ['wait', '--for=condition=Established', '--timeout=30s', `crd/${CRD}`]);
    }

    beforeAll(async () => {
      await kubectlOk(k, 'admin', ['create', 'namespace', ns]);
    });

    afterAll(async () => {
      // Later files expect our CRD: put it back whatever happened above.
      await kubectl(k, 'admin', ['delete', 'crd', CRD, '--ignore-not-found', '--wait=true']);
      await applyOurCrds();
    });

    it('Kong CRD applied client-side (kubectl apply): ours replaces it with no conflict, keeping the status', async () => {
      await replaceWithStandIn(['apply']);
      await kubectlOk(k, 'admin', ['apply', '-f', '-'], { input: plugin('kong-made') });
      await kubectlOk(k, 'admin', [
        '-n',
        ns,
        'patch',
        'kongplugin',
        'kong-made',
        '--subresource=status',
        '--type=merge',
        '-p',
        '{"status":{"conditions":[{"type":"Programmed","status":"True"}]}}',
      ]);
      // kubectl moves client-side-apply ownership to its server-side manager,
      // so the same user's apply takes every field over silently.
      const r = await kubectl(k, 'admin', ['apply', '--server-side', '-f', join(CRD_DIR, 'kongplugin.yaml')]);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      const crd = await getJson('admin', ['crd', CRD]);
      const v1 = (crd.spec.versions as Obj[])[0]!;
      expect(v1.subresources).toEqual({ status: {} });
      expect((v1.additionalPrinterColumns as Obj[]).map((c) => c.name)).toEqual([
        'Plugin-Type',
        'Age',
        'Disabled',
        'Programmed',
      ]);
      // The stored object survives, and so does the Programmed condition Kong's controller wrote.
      const obj = await getJson('admin', ['-n', ns, 'kongplugin', 'kong-made']);
      expect(obj.plugin).toBe('rate-limiting');
      expect(obj.status).toEqual({ conditions: [{ type: 'Programmed', status: 'True' }] });
    });

    it('Kong CRD owned by another field manager (an installer using create/update): applying ours conflicts on .spec.versions', async () => {
      await replaceWithStandIn(['create', '--field-manager=kong-installer']);
      const r = await kubectl(k, 'admin', ['apply', '--server-side', '-f', join(CRD_DIR, 'kongplugin.yaml')]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain('conflict with "kong-installer"');
      expect(r.stderr).toContain('.spec.versions');
      // Unchanged: the stand-in is still served.
      expect((await getJson('admin', ['crd', CRD])).spec.versions[0].subresources).toEqual({ status: {} });

      // --force-conflicts takes .spec.versions whole (it is an atomic list).
      await kubectlOk(k, 'admin', [
        'apply',
        '--server-side',
        '--force-conflicts',
        '-f',
        join(CRD_DIR, 'kongplugin.yaml'),
      ]);
      const crd = await getJson('admin', ['crd', CRD]);
      expect(crd.spec.versions[0].schema.openAPIV3Schema.properties).toHaveProperty('configPatches');
      const managers = await getJson('admin', ['crd', CRD, '--show-managed-fields']);
      expect((managers.metadata.managedFields as Obj[]).map((f) => f.manager)).toContain('kubectl');
    });

    it("keeping Kong's CRD: our portcullis.dev CRDs still apply, and fields Kong's schema lacks are refused", async () => {
      await replaceWithStandIn(['create', '--field-manager=kong-installer']);
      const ours = CRD_FILES.filter((f) => !f.startsWith('kong')).map((f) => join(CRD_DIR, f));
      for (const f of ours) await kubectlOk(k, 'admin', ['apply', '--server-side', '-f', f]);
      // A Kong-shaped object is fine; configPatches (ours, absent from this
      // Kong schema) is refused by strict field validation.
      await kubectlOk(k, 'admin', ['apply', '--server-side', '-f', '-'], { input: plugin('plain') });
      const r = await kubectl(k, 'admin', ['apply', '--server-side', '-f', '-'], {
        input: plugin('patched', {
          configPatches: [{ path: '/x', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }],
        }),
      });
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain('.configPatches: field not declared in schema');
    });

    it("keeping Kong's CRD: the status writer applies Programmed, keeps other conditions, and leaves another manager's Programmed", async () => {
      await replaceWithStandIn(['create', '--field-manager=kong-installer']);
      await kubectlOk(k, 'admin', ['apply', '--server-side', '-f', '-'], { input: plugin('shared') });
      // Another controller's condition of another type.
      await kubectlOk(k, 'admin', [
        ...['-n', ns, 'patch', 'kongplugin', 'shared', '--subresource=status', '--type=merge'],
        ...['-p', '{"status":{"conditions":[{"type":"Other","status":"True"}]}}'],
      ]);
      const kubeConfig = new KubeConfig();
      kubeConfig.loadFromFile(k.kubeconfigs.admin);
      const writer = (fieldManager: string) =>
        new StatusWriter({ kubeConfig, log: pino({ level: 'silent' }), fieldManager });
      const result = (status: 'True' | 'False', reason: string) => ({
        problems: [],
        statuses: {
          ingresses: [],
          applications: [],
          applicationRegistrations: [],
          plugins: [
            {
              kind: 'KongPlugin' as const,
              namespace: ns,
              name: 'shared',
              conditions: [{ type: 'Programmed' as const, status, reason, message: `${reason} by the test` }],
            },
          ],
        },
      });
      const conditions = async () =>
        ((await getJson('admin', ['-n', ns, 'kongplugin', 'shared'])).status.conditions as Obj[]).map(
          (c) => `${c.type}=${c.status}/${c.reason ?? ''}`,
        );

      const ours = writer('portcullis/portcullis');
      expect(await ours.write(result('False', 'Invalid'))).toMatchObject({ patched: 1, failed: 0 });
      expect(await conditions()).toEqual(['Other=True/', 'Programmed=False/Invalid']);

      // Another controller class takes the condition over (forced, as an update by KIC would).
      await apiRequest(
        kubeConfig,
        'PATCH',
        `/apis/configuration.konghq.com/v1/namespaces/${ns}/kongplugins/shared/status?fieldManager=portcullis%2Finternal&force=true`,
        {
          contentType: 'application/apply-patch+yaml',
          body: {
            apiVersion: 'configuration.konghq.com/v1',
            kind: 'KongPlugin',
            metadata: { name: 'shared', namespace: ns },
            status: {
              conditions: [
                {
                  type: 'Programmed',
                  status: 'True',
                  reason: 'Programmed',
                  message: 'm',
                  lastTransitionTime: '2026-01-01T00:00:00Z',
                },
              ],
            },
          },
        },
      );
      // Ours changes its mind: the server answers 409, and the other's value stays, with no retry loop.
      expect(await ours.write(result('True', 'Programmed'))).toMatchObject({ patched: 0, failed: 0 });
      expect(await ours.write(result('True', 'Programmed'))).toMatchObject({ patched: 0, failed: 0 });
      expect(await conditions()).toEqual(['Other=True/', 'Programmed=True/Programmed']);
      const message = (await getJson('admin', ['-n', ns, 'kongplugin', 'shared'])).status.conditions[1]
        .message;
      expect(message).toBe('m');
    });

    it('Kong-shaped KongPlugins validate against ours', async () => {
      await kubectlOk(k, 'admin', ['delete', 'crd', CRD, '--wait=true']);
      await applyOurCrds();
      // The top-level fields Kong's KongPlugin documents, as a Kong user writes them.
      const out = await kubectlOk(k, 'admin', ['apply', '--server-side', '-f', '-'], {
        input: plugin('kong-shaped', {
          disabled: false,
          instance_name: 'rl-orders',
          protocols: ['http', 'https'],
          run_on: 'first',
          ordering: { before: { access: ['openid-connect'] } },
          consumerRef: 'someone',
          configFrom: { secretKeyRef: { name: 'rl-config', key: 'config' } },
        }),
      });
      expect(out).toContain('kongplugin.configuration.konghq.com/kong-shaped serverside-applied');
      // What ours does not take: a protocol outside Kong's list, and status.
      const bad = await kubectl(k, 'admin', ['apply', '--server-side', '-f', '-'], {
        input: plugin('kong-bad', { protocols: ['smtp'] }),
      });
      expect(bad.code).not.toBe(0);
      expect(bad.stderr).toMatch(/protocols\[0\].*Unsupported value: "smtp"/);
    });
  });
});
