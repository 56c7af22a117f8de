import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import type { Registry } from 'prom-client';
import { errorBody } from '../common/errors.js';
import type { PortalView } from './portal/view.js';
import type { SourceProblem } from './source.js';
import type { TranslateProblem } from './translate/problem-codes.js';

export interface ControllerStatusSources {
  /** Initial sync done and every proxy accepted a config. */
  ready: () => boolean;
  registry: Registry;
  /** What the source cannot read now (manifest files that do not parse): shown, but not a reason to be unready. */
  sourceProblems?: () => readonly SourceProblem[];
  /** The portal view of the latest translation; undefined before the first one. */
  portal?: () => PortalView | undefined;
  /** The latest translation's problems; undefined before the first one. */
  translateProblems?: () => readonly TranslateProblem[] | undefined;
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
  for (const part of ['services', 'applications'] as const) {
    app.get<{ Querystring: { namespace?: string } }>(`/portal/${part}`, async (request, reply) => {
      const view = sources.portal?.();
      if (!view) return noTranslationYet(reply);
      const namespace = request.query.namespace;
      const items = view[part] as { namespace: string }[];
      return { [part]: namespace === undefined ? items : items.filter((i) => i.namespace === namespace) };
    });
  }
  // What is broken, for the teams that own it: files the source could not
  // read first (they hold no objects yet), then every object's problems.
  app.get<{ Querystring: { namespace?: string } }>('/portal/problems', async (request, reply) => {
    const translated = sources.translateProblems?.();
    if (!translated) return noTranslationYet(reply);
    const namespace = request.query.namespace;
    const all: readonly TranslateProblem[] = [...(sources.sourceProblems?.() ?? []), ...translated];
    return {
      problems:
        namespace === undefined ? all : all.filter((p) => p.objects.some((o) => o.namespace === namespace)),
    };
  });
  app.get('/metrics', async (_request, reply) =>
    reply.type(sources.registry.contentType).send(await sources.registry.metrics()),
  );
  return app;
}

/** The portal before the first translation: nothing to show yet. */
function noTranslationYet(reply: FastifyReply): FastifyReply {
  return reply
    .code(503)
    .type('application/json; charset=utf-8')
    .send(errorBody('PCS_NOT_READY', 'no translation yet'));
}
