export * from './compiled-config.js';
export { configHash, configTextHash, canonicalJson } from './hash.js';
export { redactConfig, REDACTED } from './redact.js';
export { validateConfig, regexOfPath, type Problem, type ValidationResult } from './validate.js';
export { KONG_PLUGIN_PRIORITIES, pluginPriority, validatePluginConfig } from './plugins.js';
