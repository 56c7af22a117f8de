/**
 * Kong 2.8's openid-connect session names, which Kong 3.x still accepts as
 * deprecated shorthands (its schema's `shorthand_fields`; renamed in Kong
 * 3.2 with lua-resty-session 4). Each is mapped to its current name, or
 * dropped where Kong 3.x dropped it, with a note for a deprecation warning.
 */
const RENAMED: Readonly<Record<string, string>> = {
  session_cookie_lifetime: 'session_rolling_timeout',
  session_cookie_idletime: 'session_idling_timeout',
  session_cookie_samesite: 'session_cookie_same_site',
  session_cookie_httponly: 'session_cookie_http_only',
};

/** Gone in Kong 3.2: they tuned renewal, cookie size and storage, not who gets in. */
const DROPPED = [
  'session_cookie_renew',
  'session_cookie_maxsize',
  'session_strategy',
  'session_compressor',
  'session_auth_ttl',
] as const;

export interface Shorthands {
  config: Record<string, unknown>;
  /** One sentence per old name used, for the deprecation warning. */
  notes: string[];
  /** An old name set together with its new one: which wins would be a guess. */
  conflicts: string[];
}

/** The config with 2.8 names mapped; the input is not modified. */
export function mapKongShorthands(input: Record<string, unknown>): Shorthands {
  const config = { ...input };
  const notes: string[] = [];
  const conflicts: string[] = [];
  for (const [from, to] of Object.entries(RENAMED)) {
    if (!Object.hasOwn(config, from)) continue;
    if (Object.hasOwn(config, to)) {
      conflicts.push(`fields "${from}" (Kong 2.8) and "${to}" are both set; keep "${to}"`);
      continue;
    }
    let value = config[from];
    delete config[from];
    // Kong maps 2.8's "off" to Lax.
    if (from === 'session_cookie_samesite' && value === 'off') value = 'Lax';
    if (value !== null) config[to] = value;
    notes.push(`field "${from}" is Kong 2.8's name; read as "${to}"`);
  }
  for (const field of DROPPED) {
    if (!Object.hasOwn(config, field)) continue;
    delete config[field];
    notes.push(`field "${field}" was removed in Kong 3.2 and has no effect`);
  }
  // Kong 2.8 had no idle timeout unless `session_cookie_idletime` was set; a 2.8 config keeps that.
  if (
    notes.length + conflicts.length > 0 &&
    !Object.hasOwn(input, 'session_cookie_idletime') &&
    !Object.hasOwn(config, 'session_idling_timeout')
  ) {
    config.session_idling_timeout = 0;
    notes.push('no idle timeout, as in Kong 2.8 (set "session_idling_timeout" to have one)');
  }
  return { config, notes, conflicts };
}
