import { availableParallelism } from 'node:os';
import { Command, Option } from 'commander';
import {
  bindAddress,
  byteSize,
  cidrList,
  LOG_LEVELS,
  nonNegativeInt,
  port,
  positiveInt,
  readableFile,
} from '../cli/flag-parsers.js';

/** Everything `portcullis proxy` can be told, by flag or environment variable. */
export interface ProxyOptions {
  address: string;
  httpPort: number;
  httpsPort: number;
  adminAddress: string;
  adminPort: number;
  adminTokenFile?: string;
  allowUnauthenticatedAdmin: boolean;
  statusAddress: string;
  statusPort: number;
  config?: string;
  stateDir?: string;
  workers: number;
  trustedProxies: string[];
  accessLog: boolean;
  /** Bytes; 0 is no limit. A route's maxRequestBodySize wins. */
  maxRequestBodySize: number;
  /** Milliseconds; 0 is no timeout. */
  clientBodyTimeout: number;
  logLevel: string;
  httpsRedirectPort: number;
  maxConfigBytes: number;
  /** Per openid-connect plugin instance per worker: IdP calls in flight at once. */
  oidcIdpMaxConcurrent: number;
  /** Per openid-connect plugin instance per worker: sustained new IdP calls per second. */
  oidcIdpRate: number;
  /** Per openid-connect plugin instance per worker: IdP calls allowed at once after a quiet period. */
  oidcIdpBurst: number;
  /** Milliseconds from SIGTERM to exit at most: the delay below, then requests in flight finish. */
  drainTimeout: number;
  /** Milliseconds between SIGTERM (readiness fails at once) and closing the traffic listeners. */
  shutdownDelay: number;
  /** Set by `portcullis run`: shut down when the parent's IPC channel closes (the parent died). */
  exitWithParent: boolean;
}

