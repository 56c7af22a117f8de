/**
 * Where a browser login's authorization response is read from, by the
 * response mode the proxy asked the IdP for. Pure, so every case is a table
 * row.
 */

export type ResponseMode = 'query' | 'form_post';

/**
 * The authorization response parameters of a request, when it carries one:
 * `state` with `code` or `error`, in the query of a request for `query`, in
 * the form body of a POST for `form_post`. Only the mode asked for counts:
 * a `form_post` login takes no code from a URL (where it would be logged),
 * and a `query` login none from a body.
 */
export function authorizationResponse(
  mode: ResponseMode,
  method: string,
  params: { query: URLSearchParams; body?: URLSearchParams | undefined },
): URLSearchParams | undefined {
  const response = mode === 'form_post' ? (method === 'POST' ? params.body : undefined) : params.query;
  if (!response?.has('state') || !(response.has('code') || response.has('error'))) return undefined;
  return response;
}
