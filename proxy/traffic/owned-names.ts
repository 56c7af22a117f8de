/**
 * The request header and cookie names that belong to the proxy in one
 * config: what some plugin instance may set upstream (identity, claim and
 * token headers) or keeps in the browser (session and login cookies). A
 * client never gets them to an upstream, on any route, in any spelling.
 * Built once per config; the checks run on every forwarded request.
 */

/** What one plugin instance claims as its own. */
export interface PluginNames {
  /** Header names it may set upstream, any case. */
  headers: readonly string[];
  /** Cookie names it keeps in the browser; `name_2`, `name_3`, … (chunks) are included. */
  cookies: readonly string[];
}

/**
 * The client's own credential header. It stays the upstream's business on
 * routes whose plugins never set it; on routes whose plugins may, it is the
 * proxy's like any other owned name.
 */
const ROUTE_SCOPED = new Set(['authorization']);

/** OWS around a cookie pair's name (RFC 6265 §5.2 trims it; so do servers). */
const OWS = /^[ \t]+|[ \t]+$/g;
/** A cookie chunk name's suffix: `session_2` is a chunk of `session`. */
const CHUNK = /_\d+$/;

export class OwnedNames {
  static readonly NONE = new OwnedNames(new Set(), new Set());

  /** Canonical names: lower case, `_` read as `-`. */
  readonly #headers: ReadonlySet<string>;
  readonly #cookies: ReadonlySet<string>;

  private constructor(headers: ReadonlySet<string>, cookies: ReadonlySet<string>) {
    this.#headers = headers;
    this.#cookies = cookies;
  }

  /** The names every route protects: all instances' headers (but Authorization) and cookies. */
  static forConfig(instances: Iterable<PluginNames>): OwnedNames {
    const headers = new Set<string>();
    const cookies = new Set<string>();
    for (const instance of instances) {
      for (const name of instance.headers) {
        const canonical = canonicalHeaderName(name.toLowerCase());
        if (!ROUTE_SCOPED.has(canonical)) headers.add(canonical);
      }
      for (const name of instance.cookies) cookies.add(name);
    }
    return headers.size === 0 && cookies.size === 0 ? OwnedNames.NONE : new OwnedNames(headers, cookies);
  }

  /** These names plus the route-scoped headers (Authorization) that the route's own plugins may set. */
  forRoute(plugins: Iterable<PluginNames>): OwnedNames {
    let added: Set<string> | undefined;
    for (const plugin of plugins) {
      for (const name of plugin.headers) {
        const canonical = canonicalHeaderName(name.toLowerCase());
        if (!this.#headers.has(canonical) && ROUTE_SCOPED.has(canonical))
          (added ??= new Set()).add(canonical);
      }
    }
    return added ? new OwnedNames(new Set([...this.#headers, ...added]), this.#cookies) : this;
  }

  /** Whether a header the client sent (`canonical`: see canonicalHeaderName) is the proxy's. */
  ownsHeader(canonical: string): boolean {
    return this.#headers.has(canonical);
  }

  /**
   * The Cookie header without the proxy's cookies (and their chunks), or
   * undefined when nothing is left. A pair's name is read as servers read
   * it, trimmed of spaces and tabs, so `session =x` is removed too.
   */
  withoutOwnedCookies(header: string): string | undefined {
    if (this.#cookies.size === 0) return header;
    let mentioned = false;
    for (const name of this.#cookies) {
      if (header.includes(name)) {
        mentioned = true;
        break;
      }
    }
    if (!mentioned) return header;
    return withoutCookies(header, (name) => this.#ownsCookie(name));
  }

  #ownsCookie(name: string): boolean {
    return this.#cookies.has(name) || (CHUNK.test(name) && this.#cookies.has(name.replace(CHUNK, '')));
  }
}

/**
 * A lower-case header name as CGI, WSGI, PHP and Rack servers read it:
 * `X_Consumer_ID` and `X-Consumer-ID` are the same variable there, so they
 * are the same name here.
 */
export function canonicalHeaderName(lowerCase: string): string {
  return lowerCase.indexOf('_') === -1 ? lowerCase : lowerCase.replaceAll('_', '-');
}

/**
 * The Cookie header without the pairs whose name `drop` picks, or undefined
 * when nothing is left. A pair's name is read as servers read it, trimmed of
 * spaces and tabs.
 */
export function withoutCookies(header: string, drop: (name: string) => boolean): string | undefined {
  const kept: string[] = [];
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    const name = (eq === -1 ? pair : pair.slice(0, eq)).replace(OWS, '');
    if (name === '' && eq === -1) continue;
    if (drop(name)) continue;
    kept.push(pair.replace(OWS, ''));
  }
  return kept.length > 0 ? kept.join('; ') : undefined;
}
