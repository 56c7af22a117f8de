/**
 * Per-endpoint request counters. The attack tests flood the proxy with tokens
 * carrying random `kid`s and assert the proxy does not turn each into a JWKS
 * fetch (refetch rate limiting), so JWKS requests must be countable exactly.
 * Counting happens before the outage check: a request that reached a "down"
 * IdP is still a request the proxy made.
 */
import type { CountedEndpoint, RequestCounts } from './types.js';

const ENDPOINTS: CountedEndpoint[] = [
  'discovery',
  'jwks',
  'token',
  'introspection',
  'revocation',
  'authorization',
  'end_session',
  'userinfo',
  'interaction',
  'other',
];

export class RequestCounter {
  #counts = RequestCounter.#zero();

  static #zero(): RequestCounts {
    return Object.fromEntries(
      [...ENDPOINTS, 'client_secret_basic', 'client_secret_post'].map((e) => [e, 0]),
    ) as RequestCounts;
  }

  constructor(
    readonly issuerPath: string,
    readonly routes: Record<string, string>,
  ) {}

  /** Which endpoint a request path (without query) addresses. */
  classify(pathname: string): CountedEndpoint {
    if (!pathname.startsWith(this.issuerPath)) return 'other';
    const rest = pathname.slice(this.issuerPath.length);
    if (rest === '/.well-known/openid-configuration') return 'discovery';
    if (rest.startsWith('/interaction/')) return 'interaction';
    const exact: [CountedEndpoint, string | undefined][] = [
      ['jwks', this.routes.jwks],
      ['token', this.routes.token],
      ['introspection', this.routes.introspection],
      ['revocation', this.routes.revocation],
      ['userinfo', this.routes.userinfo],
      ['authorization', this.routes.authorization],
    ];
    for (const [name, route] of exact) if (rest === route) return name;
    // `<authorization>/<uid>` is the resume step after login/consent.
    if (this.routes.authorization && rest.startsWith(`${this.routes.authorization}/`)) return 'interaction';
    if (this.routes.end_session && rest.startsWith(this.routes.end_session)) return 'end_session';
    return 'other';
  }

  count(pathname: string, authorization: string | undefined): void {
    const endpoint = this.classify(pathname);
    this.#counts[endpoint] += 1;
    if (endpoint === 'token' || endpoint === 'introspection' || endpoint === 'revocation') {
      // Without Basic credentials, the client's id and secret are in the form body.
      const basic = authorization?.toLowerCase().startsWith('basic ') === true;
      this.#counts[basic ? 'client_secret_basic' : 'client_secret_post'] += 1;
    }
  }

  snapshot(): RequestCounts {
    return { ...this.#counts };
  }

  reset(): void {
    this.#counts = RequestCounter.#zero();
  }
}
