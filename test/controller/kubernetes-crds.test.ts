import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { WATCHED_PATHS } from '../../controller/kubernetes/kinds.js';

const DIR = join(import.meta.dirname, '../../crds');

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a CRD document, checked field by field below
type Doc = Record<string, any>;

const crds: Doc[] = readdirSync(DIR)
  .filter((f) => f.endsWith('.yaml'))
  .flatMap((f) => parseAllDocuments(readFileSync(join(DIR, f), 'utf8')).map((d) => d.toJS() as Doc));

/** Structural schema rules: every node has a type unless it preserves unknown fields or is int-or-string. */
function structuralErrors(schema: Doc, at: string): string[] {
  const errors: string[] = [];
  const free =
    schema['x-kubernetes-preserve-unknown-fields'] === true || schema['x-kubernetes-int-or-string'] === true;
  if (!schema.type && !free) errors.push(`${at}: no type`);
  for (const [name, child] of Object.entries((schema.properties ?? {}) as Record<string, Doc>)) {
    errors.push(...structuralErrors(child, `${at}.${name}`));
  }
  if (schema.type === 'array') {
    if (!schema.items) errors.push(`${at}: array without items`);
    else errors.push(...structuralErrors(schema.items, `${at}[]`));
  }
  if (schema.properties && schema.type !== 'object') errors.push(`${at}: properties on a non-object`);
  for (const required of (schema.required ?? []) as string[]) {
    if (!schema.properties?.[required]) errors.push(`${at}: required ${required} is not a property`);
  }
  return errors;
}

describe('CRDs', () => {
  const custom = WATCHED_PATHS.filter((k) => k.apiVersion.includes('.') && !k.apiVersion.includes('k8s.io'));

  it('define exactly the custom kinds the source watches', () => {
    expect(crds.map((c) => c.spec.names.kind).sort()).toEqual(custom.map((k) => k.kind).sort());
  });

  for (const kind of custom) {
    it(`${kind.kind} matches ${kind.apiVersion} and is structural`, () => {
      const crd = crds.find((c) => c.spec.names.kind === kind.kind)!;
      const [group, version] = kind.apiVersion.split('/');
      expect(crd.apiVersion).toBe('apiextensions.k8s.io/v1');
      expect(crd.kind).toBe('CustomResourceDefinition');
      expect(crd.metadata.name).toBe(`${kind.plural}.${group}`);
      expect(crd.spec.group).toBe(group);
      expect(crd.spec.names.plural).toBe(kind.plural);
      expect(crd.spec.scope).toBe(kind.namespaced ? 'Namespaced' : 'Cluster');
      const served = (crd.spec.versions as Doc[]).filter((v) => v.served);
      expect(served.map((v) => v.name)).toContain(version);
      expect((crd.spec.versions as Doc[]).filter((v) => v.storage)).toHaveLength(1);
      const v = served.find((s) => s.name === version)!;
      expect(v.schema.openAPIV3Schema.type).toBe('object');
      expect(structuralErrors(v.schema.openAPIV3Schema, kind.kind)).toEqual([]);
      // Every kind the controller writes status on has the subresource (KongPlugins: Programmed, as in KIC 3.x).
      expect(Boolean(v.subresources?.status)).toBe(true);
    });
  }
});
