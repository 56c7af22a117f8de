import { randomBytes } from 'node:crypto';

/**
 * The key session cookies fall back to when a plugin config has no
 * `session_secret`. The primary picks one per proxy and hands it to every
 * worker, so a cookie issued by one worker is accepted by the others; set
 * it (or `session_secret`) to keep sessions across restarts and replicas.
 */
export const SESSION_SECRET_ENV = 'PORTCULLIS_SESSION_SECRET';

export function sessionFallbackSecret(): string {
  return process.env[SESSION_SECRET_ENV] || randomBytes(32).toString('base64url');
}