/** Adds the proxy's options to a command; shared by `proxy` and, later, `run`. */
export function addProxyOptions(command: Command): Command {
  const opt = (flags: string, description: string, env: string) => new Option(flags, description).env(env);
  return command
    .addOption(
      opt('--address <ip>', 'traffic bind address', 'PORTCULLIS_ADDRESS')
        .argParser(bindAddress)
        .default('0.0.0.0'),
    )
    .addOption(
      opt('--http-port <port>', 'HTTP traffic port', 'PORTCULLIS_HTTP_PORT').argParser(port).default(8000),
    )
    .addOption(
      opt('--https-port <port>', 'HTTPS traffic port', 'PORTCULLIS_HTTPS_PORT').argParser(port).default(8443),
    )
    .addOption(
      opt('--admin-address <ip>', 'admin API bind address', 'PORTCULLIS_ADMIN_ADDRESS')
        .argParser(bindAddress)
        .default('127.0.0.1'),
    )
    .addOption(
      opt('--admin-port <port>', 'admin API port (config push)', 'PORTCULLIS_ADMIN_PORT')
        .argParser(port)
        .default(8001),
    )
    .addOption(
      opt(
        '--admin-token-file <file>',
        'file holding the admin bearer token (or set PORTCULLIS_ADMIN_TOKEN)',
        'PORTCULLIS_ADMIN_TOKEN_FILE',
      ).argParser(readableFile),
    )
    .addOption(
      opt(
        '--allow-unauthenticated-admin',
        'allow the admin API without a token (only when bound to loopback)',
        'PORTCULLIS_ALLOW_UNAUTHENTICATED_ADMIN',
      ).default(false),
    )
    .addOption(
      opt('--status-address <ip>', 'status bind address', 'PORTCULLIS_STATUS_ADDRESS')
        .argParser(bindAddress)
        .default('0.0.0.0'),
    )
    .addOption(
      opt('--status-port <port>', 'status port: /healthz, /readyz, /metrics', 'PORTCULLIS_STATUS_PORT')
        .argParser(port)
        .default(8100),
    )
    .addOption(
      opt('--config <file>', 'compiled config (JSON) to load at start', 'PORTCULLIS_CONFIG').argParser(
        readableFile,
      ),
    )
    .addOption(opt('--state-dir <dir>', 'where the last known good config is kept', 'PORTCULLIS_STATE_DIR'))
    .addOption(
      opt('--workers <n>', 'worker processes', 'PORTCULLIS_WORKERS')
        .argParser(positiveInt)
        .default(availableParallelism(), 'number of CPUs'),
    )
    .addOption(
      opt(
        '--trusted-proxies <cidrs>',
        'comma-separated peers whose X-Forwarded-* headers are trusted',
        'PORTCULLIS_TRUSTED_PROXIES',
      )
        .argParser(cidrList)
        .default([]),
    )
    .addOption(
      opt('--access-log', 'write a JSON access log line per request', 'PORTCULLIS_ACCESS_LOG').default(false),
    )
    .addOption(
      opt(
        '--max-request-body-size <size>',
        'largest request body, unless a route sets its own: bytes or k, m, g (nginx syntax); 0: no limit',
        'PORTCULLIS_MAX_REQUEST_BODY_SIZE',
      )
        .argParser(byteSize)
        .default(1024 * 1024, '1m'),
    )
    .addOption(
      opt(
        '--client-body-timeout <ms>',
        'longest pause between two reads of a request body; 0: none',
        'PORTCULLIS_CLIENT_BODY_TIMEOUT',
      )
        .argParser(nonNegativeInt)
        .default(60_000),
    )
    .addOption(
      opt('--log-level <level>', 'log lines at this level and above', 'PORTCULLIS_LOG_LEVEL')
        .choices(LOG_LEVELS)
        .default('info'),
    )
    .addOption(
      opt('--https-redirect-port <port>', 'port put in https redirects', 'PORTCULLIS_HTTPS_REDIRECT_PORT')
        .argParser(port)
        .default(443),
    )
    .addOption(
      opt('--max-config-bytes <n>', 'largest accepted config push', 'PORTCULLIS_MAX_CONFIG_BYTES')
        .argParser(positiveInt)
        .default(64 * 1024 * 1024),
    )
    .addOption(
      opt(
        '--oidc-idp-max-concurrent <n>',
        'openid-connect: IdP token/introspection calls in flight per plugin instance per worker',
        'PORTCULLIS_OIDC_IDP_MAX_CONCURRENT',
      )
        .argParser(positiveInt)
        .default(32),
    )
    .addOption(
      opt(
        '--oidc-idp-rate <n>',
        'openid-connect: new IdP token/introspection calls per second per plugin instance per worker',
        'PORTCULLIS_OIDC_IDP_RATE',
      )
        .argParser(positiveInt)
        .default(50),
    )
    .addOption(
      opt(
        '--oidc-idp-burst <n>',
        'openid-connect: IdP calls allowed at once after a quiet period (token bucket size)',
        'PORTCULLIS_OIDC_IDP_BURST',
      )
        .argParser(positiveInt)
        .default(100),
    )
    .addOption(
      opt(
        '--drain-timeout <ms>',
        'on SIGTERM, longest time until exit: the shutdown delay, then requests in flight finish',
        'PORTCULLIS_DRAIN_TIMEOUT',
      )
        .argParser(positiveInt)
        // Fits Kubernetes' default terminationGracePeriodSeconds (30 s) with room to spare.
        .default(25_000),
    )
    .addOption(
      opt(
        '--shutdown-delay <ms>',
        'on SIGTERM, keep serving this long with /readyz failing (endpoint propagation) before closing the traffic ports',
        'PORTCULLIS_SHUTDOWN_DELAY',
      )
        .argParser(nonNegativeInt)
        .default(0),
    )
    .addOption(
      new Option('--exit-with-parent', 'shut down when the parent process exits (set by portcullis run)')
        .default(false)
        .hideHelp(),
    );
}

/** Commander stores env-provided booleans as strings; normalise them. */
export function normaliseProxyOptions(raw: Record<string, unknown>): ProxyOptions {
  const bool = (v: unknown) => v === true || v === 'true' || v === '1';
  return {
    ...(raw as unknown as ProxyOptions),
    allowUnauthenticatedAdmin: bool(raw.allowUnauthenticatedAdmin),
    accessLog: bool(raw.accessLog),
    exitWithParent: bool(raw.exitWithParent),
  };
}
