/**
 * The one catalog of coded errors. Every error a client, an operator or a
 * test can observe has a stable code here; messages never contain request
 * data, so they are safe to log and to send.
 */
export const ERRORS = {
  PCS_ROUTE_NOT_FOUND: { status: 404, message: 'no route matches the request' },
  PCS_BAD_REQUEST_TARGET: { status: 400, message: 'the request target is not an origin-form path' },
  PCS_BAD_PATH: { status: 400, message: 'the request path contains a forbidden character or encoding' },
  PCS_BAD_HOST: { status: 400, message: 'the Host header is not a valid host[:port]' },
  PCS_REQUEST_BODY_TOO_LARGE: { status: 413, message: 'the request body is larger than this route accepts' },
  PCS_REQUEST_BODY_TIMEOUT: { status: 408, message: 'the request body was not received in time' },
  PCS_ROUTE_UNAVAILABLE: {
    status: 503,
    message: 'the route is unavailable because its configuration is broken',
  },
  PCS_NO_UPSTREAM_TARGETS: { status: 503, message: 'the service has no ready endpoints' },
  PCS_UPSTREAM_CONNECT_FAILED: { status: 502, message: 'could not connect to the upstream service' },
  PCS_UPSTREAM_TIMEOUT: { status: 504, message: 'the upstream service did not answer in time' },
  PCS_UPSTREAM_ERROR: { status: 502, message: 'the upstream service failed' },
  PCS_UPSTREAM_TLS_UNVERIFIED: {
    status: 502,
    message: "the upstream service's TLS certificate did not verify; the request was not sent",
  },
  PCS_PROTOCOL_NOT_ALLOWED: { status: 426, message: 'this route requires https' },
  PCS_PLUGIN_FAILED: { status: 503, message: 'an access check failed; the request was not forwarded' },
  PCS_IDP_UNAVAILABLE: {
    status: 503,
    message: 'the identity provider could not be reached and no cached answer can be used',
  },
  PCS_IDP_OVERLOADED: {
    status: 503,
    message: 'too many identity provider calls are in progress for this route; retry shortly',
  },
  PCS_LOGOUT_CROSS_SITE: { status: 403, message: 'logout is only accepted from the same origin' },
  PCS_INTERNAL: { status: 500, message: 'internal error' },
  PCS_CONFIG_INVALID: { status: 400, message: 'the compiled config is invalid' },
  PCS_CONFIG_TOO_LARGE: { status: 413, message: 'the compiled config is too large' },
  PCS_CONFIG_PATCH_BASE_MISMATCH: {
    status: 409,
    message: 'the config patch is not based on the config in service; send the whole config',
  },
  PCS_CONFIG_PATCH_MISMATCH: {
    status: 409,
    message: 'the patched config is not the one the patch names (its hash differs); send the whole config',
  },
  PCS_ADMIN_UNAUTHORIZED: { status: 401, message: 'a valid admin bearer token is required' },
  PCS_NOT_READY: { status: 503, message: 'no config is loaded yet' },
  PCS_SHUTTING_DOWN: {
    status: 503,
    message: 'the proxy is shutting down and no longer takes requests; retry on another instance',
  },
  PCS_APPLY_TIMEOUT: { status: 503, message: 'the workers did not apply the config in time' },
  PCS_STARTUP: { status: 500, message: 'the process could not start' },
  PCS_PROXY_PUSH_FAILED: { status: 502, message: 'the proxy admin API did not accept the request' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERRORS;

export class PortcullisError extends Error {
  readonly code: ErrorCode;
  readonly statusCode: number;

  constructor(code: ErrorCode, detail?: string, options?: { cause?: unknown }) {
    super(detail ? `${ERRORS[code].message}: ${detail}` : ERRORS[code].message, options);
    this.name = 'PortcullisError';
    this.code = code;
    this.statusCode = ERRORS[code].status;
  }
}

/** The JSON body clients receive for a code: `{ error, message }`. */
export function errorBody(code: ErrorCode, message: string = ERRORS[code].message): string {
  return JSON.stringify({ error: code, message });
}

/** Bodies for the codes the request path answers with, serialised once. */
export const ERROR_BODIES: Readonly<Record<ErrorCode, string>> = Object.fromEntries(
  Object.keys(ERRORS).map((code) => [code, errorBody(code as ErrorCode)]),
) as Record<ErrorCode, string>;
