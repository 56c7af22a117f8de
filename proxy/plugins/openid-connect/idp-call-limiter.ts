import { PortcullisError } from '../../../common/errors.js';
import type { IdpCallLimits } from '../registry.js';

export type IdpCallRefusal = 'concurrency' | 'rate';

/** A new IdP call refused by a limit: answered 503 PCS_IDP_OVERLOADED, never forwarded. */
export class IdpCallRefused extends PortcullisError {
  readonly reason: IdpCallRefusal;

  constructor(reason: IdpCallRefusal) {
    super('PCS_IDP_OVERLOADED', reason);
    this.reason = reason;
  }
}

/** What a caller of the IdP needs of a limiter: TokenClient and the login callback take one. */
export interface IdpCallGate {
  /** Takes a slot and a token for one new call, or says which limit refuses it. */
  tryAcquire(): IdpCallRefusal | undefined;
  /** Gives the slot back when the call has ended, however it ended. */
  release(): void;
}

/**
 * Bounds the IdP calls that unauthenticated clients can cause through one
 * plugin instance (token grants, introspection): at most `concurrency` in
 * flight, and a token bucket of `burst` tokens refilled at `ratePerSecond`.
 * Only new calls ask; cache hits and joins of an identical call in flight
 * cost the IdP nothing and never do. The clock is injected (milliseconds,
 * monotonic) so the arithmetic is tested without waiting.
 */
export class IdpCallLimiter implements IdpCallGate {
  readonly limits: Readonly<IdpCallLimits>;
  readonly #now: () => number;
  #inFlight = 0;
  #tokens: number;
  #refilledAt: number;

  constructor(limits: IdpCallLimits, now: () => number = () => performance.now()) {
    this.limits = { ...limits };
    this.#now = now;
    // Full at start: a cold worker must not refuse its first logins.
    this.#tokens = limits.burst;
    this.#refilledAt = now();
  }

  tryAcquire(): IdpCallRefusal | undefined {
    // Concurrency first, so a call refused for it does not spend a rate token.
    if (this.#inFlight >= this.limits.concurrency) return 'concurrency';
    const now = this.#now();
    if (now > this.#refilledAt) {
      const refill = ((now - this.#refilledAt) * this.limits.ratePerSecond) / 1000;
      this.#tokens = Math.min(this.limits.burst, this.#tokens + refill);
      this.#refilledAt = now;
    }
    if (this.#tokens < 1) return 'rate';
    this.#tokens -= 1;
    this.#inFlight++;
    return undefined;
  }

  release(): void {
    if (this.#inFlight > 0) this.#inFlight--;
  }

  get inFlight(): number {
    return this.#inFlight;
  }
}

/** A gate that never refuses: for callers with nothing to bound. */
export const UNLIMITED: IdpCallGate = { tryAcquire: () => undefined, release: () => undefined };
