import type { IncomingHttpHeaders } from 'node:http';
import type { BearerParamType, ParamType } from '../../../contract/plugins/openid-connect.js';
import { cookieValues } from './cookies.js';

/**
 * Finding credentials in a request, per Kong's `*_param_type` settings.
 * Pure: it reads a view of the request and never touches the network.
 */

/** What the credential search may read of a request. */
export interface RequestView {
  headers: IncomingHttpHeaders;
  /** Node keeps only the first `Authorization`; duplicates are visible here. */
  rawHeaders: readonly string[];
  query: URLSearchParams;
  /** Form body parameters, when the body was read (form-encoded, small). */
  body?: URLSearchParams;
}

/** Where a credential came from, so `hide_credentials` can remove it. */
export type Location =
  { in: 'header'; name: string } | { in: 'cookie'; name: string } | { in: 'query' | 'body'; names: string[] };

export type Found<T> = { ok: true; value: T; location: Location } | { ok: false; problem: CredentialProblem };
export type CredentialProblem = 'duplicate' | 'malformed';

/** RFC 6750 §2.1 b64token, bounded: real access tokens are a few KB at most. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
export const MAX_TOKEN_LENGTH = 8192;

/**
 * The request's bearer token, if any. A request that carries one in more
 * than one place, or more than one Authorization header, is refused rather
 * than guessed at (RFC 6750 §2: clients MUST NOT use more than one method).
 */
export function findBearerToken(
  view: RequestView,
  types: readonly BearerParamType[],
  cookieName?: string,
): Found<string> | undefined {
  const candidates: { token: string; location: Location }[] = [];
  if (types.includes('header')) {
    const authorization = authorizationHeader(view);
    if (authorization === 'duplicate') return { ok: false, problem: 'duplicate' };
    const scheme = authorization && schemeOf(authorization);
    if (scheme && scheme.scheme === 'bearer') {
      candidates.push({ token: scheme.rest, location: { in: 'header', name: 'authorization' } });
    }
    for (const name of ['access-token', 'x-access-token']) {
      const value = view.headers[name];
      if (typeof value === 'string')
        candidates.push({ token: value.trim(), location: { in: 'header', name } });
    }
  }
  for (const where of ['query', 'body'] as const) {
    if (!types.includes(where)) continue;
    const params = where === 'query' ? view.query : view.body;
    const values = params?.getAll('access_token') ?? [];
    if (values.length > 1) return { ok: false, problem: 'duplicate' };
    if (values.length === 1)
      candidates.push({ token: values[0]!, location: { in: where, names: ['access_token'] } });
  }
  if (cookieName && types.includes('cookie')) {
    const values = cookieValues(view.headers.cookie, cookieName);
    if (values.length > 1) return { ok: false, problem: 'duplicate' };
    if (values.length === 1)
      candidates.push({ token: values[0]!, location: { in: 'cookie', name: cookieName } });
  }
  if (candidates.length === 0) return undefined;
  if (candidates.length > 1) return { ok: false, problem: 'duplicate' };
  const { token, location } = candidates[0]!;
  if (token.length === 0 || token.length > MAX_TOKEN_LENGTH || !B64TOKEN.test(token)) {
    return { ok: false, problem: 'malformed' };
  }
  return { ok: true, value: token, location };
}

/**
 * A token in the parameter `name` (Kong's `refresh_token_param_name`): in
 * the header of that name, read as nginx reads it in Kong (`_` as `-`, so
 * `refresh_token` is the `Refresh-Token` header; a `Bearer ` prefix is
 * dropped), or in the query or form parameter of that name. More than one
 * is refused, as for bearer tokens.
 */
export function findNamedToken(
  view: RequestView,
  types: readonly ParamType[],
  name: string,
): Found<string> | undefined {
  const candidates: { token: string; location: Location }[] = [];
  if (types.includes('header')) {
    const header = name.toLowerCase().replaceAll('_', '-');
    let count = 0;
    for (let i = 0; i < view.rawHeaders.length; i += 2) {
      if (view.rawHeaders[i]!.toLowerCase() === header) count++;
    }
    if (count > 1) return { ok: false, problem: 'duplicate' };
    const value = view.headers[header];
    if (typeof value === 'string') {
      const trimmed = value.trim();
      const token = /^bearer /i.test(trimmed) ? trimmed.slice(7).trim() : trimmed;
      candidates.push({ token, location: { in: 'header', name: header } });
    }
  }
  for (const where of ['query', 'body'] as const) {
    if (!types.includes(where)) continue;
    const params = where === 'query' ? view.query : view.body;
    const values = params?.getAll(name) ?? [];
    if (values.length > 1) return { ok: false, problem: 'duplicate' };
    if (values.length === 1) candidates.push({ token: values[0]!, location: { in: where, names: [name] } });
  }
  if (candidates.length === 0) return undefined;
  if (candidates.length > 1) return { ok: false, problem: 'duplicate' };
  const { token, location } = candidates[0]!;
  if (token.length === 0 || token.length > MAX_TOKEN_LENGTH || !B64TOKEN.test(token)) {
    return { ok: false, problem: 'malformed' };
  }
  return { ok: true, value: token, location };
}

export interface Pair {
  id: string;
  secret: string;
}

/**
 * A user-id/password pair: HTTP Basic in the header, or the two named form
 * or query parameters. Used for client credentials (`client_id`,
 * `client_secret`) and for the password grant (`username`, `password`).
 */
export function findPair(
  view: RequestView,
  types: readonly ParamType[],
  names: readonly [string, string],
): Found<Pair> | undefined {
  if (types.includes('header')) {
    const authorization = authorizationHeader(view);
    if (authorization === 'duplicate') return { ok: false, problem: 'duplicate' };
    const scheme = authorization && schemeOf(authorization);
    if (scheme && scheme.scheme === 'basic') {
      const pair = decodeBasic(scheme.rest);
      return pair
        ? { ok: true, value: pair, location: { in: 'header', name: 'authorization' } }
        : { ok: false, problem: 'malformed' };
    }
  }
  for (const where of ['query', 'body'] as const) {
    if (!types.includes(where)) continue;
    const params = where === 'query' ? view.query : view.body;
    if (!params) continue;
    const ids = params.getAll(names[0]);
    const secrets = params.getAll(names[1]);
    if (ids.length === 0 && secrets.length === 0) continue;
    if (ids.length !== 1 || secrets.length !== 1 || !ids[0] || !secrets[0]) {
      return { ok: false, problem: 'malformed' };
    }
    return {
      ok: true,
      value: { id: ids[0], secret: secrets[0] },
      location: { in: where, names: [...names] },
    };
  }
  return undefined;
}

/** The Authorization header, `'duplicate'` when the request has more than one. */
function authorizationHeader(view: RequestView): string | undefined | 'duplicate' {
  let count = 0;
  for (let i = 0; i < view.rawHeaders.length; i += 2) {
    if (view.rawHeaders[i]!.length === 13 && view.rawHeaders[i]!.toLowerCase() === 'authorization') count++;
  }
  if (count > 1) return 'duplicate';
  return view.headers.authorization;
}

function schemeOf(header: string): { scheme: string; rest: string } | undefined {
  const space = header.indexOf(' ');
  if (space <= 0) return undefined;
  return { scheme: header.slice(0, space).toLowerCase(), rest: header.slice(space + 1).trim() };
}

/** RFC 7617: base64 of `user-id ":" password`; the user-id cannot contain a colon. */
function decodeBasic(encoded: string): Pair | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || encoded.length > MAX_TOKEN_LENGTH) return undefined;
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0 || colon === decoded.length - 1) return undefined;
  return { id: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
}
