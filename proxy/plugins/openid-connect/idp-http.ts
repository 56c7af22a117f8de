import { Agent, fetch, type Response } from 'undici';
import { PortcullisError } from '../../../common/errors.js';
import type { IdpEndpoint, OidcMetrics } from './metrics.js';

export interface IdpHttpOptions {
  issuer: string;
  /** Milliseconds for the whole exchange (Kong's `timeout`). */
  timeout: number;
  sslVerify: boolean;
  metrics: OidcMetrics;
}

/** IdP answers larger than this are refused: discovery and JWKS documents are a few KB. */
const MAX_RESPONSE_BYTES = 1024 * 1024;

/**
 * The HTTP client for one identity provider: one keep-alive agent, a
 * timeout on every call, TLS verification per `ssl_verify`, and a metric
 * for each call. Also the `fetch` openid-client uses, so token and
 * introspection calls go through the same agent and metrics.
 */
export class IdpHttp {
  readonly #options: IdpHttpOptions;
  readonly #agent: Agent;

  constructor(options: IdpHttpOptions) {
    this.#options = options;
    this.#agent = new Agent({
      connect: { rejectUnauthorized: options.sslVerify, timeout: options.timeout },
      keepAliveTimeout: 30_000,
      connections: 32,
    });
  }

  /** GET a JSON document; throws PCS_IDP_UNAVAILABLE for network errors, non-2xx answers and bad JSON. */
  async getJson(url: string, endpoint: IdpEndpoint): Promise<unknown> {
    const answer = await this.getJsonAnswer(url, endpoint);
    if (!answer.ok) throw new PortcullisError('PCS_IDP_UNAVAILABLE', `${endpoint} answered ${answer.status}`);
    return answer.json;
  }

  /**
   * GET a JSON document, with the status of a non-2xx answer (its body
   * unread) for callers that tell a refusal from an outage; network errors
   * and bad JSON throw PCS_IDP_UNAVAILABLE.
   */
  async getJsonAnswer(
    url: string,
    endpoint: IdpEndpoint,
    headers: Record<string, string> = {},
  ): Promise<{ ok: true; json: unknown } | { ok: false; status: number }> {
    const response = await this.fetch(endpoint, url, { headers: { accept: 'application/json', ...headers } });
    if (!response.ok) {
      await response.body?.cancel();
      return { ok: false, status: response.status };
    }
    const text = await readLimited(response);
    try {
      return { ok: true, json: JSON.parse(text) as unknown };
    } catch {
      throw new PortcullisError('PCS_IDP_UNAVAILABLE', `${endpoint} did not answer JSON`);
    }
  }

  /** A fetch for one endpoint, timed and counted. */
  async fetch(endpoint: IdpEndpoint, url: string, init: RequestInit & object = {}): Promise<Response> {
    const started = performance.now();
    const seconds = () => (performance.now() - started) / 1000;
    try {
      const response = await fetch(url, {
        ...(init as object),
        redirect: 'manual',
        dispatcher: this.#agent,
        // openid-client passes its own signal; either one ends the call.
        signal: init.signal
          ? AbortSignal.any([init.signal, AbortSignal.timeout(this.#options.timeout)])
          : AbortSignal.timeout(this.#options.timeout),
      });
      this.#options.metrics.idpRequest(
        this.#options.issuer,
        endpoint,
        response.status < 500 ? 'ok' : 'error',
        seconds(),
      );
      return response;
    } catch (error) {
      const outcome = (error as Error).name === 'TimeoutError' ? 'timeout' : 'unreachable';
      this.#options.metrics.idpRequest(this.#options.issuer, endpoint, outcome, seconds());
      throw new PortcullisError('PCS_IDP_UNAVAILABLE', `${endpoint} ${outcome}`, { cause: error });
    }
  }

  /** A WHATWG fetch for openid-client, labelled by the endpoint the URL is. */
  fetchFor(endpoint: IdpEndpoint): typeof globalThis.fetch {
    return ((url: string | URL, init?: RequestInit) =>
      this.fetch(endpoint, String(url), init ?? {})) as unknown as typeof globalThis.fetch;
  }
}

async function readLimited(response: Response): Promise<string> {
  const length = Number(response.headers.get('content-length') ?? 0);
  if (length > MAX_RESPONSE_BYTES) {
    await response.body?.cancel();
    throw new PortcullisError('PCS_IDP_UNAVAILABLE', 'answer too large');
  }
  const text = await response.text();
  if (text.length > MAX_RESPONSE_BYTES) throw new PortcullisError('PCS_IDP_UNAVAILABLE', 'answer too large');
  return text;
}
