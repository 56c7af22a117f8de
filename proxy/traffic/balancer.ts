import type { Target, Upstream } from '../../contract/index.js';

/**
 * Smooth weighted round-robin over an upstream's targets: over any window of
 * sum(weights) picks, each target is chosen weight times, interleaved rather
 * than in bursts. Weight 0 takes a target out of rotation. One balancer per
 * upstream per worker; it lives as long as the config that made it.
 */
export class Balancer {
  readonly upstream: Upstream;
  readonly origins: readonly string[];
  readonly #weights: number[];
  readonly #current: number[];
  readonly #total: number;

  constructor(upstream: Upstream) {
    this.upstream = upstream;
    const live = upstream.targets.filter((t) => t.weight > 0);
    this.origins = live.map((t) => originOf(upstream.protocol, t));
    this.#weights = live.map((t) => t.weight);
    this.#current = live.map(() => 0);
    this.#total = this.#weights.reduce((a, b) => a + b, 0);
  }

  get size(): number {
    return this.origins.length;
  }

  /** The next target's origin (`http://host:port`), or undefined when there is none. */
  next(): string | undefined {
    const n = this.#weights.length;
    if (n === 0) return undefined;
    if (n === 1) return this.origins[0];
    let best = 0;
    for (let i = 0; i < n; i++) {
      this.#current[i]! += this.#weights[i]!;
      if (this.#current[i]! > this.#current[best]!) best = i;
    }
    this.#current[best]! -= this.#total;
    return this.origins[best];
  }
}

function originOf(protocol: string, target: Target): string {
  const host = target.host.includes(':') ? `[${target.host}]` : target.host;
  return `${protocol}://${host}:${target.port}`;
}
