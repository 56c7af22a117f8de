import {
  KONG_REFUSED_OPENID_CONNECT_FIELDS,
  KONG_UNSUPPORTED_OPENID_CONNECT_FIELDS,
  KONG_UNSUPPORTED_OPENID_CONNECT_VALUES,
} from './plugins/openid-connect-kong-fields.js';
import type { TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { Value, type ValueError } from '@sinclair/typebox/value';
import { ApplicationRegistrationConfig } from './plugins/application-registration.js';
import { OpenIdConnectConfig } from './plugins/openid-connect.js';
import { openIdConnectProblems } from './plugins/openid-connect-rules.js';

/**
 * The plugins Portcullis knows, shared by controller and proxy so that both
 * accept exactly the same plugin configs: the controller leaves a broken one
 * out (its routes answer 503), the proxy refuses to run one.
 *
 * Priorities are Kong Gateway Enterprise's static ones (Kong's plugin
 * execution order table): higher runs first, so authentication
 * (openid-connect) runs before authorization (application-registration).
 */
export const KONG_PLUGIN_PRIORITIES: Readonly<Record<string, number>> = {
  'openid-connect': 1050,
  'application-registration': 995,
};

interface PluginSchema {
  schema: TSchema;
  check: TypeCheck<TSchema>;
  /** Rules a schema cannot say: fields that depend on each other. Runs on a config with defaults. */
  rules: (config: never) => string[];
  /** Kong fields refused by name, so users read "not supported yet" rather than "unknown". */
  kongUnsupported?: ReadonlySet<string>;
  /** Kong fields refused by name for good, with the reason. */
  kongRefused?: Readonly<Record<string, string>>;
  /** Kong values refused with a reason, keyed `field=value` (the field without list indexes). */
  kongUnsupportedValues?: Readonly<Record<string, string>>;
}

const SCHEMAS: Readonly<Record<string, PluginSchema>> = {
  'openid-connect': {
    schema: OpenIdConnectConfig,
    check: TypeCompiler.Compile(OpenIdConnectConfig),
    rules: openIdConnectProblems,
    kongUnsupported: KONG_UNSUPPORTED_OPENID_CONNECT_FIELDS,
    kongRefused: KONG_REFUSED_OPENID_CONNECT_FIELDS,
    kongUnsupportedValues: KONG_UNSUPPORTED_OPENID_CONNECT_VALUES,
  },
  'application-registration': {
    schema: ApplicationRegistrationConfig,
    check: TypeCompiler.Compile(ApplicationRegistrationConfig),
    rules: () => [],
  },
};

const MAX_PROBLEMS = 20;

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Kong's priority for a plugin name, or undefined for a plugin Portcullis does not know. */
export function pluginPriority(name: string): number | undefined {
  return Object.hasOwn(KONG_PLUGIN_PRIORITIES, name) ? KONG_PLUGIN_PRIORITIES[name] : undefined;
}

/** Problems with a known plugin's config, each a sentence naming the field; empty when valid. */
export function validatePluginConfig(name: string, config: unknown): string[] {
  if (pluginPriority(name) === undefined) return [`unknown plugin "${name}"`];
  if (!isPlainObject(config)) return ['config must be an object'];
  const entry = SCHEMAS[name];
  if (!entry) return [];
  const candidate = withDefaults(entry, config);
  if (!entry.check.Check(candidate)) {
    const problems: string[] = [];
    // One problem per field: a missing field also fails its type check.
    const seen = new Set<string>();
    for (const error of entry.check.Errors(candidate)) {
      if (seen.has(error.path)) continue;
      seen.add(error.path);
      problems.push(describe(error, entry));
      if (problems.length >= MAX_PROBLEMS) break;
    }
    return problems;
  }
  return entry.rules(candidate as never);
}

/**
 * A plugin's config with Kong's defaults filled in, for a config that
 * `validatePluginConfig` accepted. The input is not modified.
 */
export function pluginConfigWithDefaults<T>(name: string, config: Record<string, unknown>): T {
  const entry = SCHEMAS[name];
  return (entry ? withDefaults(entry, config) : structuredClone(config)) as T;
}

/**
 * Kong's exported configs spell "unset" as `null`; those fields are dropped
 * so that the default applies, except where `null` is a value of its own.
 * A lone string or object where a list is expected becomes a one-item list,
 * as Kong's admin API takes it (a configPatch of `/client_secret` from a
 * Secret gives a string, one of `/client_jwk` an object).
 */
function withDefaults(entry: PluginSchema, config: Record<string, unknown>): unknown {
  const properties = (entry.schema as { properties?: Record<string, TSchema> }).properties ?? {};
  const copy: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) {
    const schema = properties[key];
    if (value === null && !(schema && Value.Check(schema, null))) continue;
    const lone = typeof value === 'string' || isPlainObject(value);
    copy[key] = lone && schema?.type === 'array' ? [structuredClone(value)] : structuredClone(value);
  }
  return Value.Default(entry.schema, copy);
}

function describe(error: ValueError, entry: PluginSchema): string {
  const field = error.path.slice(1).replace(/\//g, '.') || '(config)';
  if (error.message === 'Unexpected property' || /additional/i.test(error.message)) {
    const refused = entry.kongRefused?.[field];
    if (refused !== undefined) {
      return `field "${field}" is a Kong field that Portcullis does not support: ${refused}`;
    }
    if (entry.kongUnsupported?.has(field)) {
      return `field "${field}" is a Kong field that Portcullis does not support yet`;
    }
    return `unknown field "${field}"`;
  }
  if (/required property/i.test(error.message)) return `field "${field}" is required`;
  const reason =
    typeof error.value === 'string'
      ? entry.kongUnsupportedValues?.[`${field.replace(/\.\d+$/, '')}=${error.value}`]
      : undefined;
  if (reason) return `field "${field}" value ${JSON.stringify(error.value)} ${reason}`;
  const literals = (error.schema as { anyOf?: { const?: unknown }[] }).anyOf
    ?.map((s) => s.const)
    .filter((v) => v !== undefined);
  if (literals && literals.length > 0) {
    return `field "${field}" must be one of ${literals.map((v) => JSON.stringify(v)).join(', ')}`;
  }
  return `field "${field}": ${error.message.toLowerCase()}`;
}
