import type { CompiledConfig } from './compiled-config.js';
import { JWK_PRIVATE_MEMBERS } from './plugins/client-jwk.js';

export const REDACTED = '<redacted>';

/**
 * Plugin config fields that hold secrets, by Kong's field names. Matching is
 * on the field name anywhere in a plugin's config, so nested copies are
 * caught too.
 */
const SECRET_FIELD = /(secret|password|private_key|^key$|token$)/i;

function redactValue(value: unknown, key: string): unknown {
  if (SECRET_FIELD.test(key) && value !== null && value !== undefined && typeof value !== 'boolean') {
    return Array.isArray(value) ? value.map(() => REDACTED) : REDACTED;
  }
  if (Array.isArray(value)) return value.map((v) => redactValue(v, ''));
  if (value !== null && typeof value === 'object') {
    // A JWK (`client_jwk` or a copy anywhere): its public members stay readable, its private ones do not.
    const jwk = typeof (value as { kty?: unknown }).kty === 'string';
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [
        k,
        jwk && JWK_PRIVATE_MEMBERS.includes(k) ? REDACTED : redactValue(v, k),
      ]),
    );
  }
  return value;
}

/** A copy with private keys and secret plugin fields replaced, fit to print or store in status. */
export function redactConfig(config: CompiledConfig): CompiledConfig {
  return {
    ...config,
    certificates: config.certificates.map((c) => ({ ...c, key: REDACTED })),
    plugins: config.plugins.map((p) => ({
      ...p,
      config: redactValue(p.config, '') as Record<string, unknown>,
    })),
  };
}
