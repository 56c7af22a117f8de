import type { IncomingHttpHeaders } from 'node:http';
import type { OpenIdConnectConfig } from '../../../contract/plugins/openid-connect.js';

/**
 * The answers the plugin refuses a request with, per RFC 6750 §3: 401 with
 * `WWW-Authenticate: Bearer` and `error="invalid_token"` when a credential
 * was presented and is bad (no error code when none was presented), 403
 * with `insufficient_scope`, 400 `invalid_request` for ambiguous credentials.
 * The body is Kong's `{"message": ...}`; never the token, never a stack.
 */
export type Refusal =
  | { status: 401; error?: 'invalid_token'; message: string }
  | { status: 403; error?: 'insufficient_scope'; message: string }
  | { status: 400; error: 'invalid_request'; message: string };

export interface RefusalResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export function refusalResponse(refusal: Refusal, realm: string): RefusalResponse {
  const parameters = [`realm="${quoted(realm)}"`];
  if (refusal.error) parameters.push(`error="${refusal.error}"`);
  const headers: Record<string, string> = {
    'content-type': 'application/json; charset=utf-8',
    'cache-control': 'no-store',
  };
  if (refusal.status !== 403 || refusal.error)
    headers['www-authenticate'] = `Bearer ${parameters.join(', ')}`;
  return { status: refusal.status, headers, body: JSON.stringify({ message: refusal.message }) };
}

type RedirectFields = Pick<
  OpenIdConnectConfig,
  'unauthorized_redirect_uri' | 'forbidden_redirect_uri' | 'unexpected_redirect_uri'
>;

/**
 * Kong's `unauthorized_redirect_uri` (401), `forbidden_redirect_uri` (403)
 * and `unexpected_redirect_uri` (the plugin's 503s): where a refused browser
 * is sent instead, the first URL of the list (one client). Only a page a
 * browser asked for (`Accept: text/html`) is redirected: an API client keeps
 * the status and its `WWW-Authenticate` challenge, which a 302 to an HTML
 * page would hide from it. A 400 (ambiguous credentials) is never redirected.
 */
export function refusalRedirect(
  config: RedirectFields,
  status: number,
  headers: IncomingHttpHeaders,
): string | undefined {
  const targets =
    status === 401
      ? config.unauthorized_redirect_uri
      : status === 403
        ? config.forbidden_redirect_uri
        : status === 503
          ? config.unexpected_redirect_uri
          : undefined;
  const target = targets?.[0];
  return target !== undefined && acceptsHtml(headers) ? target : undefined;
}

/** Whether the request is a browser's for a page (login and refusal redirects are for those only). */
export function acceptsHtml(headers: IncomingHttpHeaders): boolean {
  return (headers.accept ?? '').toLowerCase().includes('text/html');
}

/**
 * The redirect answering a refusal: to the configured URL exactly, with
 * nothing of the request added (no open redirect), never cached.
 */
export function redirectResponse(location: string): RefusalResponse {
  return { status: 302, headers: { location, 'cache-control': 'no-store' }, body: '' };
}

function quoted(value: string): string {
  return value.replace(/["\\\r\n]/g, '');
}
