/**
 * Defence in depth: the admin token is the primary's alone. Workers serve
 * untrusted traffic and never use it, so it must not be in their
 * environment, where a worker compromise (or a debug dump) would expose it.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ConfigBuilder } from '../../support/config-builder.js';
import { startProxy, type ProxyProcess } from '../../support/proxy-process.js';

const TOKEN = 'env-admin-token-0123456789abcdef';
let proxy: ProxyProcess;

beforeAll(async () => {
  proxy = await startProxy({
    token: false,
    env: { PORTCULLIS_ADMIN_TOKEN: TOKEN },
    config: new ConfigBuilder().upstream('none', [1]).route('r', '/', 'none').build(),
  });
});

afterAll(() => proxy?.stop());

function environment(pid: number): string[] {
  return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
}

it('the primary still takes its token from PORTCULLIS_ADMIN_TOKEN', async () => {
  const res = await fetch(`http://127.0.0.1:${proxy.adminPort}/config`, {
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  expect(res.status).toBe(200);
});

it('no worker has the admin token in its environment', () => {
  const workers = proxy.workerPids();
  expect(workers.length).toBe(2);
  for (const pid of workers) {
    const env = environment(pid);
    expect(env.some((entry) => entry.startsWith('PORTCULLIS_ADMIN_TOKEN='))).toBe(false);
    expect(env.some((entry) => entry.includes(TOKEN))).toBe(false);
  }
});
