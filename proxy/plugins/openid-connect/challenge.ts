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

function quoted(value: string): string {
  return value.replace(/["\\\r\n]/g, '');
}
