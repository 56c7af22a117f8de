import { timingSafeEqual, createHash } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { ERRORS, errorBody } from '../common/errors.js';
import { parseJsonText, utf8Problem } from '../contract/json-text.js';
import type { ConfigService, PushResult, ReceivedConfig } from './config-service.js';

export interface AdminOptions {
  /** Required bearer token; undefined only when unauthenticated loopback use was allowed. */
  token: string | undefined;
  maxConfigBytes: number;
}

/** Compares digests so neither length nor content leaks through timing. */
function tokenMatches(expected: string, header: string | undefined): boolean {
  if (!header?.startsWith('Bearer ')) return false;
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(expected), digest(header.slice(7)));
}

/** The JSON parser's output; anything else (no body, another content type) is never a valid config. */
function received(body: unknown): ReceivedConfig {
  const parsed = body as Partial<ReceivedConfig> | undefined;
  return typeof parsed?.text === 'string' && typeof parsed.parse === 'function'
    ? { text: parsed.text, parse: parsed.parse }
    : { text: typeof body === 'string' ? body : '', parse: () => ({ ok: true, value: body }) };
}

/**
 * The admin API: `PUT /config` to push a compiled config, `PATCH /config` to
 * push a config patch, `GET /config` to see what is served.
 */
export function createAdminApp(service: ConfigService, options: AdminOptions): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: options.maxConfigBytes });

  // The config's hash is over the bytes received, so keep the text: bytes
  // that are not UTF-8 are refused here, so that it is their exact decoding.
  // Parsing stays Fastify's own (prototype-poisoning checks included), after
  // the duplicate-key and depth checks, but is left to the push, which first
  // hands the text to the workers to parse alongside.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    // parseAs 'buffer' always gives a Buffer; the type allows a string.
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    const notUtf8 = utf8Problem(bytes);
    if (notUtf8) return done(Object.assign(new Error(notUtf8.message), { statusCode: 400 }));
    const text = bytes.toString('utf8');
    const parse = () =>
      parseJsonText(bytes, text, () => {
        // Fastify's parser answers synchronously, with errors that do not quote the text.
        let result: { error: Error | null; value?: unknown } | undefined;
        parseJson(request, text, (error, value) => (result = { error, value }));
        if (!result || result.error) throw result?.error ?? new Error('the body could not be parsed');
        return result.value;
      });
    done(null, { text, parse } satisfies ReceivedConfig);
  });
  // Shutting down waits for the last accepted config to reach the state file.
  app.addHook('onClose', async () => service.persisted());

  app.addHook('onRequest', async (request, reply) => {
    if (options.token !== undefined && !tokenMatches(options.token, request.headers.authorization)) {
      return reply
        .code(401)
        .header('www-authenticate', 'Bearer realm="portcullis-admin"')
        .type('application/json')
        .send(errorBody('PCS_ADMIN_UNAUTHORIZED'));
    }
  });

  app.setErrorHandler((error, _request, reply) => {
    const tooLarge = (error as { code?: string }).code === 'FST_ERR_CTP_BODY_TOO_LARGE';
    const code = tooLarge ? 'PCS_CONFIG_TOO_LARGE' : 'PCS_CONFIG_INVALID';
    service.rejectUnreadable();
    reply
      .code(ERRORS[code].status)
      .type('application/json')
      .send({
        error: code,
        message: ERRORS[code].message,
        problems: [{ path: '/', message: (error as Error).message }],
      });
  });

  app.get('/config', async () => ({
    hash: service.hash ?? null,
    generation: service.generation,
    loadedAt: service.loadedAt?.toISOString() ?? null,
  }));

  const answer = (result: PushResult, reply: FastifyReply) => {
    if (result.ok) return { hash: result.hash, generation: result.generation, changed: result.changed };
    if ('problems' in result) {
      return reply.code(400).send({
        error: 'PCS_CONFIG_INVALID',
        message: ERRORS.PCS_CONFIG_INVALID.message,
        problems: result.problems,
      });
    }
    return reply.code(result.error.statusCode).send({
      error: result.error.code,
      message: result.error.message,
      ...(result.hash !== undefined ? { hash: result.hash } : {}),
    });
  };

  app.put('/config', async (request, reply) => answer(await service.push(received(request.body)), reply));
  app.patch('/config', async (request, reply) => answer(await service.patch(received(request.body)), reply));

  return app;
}
