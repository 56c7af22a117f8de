import type { IncomingMessage, ServerResponse } from 'node:http';

/** Forms larger than this are never read by a plugin: credentials fit in a few KB. */
export const MAX_FORM_BYTES = 64 * 1024;

/** Requests whose `100 Continue` the traffic servers hold back, with the response to send it on. */
const heldContinues = new WeakMap<IncomingMessage, ServerResponse>();

/**
 * Holds back the `100 Continue` a request expects (Node would send it at
 * once, before any plugin ran): the client then sends its body only to a
 * request that will be forwarded, or whose body a plugin must read.
 */
export function holdContinue(req: IncomingMessage, res: ServerResponse): void {
  heldContinues.set(req, res);
}

/** Sends the held-back `100 Continue` of `req`, once; nothing if it expects none. */
export function sendContinue(req: IncomingMessage): void {
  const res = heldContinues.get(req);
  if (res === undefined) return;
  heldContinues.delete(req);
  if (!res.headersSent) res.writeContinue();
}

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
  sendContinue(req);
  const bytes = await readAll(req, MAX_FORM_BYTES);
  return { bytes, params: new URLSearchParams(bytes.toString('utf8')) };
}

/**
 * The whole body, read in flowing mode: `resume` is what the body guard
 * (proxy/traffic/request-body.ts) sees as the proxy starting to read, so
 * the body read timeout covers a plugin's read too.
 */
function readAll(req: IncomingMessage, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const done = (error?: Error) => {
      req.off('data', onData).off('end', onEnd).off('error', onGone).off('close', onGone);
      if (error) reject(error);
      else resolve(Buffer.concat(chunks, total));
    };
    const onData = (chunk: Buffer) => {
      total += chunk.length;
      if (total > max) done(new Error('form body longer than its content-length'));
      else chunks.push(chunk);
    };
    const onEnd = () => done();
    const onGone = () => done(new Error('the request ended before its form body'));
    req.on('data', onData).on('end', onEnd).on('error', onGone).on('close', onGone);
    req.resume();
  });
}
