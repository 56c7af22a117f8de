/**
 * The proxy keeps a pushed config as text: its hash is over the bytes
 * received (before schema defaults), the state file gets those bytes, and
 * the workers get the config with its defaults filled in.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { validateConfig } from '../../../contract/index.js';
import { checkConfig, parseConfigText } from '../../../proxy/config-loader.js';

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
