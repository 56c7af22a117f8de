import type { IncomingMessage } from 'node:http';

/** Forms larger than this are never read by a plugin: credentials fit in a few KB. */
export const MAX_FORM_BYTES = 64 * 1024;

/**
 * Reads a small `application/x-www-form-urlencoded` request body so a
 * plugin can look for credentials in it, and returns the bytes too: the
 * stream is consumed, so they (or an edited copy) must be what goes
 * upstream. Anything else (other types, no declared length, too large) is
 * left unread: undefined.
 */
export async function readFormBody(
  req: IncomingMessage,
): Promise<{ bytes: Buffer; params: URLSearchParams } | undefined> {
  const type = req.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  const length = Number(req.headers['content-length']);
  if (type !== 'application/x-www-form-urlencoded' || !Number.isInteger(length) || length > MAX_FORM_BYTES) {
    return undefined;
  }
  if (req.headers['transfer-encoding'] !== undefined) return undefined;
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req) {
    total += (chunk as Buffer).length;
    if (total > MAX_FORM_BYTES) throw new Error('form body longer than its content-length');
    chunks.push(chunk as Buffer);
  }
  const bytes = Buffer.concat(chunks);
  return { bytes, params: new URLSearchParams(bytes.toString('utf8')) };
}
