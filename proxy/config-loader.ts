import { readFile, stat } from 'node:fs/promises';
import type { Logger } from 'pino';
import { configHash, validateConfig, type CompiledConfig, type Problem } from '../contract/index.js';
import type { StateStore } from './state-store.js';
import { certificateProblems } from './tls/certificate-store.js';

export interface LoadedConfig {
  config: CompiledConfig;
  hash: string;
}

export type ParseResult = { ok: true; loaded: LoadedConfig } | { ok: false; problems: Problem[] };

/** Checks an untrusted value completely (shape, references, certificates) and hashes it. */
export function checkConfig(input: unknown): ParseResult {
  const result = validateConfig(input);
  if (!result.ok) return result;
  const problems = certificateProblems(result.config);
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, loaded: { config: result.config, hash: configHash(result.config) } };
}

export function parseConfigText(text: string): ParseResult {
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch (error) {
    return { ok: false, problems: [{ path: '/', message: `not JSON: ${(error as Error).message}` }] };
  }
  return checkConfig(input);
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
  const candidates: { origin: string; text: string; mtimeMs: number }[] = [];
  if (configFile) {
    const [text, info] = await Promise.all([readFile(configFile, 'utf8'), stat(configFile)]);
    candidates.push({ origin: configFile, text, mtimeMs: info.mtimeMs });
  }
  const stored = await store?.load();
  if (stored && store) candidates.push({ origin: store.file, ...stored });
  candidates.sort((a, b) => b.mtimeMs - a.mtimeMs);
  for (const candidate of candidates) {
    const result = parseConfigText(candidate.text);
    if (result.ok) {
      log.info({ file: candidate.origin, hash: result.loaded.hash }, 'loaded config');
      return result.loaded;
    }
    log.error({ file: candidate.origin, problems: result.problems }, 'config file is invalid; ignoring it');
  }
  return undefined;
}
