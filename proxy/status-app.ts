import Fastify, { type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { errorBody } from '../common/errors.js';
import type { ClusterMetrics } from './cluster-metrics.js';

export interface StatusSources {
  ready: () => boolean;
  /** Draining after SIGTERM: /readyz fails first, so that load balancers stop sending. */
  shuttingDown: () => boolean;
  /** The primary's own metrics (config state); worker metrics are gathered over IPC. */
  registry: Registry;
  /** The workers' metrics, kept across worker deaths. */
  workers: ClusterMetrics;
}

/** Health, readiness and Prometheus metrics, for kubelet probes and scrapers. */
export function createStatusApp(sources: StatusSources): FastifyInstance {
  const app = Fastify({ logger: false });

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    if (sources.shuttingDown())
      return reply.code(503).type('application/json').send(errorBody('PCS_SHUTTING_DOWN'));
    if (sources.ready()) return { status: 'ready' };
    return reply.code(503).type('application/json').send(errorBody('PCS_NOT_READY'));
  });
  app.get('/metrics', async (_request, reply) => {
    const [own, traffic] = await Promise.all([sources.registry.metrics(), sources.workers.metrics()]);
    return reply.type(sources.registry.contentType).send(own + '\n' + traffic);
  });
  return app;
}
