/**
 * translate(): the one place where Kubernetes objects become a
 * CompiledConfig. Pure and synchronous: it reads only its arguments, does no
 * I/O, and returns the same bytes for the same input in any order.
 *
 * It never throws for bad objects. Each is a problem naming the object(s);
 * the broken part is left out, or its routes answer 503, and everything else
 * is served as usual.
 */
import type { CompiledConfig } from '../../contract/compiled-config.js';
import { assembleConfig, assembleProblems, assembleStatuses } from './assemble.js';
import { createContext } from './context.js';
import type { Snapshot } from './k8s-types.js';
import { TranslateMemo } from './memo.js';
import { resolveOptions, type ResolvedOptions, type TranslateOptions } from './options.js';
import type { TranslateProblem } from './problem-codes.js';
import { PROCESSORS } from './processors.js';
import type { TranslateStatuses } from './statuses.js';

export interface TranslateResult {
  /** Holds real Secret values (the proxy needs them); redact before printing or storing. */
  config: CompiledConfig;
  statuses: TranslateStatuses;
  problems: TranslateProblem[];
}

export function translate(snapshot: Snapshot, options: TranslateOptions = {}): TranslateResult {
  return new Translator(options, { reuse: false }).translate(snapshot);
}

/**
 * translate() for a long-lived caller: each call reuses the per-object
 * results of the previous one wherever the objects are the same (identical
 * references), so a change costs about what it touches. The output is
 * exactly what translate() gives for the same snapshot.
 */
export class Translator {
  readonly #options: ResolvedOptions;
  readonly #memo: TranslateMemo;

  /** `reuse: false` keeps nothing between calls (for one-off use, where keeping costs time). */
  constructor(options: TranslateOptions = {}, { reuse = true }: { reuse?: boolean } = {}) {
    this.#options = resolveOptions(options);
    this.#memo = new TranslateMemo({ keep: reuse });
  }

  translate(snapshot: Snapshot): TranslateResult {
    this.#memo.begin();
    try {
      const ctx = createContext(snapshot, this.#options, this.#memo);
      for (const processor of PROCESSORS) processor.run(ctx);
      return {
        config: assembleConfig(ctx),
        statuses: assembleStatuses(ctx),
        problems: assembleProblems(ctx),
      };
    } finally {
      this.#memo.end();
    }
  }

  /** How many memoised results the last call reused and recomputed. */
  get reuse(): { hits: number; misses: number } {
    return this.#memo.stats;
  }
}

export { emptySnapshot, type Snapshot } from './k8s-types.js';
export type * from './k8s-types.js';
export { DEFAULT_CONTROLLER_NAME, DEFAULT_INGRESS_CLASS, type TranslateOptions } from './options.js';
export {
  defaultPluginCatalog,
  KONG_PLUGIN_PRIORITIES,
  looseCatalog,
  type PluginCatalog,
} from './plugin-catalog.js';
export { PROBLEM_CODES, type ObjectRef, type ProblemCode, type TranslateProblem } from './problem-codes.js';
export type * from './statuses.js';
export { secretReferences, type SecretRef } from './secret-references.js';
