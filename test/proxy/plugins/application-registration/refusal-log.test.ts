/** The `application refused` audit line: each key once, names only. */
import { Writable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { pino } from 'pino';
import { expect, it } from 'vitest';
import type { CompiledConfig, Route } from '../../../../contract/index.js';
import { applicationRegistrationFactory } from '../../../../proxy/plugins/application-registration/index.js';
import { DEFAULT_PLUGIN_ENVIRONMENT, emptyUpstreamChanges } from '../../../../proxy/plugins/registry.js';

it('names the plugin instance under one `plugin` key and the plugin under `pluginName`', () => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const plugin = applicationRegistrationFactory.create(
    {
      id: 'payments/payments-apps',
      name: 'application-registration',
      config: {},
      source: { kind: 'KongPlugin', namespace: 'payments', name: 'payments-apps' },
    },
    { ...DEFAULT_PLUGIN_ENVIRONMENT, log: pino({ base: null }, sink) },
  );
  const reply = { code: () => reply, header: () => reply, send: () => reply } as unknown as FastifyReply;
  const allowed = plugin.access({} as FastifyRequest, reply, {
    route: { id: 'payments/payments/0', service: 'payments/payments' } as Route,
    config: {} as CompiledConfig,
    path: '/payments',
    query: '',
    proto: 'http',
    upstream: emptyUpstreamChanges(),
  });
  expect(allowed).toBe(false);
  const line = lines.find((l) => l.includes('"application refused"'));
  expect(line, lines.join('\n')).toBeDefined();
  // JSON.parse keeps the last of two equal keys; count them in the raw text.
  expect(line!.match(/"plugin":/g)).toHaveLength(1);
  expect(JSON.parse(line!)).toMatchObject({
    plugin: 'payments/payments-apps',
    pluginName: 'application-registration',
    route: 'payments/payments/0',
    service: 'payments/payments',
    reason: 'no_identity',
  });
});
