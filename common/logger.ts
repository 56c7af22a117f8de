import { pino, type Logger, type LoggerOptions } from 'pino';

/**
 * Paths pino censors wherever they occur, so that a careless `log.info({ req })`
 * can never print a credential. The request path logs only chosen fields anyway;
 * this is the second line of defence.
 */
export const REDACT_PATHS = [
  'authorization',
  'cookie',
  'set-cookie',
  '*.authorization',
  '*.cookie',
  '*["set-cookie"]',
  '*.headers.authorization',
  '*.headers.cookie',
  '*.headers["proxy-authorization"]',
  'token',
  '*.token',
  'adminToken',
  '*.key',
  '*.client_secret',
  '*.client_jwk',
  '*.session_secret',
];

export function createLogger(options: { level?: string; name?: string } = {}): Logger {
  const config: LoggerOptions = {
    level: options.level ?? process.env.PORTCULLIS_LOG_LEVEL ?? 'info',
    base: { name: options.name ?? 'portcullis', pid: process.pid },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return pino(config);
}
