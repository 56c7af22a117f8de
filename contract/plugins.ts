/**
 * The plugins Portcullis knows, shared by controller and proxy so that both
 * accept exactly the same plugin configs: the controller leaves a broken one
 * out (its routes answer 503), the proxy refuses to run one.
 *
 * Priorities are Kong Gateway Enterprise's static ones (Kong's plugin
 * execution order table): higher runs first, so authentication
 * (openid-connect) runs before authorization (application-registration).
 * Config checks are only that a config is an object until each plugin's own
 * schema lands with the plugin.
 */
export const KONG_PLUGIN_PRIORITIES: Readonly<Record<string, number>> = {
  'openid-connect': 1050,
  'application-registration': 995,
};

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Kong's priority for a plugin name, or undefined for a plugin Portcullis does not know. */
export function pluginPriority(name: string): number | undefined {
  return Object.hasOwn(KONG_PLUGIN_PRIORITIES, name) ? KONG_PLUGIN_PRIORITIES[name] : undefined;
}

/** Problems with a known plugin's config, each a sentence; empty when valid. */
export function validatePluginConfig(name: string, config: unknown): string[] {
  if (pluginPriority(name) === undefined) return [`unknown plugin "${name}"`];
  return isPlainObject(config) ? [] : ['config must be an object'];
}
