import { defaultPluginCatalog, type PluginCatalog } from './plugin-catalog.js';

export const DEFAULT_INGRESS_CLASS = 'portcullis';
export const DEFAULT_CONTROLLER_NAME = 'portcullis.dev/ingress-controller';

export interface TranslateOptions {
  /** The ingress class this controller serves. Default `portcullis`. */
  ingressClass?: string;
  /** The IngressClass `spec.controller` value that means us. Default `portcullis.dev/ingress-controller`. */
  controllerName?: string;
  /** Only objects in these namespaces count; undefined or empty means all. Cluster-scoped kinds always count. */
  watchNamespaces?: readonly string[];
  /** Plugin names, priorities and config validation. Default: {@link defaultPluginCatalog}. */
  pluginCatalog?: PluginCatalog;
}

export interface ResolvedOptions {
  ingressClass: string;
  controllerName: string;
  watchNamespaces: ReadonlySet<string> | undefined;
  pluginCatalog: PluginCatalog;
}

export function resolveOptions(options: TranslateOptions = {}): ResolvedOptions {
  const namespaces = options.watchNamespaces ?? [];
  return {
    ingressClass: options.ingressClass ?? DEFAULT_INGRESS_CLASS,
    controllerName: options.controllerName ?? DEFAULT_CONTROLLER_NAME,
    watchNamespaces: namespaces.length > 0 ? new Set(namespaces) : undefined,
    pluginCatalog: options.pluginCatalog ?? defaultPluginCatalog,
  };
}
