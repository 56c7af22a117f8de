/**
 * Host header normalisation, so that a request's host compares equal to the
 * lower-case names in the CompiledConfig.
 */

const DOT = 0x2e;
const OPEN_BRACKET = 0x5b;

/**
 * The Host header as a lookup key: lower-cased, without `:port`, without one
 * trailing dot (`Example.COM.:8443` → `example.com`). An IPv6 literal keeps
 * its brackets (`[::1]:8000` → `[::1]`); it can only match the catch-all
 * host, since config host names are DNS names. '' when the header is absent.
 */
export function normalizeHost(hostHeader: string | undefined): string {
  if (!hostHeader) return '';
  const host = hostHeader.toLowerCase();
  if (host.charCodeAt(0) === OPEN_BRACKET) {
    const close = host.indexOf(']');
    // A malformed literal is left whole: no config name can equal it.
    return close === -1 ? host : host.slice(0, close + 1);
  }
  const colon = host.indexOf(':');
  const name = colon === -1 ? host : host.slice(0, colon);
  return name.charCodeAt(name.length - 1) === DOT ? name.slice(0, -1) : name;
}
