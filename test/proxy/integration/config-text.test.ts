/**
 * The proxy keeps a pushed config as text: its hash is over the bytes
 * received (before schema defaults), the state file gets those bytes, and
 * the workers get the config with its defaults filled in.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../../contract/index.js';
import { checkConfig, loadInitialConfig, parseConfigText } from '../../../proxy/config-loader.js';
import { StateStore } from '../../../proxy/state-store.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** A config without the fields the schema has defaults for. */
function minimal(): Record<string, unknown> {
  return {
    schemaVersion: 1,
    certificates: [],
    virtualHosts: [
      {
        host: 'a.example.com',
        routes: [
          {
            id: 'r',
            path: '/',
            pathType: 'Prefix',
            upstream: 'u',
            plugins: [],
            timeouts: { connectMs: 1000, readMs: 1000, writeMs: 1000 },
            source: { kind: 'Ingress', namespace: 'ns', name: 'r' },
          },
        ],
      },
    ],
    upstreams: [
      {
        name: 'u',
        targets: [{ host: '127.0.0.1', port: 8080 }],
        source: { kind: 'Service', namespace: 'ns', name: 'u' },
      },
    ],
    plugins: [],
    applications: [],
  };
}

describe('a config received as text', () => {
  it('hashes the text as received and hands the workers the config with defaults', () => {
    const text = JSON.stringify(minimal());
    const result = parseConfigText(text);
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    expect(result.loaded.hash).toBe(sha256(text));
    expect(result.loaded.text).toBe(text);
    const filled = validateConfig(minimal());
    if (!filled.ok) throw new Error('fixture must be valid');
    expect(JSON.parse(result.loaded.json)).toEqual(filled.config);
    expect(result.loaded.json).not.toBe(text);
  });

  it('passes a complete config to the workers as the same text', () => {
    const filled = validateConfig(minimal());
    if (!filled.ok) throw new Error('fixture must be valid');
    const text = JSON.stringify(filled.config);
    const result = checkConfig(text, JSON.parse(text));
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    expect(result.loaded).toEqual({ hash: sha256(text), text, json: text });
  });

  it('rejects text that is not JSON, and an invalid config, with problems', () => {
    const notJson = parseConfigText('{"schemaVersion": 1,');
    expect(notJson.ok).toBe(false);
    const invalid = parseConfigText(JSON.stringify({ ...minimal(), schemaVersion: 2 }));
    expect(invalid.ok).toBe(false);
    if (!invalid.ok) expect(invalid.problems.map((p) => p.path)).toContain('/schemaVersion');
  });
});

describe('the --config file and the state file', () => {
  /** Loads `file` (as --config) and `state` (older, in a state dir); answers the hash served and the log. */
  async function load(file: Buffer, state: Buffer) {
    const dir = await mkdtemp(join(tmpdir(), 'portcullis-config-text-'));
    try {
      const store = new StateStore(join(dir, 'state'));
      await store.save('');
      await writeFile(store.file, state);
      const hourAgo = new Date(Date.now() - 3600_000);
      await utimes(store.file, hourAgo, hourAgo);
      const configFile = join(dir, 'config.json');
      await writeFile(configFile, file);
      const lines: string[] = [];
      const log = pino({ level: 'info' }, { write: (line: string) => lines.push(line) });
      const loaded = await loadInitialConfig(configFile, store, log);
      return { hash: loaded?.hash, log: lines.join('') };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  const good = Buffer.from(JSON.stringify(minimal()));
  const goodHash = sha256(JSON.stringify(minimal()));
  const latin1At = good.indexOf('"name":"r"') + '"name":"'.length;
  const cases: [string, Buffer, string][] = [
    [
      'a duplicate key',
      Buffer.from(`${JSON.stringify({ ...minimal(), applications: [] }).slice(0, -1)},"virtualHosts":[]}`),
      'duplicate key \\"virtualHosts\\"',
    ],
    [
      'bytes that are not UTF-8 (in a source name, valid once decoded with U+FFFD)',
      Buffer.concat([good.subarray(0, latin1At), Buffer.from([0xff]), good.subarray(latin1At)]),
      `not UTF-8: invalid byte sequence at byte offset ${latin1At}`,
    ],
    [
      'nesting 10,000 deep',
      Buffer.from(`${'['.repeat(10_000)}${']'.repeat(10_000)}`),
      'nested deeper than 64',
    ],
  ];
  it.each(cases)(
    'refuses a newer file with %s and serves the older valid one',
    async (_what, bad, logged) => {
      const result = await load(bad, good);
      expect(result.hash).toBe(goodHash);
      expect(result.log).toContain('config file is invalid');
      expect(result.log).toContain(logged);
    },
  );
});
