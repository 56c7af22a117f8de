/**
 * What lets a long-lived controller translate only what changed: results of
 * translate's per-object steps, kept from one call to the next and reused
 * while their inputs are the very same objects.
 *
 * A step is memoised under a table and a key with its dependencies: the
 * objects (or earlier memoised results) it reads. A later call with
 * identical dependencies (compared with Object.is, element by element) gets
 * the earlier value back, and the problems the step reported then are
 * reported again. The store keeps an unchanged object's identity, so
 * identity is exactly "unchanged".
 *
 * Rules that keep a memoised translate equal to a fresh one (the
 * incremental tests check this on every golden case and on random edits):
 * - a step's dependencies name everything it reads, and are computed by
 *   calling the memoised steps it depends on, so their problems are
 *   reported again on every call too;
 * - a memoised value is never modified afterwards: later steps copy what
 *   they change.
 *
 * Entries not used by a call are dropped at its end, so memory follows the
 * cluster, not its history.
 */
import type { TranslateProblem } from './problem-codes.js';

interface Entry {
  deps: readonly unknown[];
  value: unknown;
  problems: readonly TranslateProblem[];
  used: number;
}

const NONE: readonly TranslateProblem[] = Object.freeze([]);

function sameDeps(a: readonly unknown[], b: readonly unknown[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

export class TranslateMemo {
  readonly #tables = new Map<string, Map<unknown, Entry>>();
  /** False for a one-off translate(): nothing would reuse the entries, so none are kept. */
  readonly #keep: boolean;
  #call = 0;
  #hits = 0;
  #misses = 0;

  constructor(options: { keep?: boolean } = {}) {
    this.#keep = options.keep ?? true;
  }

  /** Starts a translate call. */
  begin(): void {
    this.#call++;
    this.#hits = 0;
    this.#misses = 0;
  }

  /** Ends a translate call: entries it did not use are dropped. */
  end(): void {
    for (const table of this.#tables.values()) {
      for (const [key, entry] of table) if (entry.used !== this.#call) table.delete(key);
    }
  }

  /** Reuse counts of the current call, for metrics and tests. */
  get stats(): { hits: number; misses: number } {
    return { hits: this.#hits, misses: this.#misses };
  }

  /**
   * `compute()`'s value, or the one it gave last time for `key` if `deps`
   * are the same. Problems it pushes onto `problems` are recorded with the
   * value and pushed again on reuse. `deps` may be a function, so that a
   * memo that keeps nothing does not pay for them.
   */
  use<V>(
    table: string,
    key: unknown,
    deps: readonly unknown[] | (() => readonly unknown[]),
    problems: TranslateProblem[],
    compute: () => V,
  ): V {
    if (!this.#keep) return this.#compute(compute);
    const entries = this.#table(table);
    const entry = entries.get(key);
    const current = typeof deps === 'function' ? deps() : deps;
    if (entry && sameDeps(entry.deps, current)) return this.#reuse(entry, problems);
    return this.#remember(entries, key, current, problems, compute);
  }

  /** `use` for a step that depends only on `object` (its key): no deps array per call. */
  useFor<V>(table: string, object: object, problems: TranslateProblem[], compute: () => V): V {
    if (!this.#keep) return this.#compute(compute);
    const entries = this.#table(table);
    const entry = entries.get(object);
    if (entry) return this.#reuse(entry, problems);
    return this.#remember(entries, object, [object], problems, compute);
  }

  #compute<V>(compute: () => V): V {
    this.#misses++;
    return compute();
  }

  #table(table: string): Map<unknown, Entry> {
    let entries = this.#tables.get(table);
    if (!entries) this.#tables.set(table, (entries = new Map()));
    return entries;
  }

  #reuse<V>(entry: Entry, problems: TranslateProblem[]): V {
    entry.used = this.#call;
    for (const problem of entry.problems) problems.push(problem);
    this.#hits++;
    return entry.value as V;
  }

  #remember<V>(
    entries: Map<unknown, Entry>,
    key: unknown,
    deps: readonly unknown[],
    problems: TranslateProblem[],
    compute: () => V,
  ): V {
    const start = problems.length;
    const value = compute();
    const reported = problems.length === start ? NONE : problems.slice(start);
    entries.set(key, { deps, value, problems: reported, used: this.#call });
    this.#misses++;
    return value;
  }
}
