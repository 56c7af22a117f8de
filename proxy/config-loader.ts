import { readFile, stat } from 'node:fs/promises';
import type { Logger } from 'pino';
import { configTextHash, validateConfig, type CompiledConfig, type Problem } from '../contract/index.js';
import { parseJsonText, utf8Problem } from '../contract/json-text.js';
import type { StateStore } from './state-store.js';
import { certificateProblems } from './tls/certificate-store.js';

/** A checked config, kept as text: the primary stores it and hands it on. */
export interface LoadedConfig {
  /** sha256 of `text`: the hash of exactly what was received, before schema defaults. */
  hash: string;
  /** The config as received; what the state file keeps, so a restart reports the same hash. */
  text: string;
  /** The config with schema defaults filled in, as JSON: what the workers parse. */
  json: string;
}

/** Beside each LoadedConfig that checkConfig made: the validated config, as `json` describes it. */
const checked = new WeakMap<LoadedConfig, CompiledConfig>();

/**
 * The validated config (defaults filled in) `loaded` was checked as, when
 * checkConfig made it: what the primary applies config patches to.
 */
export function checkedConfig(loaded: LoadedConfig): CompiledConfig | undefined {
  return checked.get(loaded);
}

export type ParseResult = { ok: true; loaded: LoadedConfig } | { ok: false; problems: Problem[] };

/**
 * Checks a received config completely (shape, references, certificates).
 * `input` is `text` parsed; the hash is over `text`, never a re-serialisation
 * (a caller that already hashed it passes the hash).
 */
export function checkConfig(text: string, input: unknown, hash?: string): ParseResult {
  const result = validateConfig(input);
  if (!result.ok) return result;
  const problems = certificateProblems(result.config);
  if (problems.length > 0) return { ok: false, problems };
  // validateConfig returns its input when it was complete; otherwise a copy with defaults.
  const json = result.config === input ? text : JSON.stringify(result.config);
  const loaded: LoadedConfig = { hash: hash ?? configTextHash(text), text, json };
  checked.set(loaded, result.config);
  return { ok: true, loaded };
}

export function parseConfigText(text: string): ParseResult {
  return parseConfigBytes(Buffer.from(text));
}

/** A config file's bytes: refused unless UTF-8, so that the hash of the text is the hash of the bytes. */
export function parseConfigBytes(bytes: Buffer): ParseResult {
  const notUtf8 = utf8Problem(bytes);
  if (notUtf8) return { ok: false, problems: [notUtf8] };
  const text = bytes.toString('utf8');
  const parsed = parseJsonText(bytes, text);
  return parsed.ok ? checkConfig(text, parsed.value) : { ok: false, problems: [parsed.problem] };
}

/**
 * The config to serve at start: the `--config` file or the last known good
 * one from the state dir, whichever was written last; if the newer one is
 * invalid, the other. Invalid files are logged with their problems.
 */
export async function loadInitialConfig(
  configFile: string | undefined,
  store: StateStore | undefined,
  log: Logger,
): Promise<LoadedConfig | undefined> {
  const candidates: { origin: string; bytes: Buffer; mtimeMs: number }[] = [];
  if (configFile) {
    const [bytes, info] = await Promise.all([readFile(configFile), stat(configFile)]);
    candidates.push({ origin: configFile, bytes, mtimeMs: info.mtimeMs });
  }
  const stored = await store?.load();
  if (stored && store) candidates.push({ origin: store.file, ...stored });
  candidates.sort((a, b) => b.mtimeMs - a.mtimeMs);
  for (const candidate of candidates) {
    const result = parseConfigBytes(candidate.bytes);
    if (result.ok) {
      log.info({ file: candidate.origin, hash: result.loaded.hash }, 'loaded config');
      return result.loaded;
    }
    log.error({ file: candidate.origin, problems: result.problems }, 'config file is invalid; ignoring it');
  }
  return undefined;
}
