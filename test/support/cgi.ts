/**
 * How a CGI, WSGI, PHP or Rack server sees request headers (RFC 3875
 * §4.1.18): `HTTP_` + the name upper-cased with `-` turned into `_`, so
 * `X-Consumer-ID` and `X_Consumer_ID` land in the same variable; repeated
 * names are joined with `,` in arrival order, as Python's wsgiref does.
 * Applied to the raw headers an upstream received, it shows what such an
 * application would trust.
 */
export function cgiEnvironment(rawHeaders: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const key = `HTTP_${rawHeaders[i]!.toUpperCase().replace(/-/g, '_')}`;
    const value = rawHeaders[i + 1]!.trim();
    env[key] = key in env ? `${env[key]},${value}` : value;
  }
  return env;
}
