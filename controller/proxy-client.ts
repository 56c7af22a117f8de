/**
 * Talks to one proxy's admin API: PUT /config to hand it a compiled config,
 * GET /config to learn which hash it serves (a restarted or replaced proxy
 * shows up as a different hash). No retries here: the sync loop owns
 * backoff, so that one slow proxy never holds up another.
 */
import { request } from 'undici';
import { PortcullisError } from '../common/errors.js';

export interface PushAnswer {
  /** The hash the proxy computed for what it now serves. */
  hash: string;
  changed: boolean;
}

/** What the sync loop needs from a proxy; tests pass fakes. */
export interface ProxyAdmin {
  /** For logs and metric labels. */
  readonly name: string;
  /** `body` is the config already serialised, once for every proxy. */
  push(body: string): Promise<PushAnswer>;
  /**
   * `body` is a ConfigPatch (contract/config-patch.ts) as JSON. A proxy that
   * cannot apply it (it serves another config, or the result would differ)
   * answers 409: push the whole config instead.
   */
  patch(body: string): Promise<PushAnswer>;
  /** The hash in service, or null when the proxy has no config yet. */
  currentHash(): Promise<string | null>;
}

export interface ProxyClientOptions {
  /** Base URL of the admin API, e.g. `http://127.0.0.1:8001`. */
  url: string;
  token?: string;
  /** The proxy answers a push only after every worker swapped (it gives up at 15 s). */
  pushTimeoutMs?: number;
  readTimeoutMs?: number;
}

export class ProxyClient implements ProxyAdmin {
  readonly name: string;
  readonly #base: URL;
  readonly #headers: Record<string, string>;
  readonly #pushTimeoutMs: number;
  readonly #readTimeoutMs: number;

  constructor(options: ProxyClientOptions) {
    this.#base = new URL(options.url);
    this.name = this.#base.origin + this.#base.pathname.replace(/\/$/, '');
    this.#headers = options.token ? { authorization: `Bearer ${options.token}` } : {};
    this.#pushTimeoutMs = options.pushTimeoutMs ?? 30_000;
    this.#readTimeoutMs = options.readTimeoutMs ?? 5_000;
  }

  push(body: string): Promise<PushAnswer> {
    return this.#send('PUT', body);
  }

  patch(body: string): Promise<PushAnswer> {
    return this.#send('PATCH', body);
  }

  async #send(method: 'PUT' | 'PATCH', body: string): Promise<PushAnswer> {
    const res = await request(this.#url('config'), {
      method,
      headers: { ...this.#headers, 'content-type': 'application/json' },
      body,
      headersTimeout: this.#pushTimeoutMs,
      bodyTimeout: this.#pushTimeoutMs,
    });
    const answer = (await res.body.json().catch(() => ({}))) as Record<string, unknown>;
    if (res.statusCode === 200 && typeof answer.hash === 'string') {
      return { hash: answer.hash, changed: answer.changed === true };
    }
    throw new ProxyAnswerError(res.statusCode, answer);
  }

  async currentHash(): Promise<string | null> {
    const res = await request(this.#url('config'), {
      headers: this.#headers,
      headersTimeout: this.#readTimeoutMs,
      bodyTimeout: this.#readTimeoutMs,
    });
    const answer = (await res.body.json().catch(() => ({}))) as Record<string, unknown>;
    if (res.statusCode !== 200) throw new ProxyAnswerError(res.statusCode, answer);
    return typeof answer.hash === 'string' ? answer.hash : null;
  }

  #url(path: string): URL {
    return new URL(path, this.#base.href.endsWith('/') ? this.#base : this.#base.href + '/');
  }
}

/** A proxy answered, but not with success; `rejected` means it found the config invalid. */
export class ProxyAnswerError extends PortcullisError {
  readonly status: number;
  readonly answer: Record<string, unknown>;

  constructor(status: number, answer: Record<string, unknown>) {
    const code = typeof answer.error === 'string' ? answer.error : 'no error code';
    super('PCS_PROXY_PUSH_FAILED', `HTTP ${status} (${code})`);
    this.status = status;
    this.answer = answer;
  }

  get rejected(): boolean {
    return this.status === 400 || this.status === 413;
  }

  /** A patch the proxy could not apply (409): the whole config will do. */
  get patchRefused(): boolean {
    return this.status === 409 || this.patchUnsupported;
  }

  /** A proxy that does not know PATCH /config (an older version). */
  get patchUnsupported(): boolean {
    return this.status === 404 || this.status === 405;
  }
}
