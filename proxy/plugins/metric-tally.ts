import type { Counter } from 'prom-client';

/**
 * Counts kept as plain numbers on the request path and added to the
 * prom-client counter when it is scraped: a prom-client increment (label
 * hashing, bookkeeping) costs more than the rest of a cached token check.
 */
export class Tally<L extends string> {
  readonly #pending = new Map<string, { labels: Partial<Record<L, string>>; count: number }>();

  add(key: string, labels: () => Partial<Record<L, string>>): void {
    const entry = this.#pending.get(key);
    if (entry) entry.count++;
    else this.#pending.set(key, { labels: labels(), count: 1 });
  }

  flushInto(counter: Counter<L>): void {
    for (const entry of this.#pending.values()) {
      if (entry.count === 0) continue;
      counter.inc(entry.labels, entry.count);
      entry.count = 0;
    }
  }
}
