import Fastify, { type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';

export interface ControllerStatusSources {
  /** Initial sync done and every proxy accepted a config. */
  ready: () => boolean;
  registry: Registry;
}

/** The controller's status port: liveness, readiness and its own Prometheus metrics. */
export function createControllerStatusApp(sources: ControllerStatusSources): FastifyInstance {
  const app = Fastify({ logger: false });
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    if (sources.ready()) return { status: 'ready' };
    return reply
      .code(503)
      .send({ status: 'not ready', message: 'waiting for the initial sync and a first push' });
  });
  app.get('/metrics', async (_request, reply) =>
    reply.type(sources.registry.contentType).send(await sources.registry.metrics()),
  );
  return app;
}
