/**
 * What translate needs to know about plugins: whether a name exists, where it
 * runs in the chain (Kong's static priority: higher runs first), and whether
 * a config is acceptable.
 *
 * The default catalog knows the two plugins Portcullis implements. Its
 * validation is deliberately loose for now: a config must be a JSON object.
 * The real per-plugin schemas belong to the proxy's plugins and come in a
 * later issue; then the proxy's schemas are plugged in here, so that the
 * controller rejects exactly what the proxy would.
 */
export interface PluginCatalog {
  /** Kong's static priority, or undefined for a plugin this catalog does not know. */
  priority(name: string): number | undefined;
  /** Problems with a config (empty when valid). Only called for known names. */
  validate(name: string, config: unknown): string[];
}

/**
 * Kong Gateway Enterprise static priorities (Kong's plugin execution order
 * table): authentication (openid-connect) runs before authorization
 * (application-registration).
 */
export const KONG_PLUGIN_PRIORITIES: Readonly<Record<string, number>> = {
  'openid-connect': 1050,
  'application-registration': 995,
};

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** A catalog over a table of priorities, validating only that a config is an object. */
export function looseCatalog(priorities: Readonly<Record<string, number>>): PluginCatalog {
  return {
    priority: (name) => (Object.hasOwn(priorities, name) ? priorities[name] : undefined),
    validate: (_name, config) => (isPlainObject(config) ? [] : ['config must be an object']),
  };
}

export const defaultPluginCatalog: PluginCatalog = looseCatalog(KONG_PLUGIN_PRIORITIES);
