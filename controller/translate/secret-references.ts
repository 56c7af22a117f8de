/**
 * Which Secrets translate may read, so that the controller keeps only those
 * in memory: TLS Secrets of our Ingresses, CA certificate Secrets named by
 * konghq.com/ca-certificates-secrets on the Services they route to, and Secrets named by configFrom
 * or configPatches of KongPlugins (in scope) and of KongClusterPlugins of our
 * class. Pure, like translate; the Secrets in the snapshot are not needed.
 */
import { createContext } from './context.js';
import type { KongPlugin, Snapshot } from './k8s-types.js';
import { resolveOptions, type TranslateOptions } from './options.js';
import { ingressClassProcessor, LEGACY_CLASS_ANNOTATION } from './processors/ingress-class.js';
import { scopeProcessor } from './processors/scope.js';
import { annotation, arr, compareStrings, record, splitList, str } from './read.js';
import { ingressBackends, serviceKeyOf } from './processors/backends.js';

export interface SecretRef {
  namespace: string;
  name: string;
}

/**
 * The Secrets (`namespace/name`) a plugin's configFrom and configPatches
 * name. `ownNamespace` is the KongPlugin's namespace; a KongClusterPlugin's
 * references carry their own.
 */
export function pluginSecretKeys(plugin: KongPlugin, ownNamespace: string | undefined): string[] {
  const keys: string[] = [];
  const refs = [
    record(record(plugin.configFrom)?.secretKeyRef),
    ...arr(plugin.configPatches).map((p) => record(record(record(p)?.valueFrom)?.secretKeyRef)),
  ];
  for (const ref of refs) {
    const namespace = ownNamespace ?? str(ref?.namespace);
    const name = str(ref?.name);
    if (namespace && name) keys.push(`${namespace}/${name}`);
  }
  return keys;
}

export function secretReferences(snapshot: Snapshot, options: TranslateOptions = {}): SecretRef[] {
  const ctx = createContext({ ...snapshot, secrets: [] }, resolveOptions(options));
  scopeProcessor.run(ctx);
  ingressClassProcessor.run(ctx);
  const found = new Set<string>();
  const add = (namespace: string | undefined, name: string | undefined) => {
    if (namespace && name) found.add(`${namespace}/${name}`);
  };
  for (const ingress of ctx.ingresses) {
    for (const tls of arr(record(ingress.spec)?.tls))
      add(ingress.metadata.namespace, str(record(tls)?.secretName));
    for (const { backend } of ingressBackends(ingress)) {
      const serviceKey = serviceKeyOf(ingress, backend);
      const service = serviceKey === undefined ? undefined : ctx.index.services.get(serviceKey);
      const names = service && annotation(service, 'konghq.com/ca-certificates-secrets');
      for (const name of names === undefined ? [] : splitList(names)) add(service!.metadata.namespace, name);
    }
  }
  const fromPlugin = (plugin: KongPlugin, ownNamespace: string | undefined) => {
    for (const k of pluginSecretKeys(plugin, ownNamespace)) found.add(k);
  };
  for (const plugin of ctx.index.kongPlugins.values()) fromPlugin(plugin, plugin.metadata.namespace);
  for (const plugin of ctx.index.kongClusterPlugins.values()) {
    const cls = annotation(plugin, LEGACY_CLASS_ANNOTATION);
    if (cls === undefined ? ctx.classIsDefault : cls === ctx.options.ingressClass)
      fromPlugin(plugin, undefined);
  }
  return [...found].sort(compareStrings).map((k) => {
    const [namespace, name] = k.split('/') as [string, string];
    return { namespace, name };
  });
}
