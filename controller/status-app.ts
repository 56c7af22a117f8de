import Fastify, { type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';

export interface ControllerStatusSources {
  /** Initial sync done and every proxy accepted a config. */
  ready: () => boolean;
  registry: Registry;
  /** What the source cannot read now (manifest files that do not parse): shown, but not a reason to be unready. */
  sourceProblems?: () => readonly unknown[];
}

/** The controller's status port: liveness, readiness and its own Prometheus metrics. */
export function createControllerStatusApp(sources: ControllerStatusSources): FastifyInstance {
  const app = Fastify({ logger: false });
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    const problems = sources.sourceProblems ? { sourceProblems: sources.sourceProblems() } : {};
    if (sources.ready()) return { status: 'ready', ...problems };
    return reply
      .code(503)
      .send({ status: 'not ready', message: 'waiting for the initial sync and a first push', ...problems });
  });
  app.get('/metrics', async (_request, reply) =>
    reply.type(sources.registry.contentType).send(await sources.registry.metrics()),
  );
  return app;
}
