/**
 * Whether a state-changing browser request (logout) comes from a page of
 * the proxy's own origin. Pure, so every case is a table row.
 */

type HeaderValue = string | string[] | undefined;

/** `Sec-Fetch-Site` values a same-origin page, or the user (address bar, bookmark), causes. */
const SAME_ORIGIN_SITES = new Set(['same-origin', 'none']);

/**
 * The browser's word, in order: `Sec-Fetch-Site` when sent (the browser's own
 * verdict, computed against the URL it requested, so it holds behind a
 * TLS-terminating load balancer too); else `Origin`, which must equal the
 * request's own origin (`null`, another scheme, host or port fail); else
 * nothing, which only non-browser clients send, and those cannot be driven
 * by another site. `same-site` fails: a sibling subdomain may be someone
 * else's. A repeated header (an array, or joined with a comma) fails.
 * `ownOrigin` is called only when needed: most requests never build it.
 */
export function isSameOriginRequest(
  headers: { 'sec-fetch-site'?: HeaderValue; origin?: HeaderValue },
  ownOrigin: () => string | undefined,
): boolean {
  const site = headers['sec-fetch-site'];
  if (site !== undefined) return typeof site === 'string' && SAME_ORIGIN_SITES.has(site.toLowerCase());
  const origin = headers.origin;
  if (origin === undefined) return true;
  if (typeof origin !== 'string') return false;
  const own = ownOrigin();
  return own !== undefined && origin === own;
}

/**
 * `proto://host[:port]` as a browser serialises an origin (lower-case host,
 * no default port), for the Host the proxy received; undefined when the
 * Host is not a valid host.
 */
export function requestOrigin(proto: 'http' | 'https', host: string | undefined): string | undefined {
  if (!host) return undefined;
  try {
    const url = new URL(`${proto}://${host}`);
    // A Host with a path, credentials or query is not a host[:port].
    if (url.host !== host.toLowerCase().replace(proto === 'https' ? /:443$/ : /:80$/, '')) return undefined;
    return url.origin;
  } catch {
    return undefined;
  }
}
