/**
 * What translate needs to know about plugins: whether a name exists, where it
 * runs in the chain, and whether a config is acceptable. The default catalog
 * is the contract's, the same the proxy checks pushed configs with.
 */
import {
  isPlainObject,
  KONG_PLUGIN_PRIORITIES,
  pluginPriority,
  validatePluginConfig,
} from '../../contract/plugins.js';

export { isPlainObject, KONG_PLUGIN_PRIORITIES };

export interface PluginCatalog {
  /** Kong's static priority, or undefined for a plugin this catalog does not know. */
  priority(name: string): number | undefined;
  /** Problems with a config (empty when valid). Only called for known names. */
  validate(name: string, config: unknown): string[];
}

/** A catalog over a table of priorities, validating only that a config is an object (for tests). */
export function looseCatalog(priorities: Readonly<Record<string, number>>): PluginCatalog {
  return {
    priority: (name) => (Object.hasOwn(priorities, name) ? priorities[name] : undefined),
    validate: (_name, config) => (isPlainObject(config) ? [] : ['config must be an object']),
  };
}

export const defaultPluginCatalog: PluginCatalog = {
  priority: pluginPriority,
  validate: validatePluginConfig,
};
