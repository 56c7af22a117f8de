/**
 * What the controller reports about itself: how often and how fast it
 * translates, how pushes to each proxy go, and how many problems the
 * objects have. Its own Registry, so tests and the status port see exactly
 * the controller's metrics. Proxy label values are admin URLs from the
 * command line, so they are bounded.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

const SECONDS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export type PushResultLabel = 'ok' | 'patched' | 'unchanged' | 'rejected' | 'error';

export class ControllerMetrics {
  readonly registry: Registry;
  readonly #translations: Counter;
  readonly #translateSeconds: Histogram;
  readonly #problems: Gauge;
  readonly #sourceProblems: Gauge;
  #translateProblemCount = 0;
  #sourceProblemCount = 0;
  readonly #pushes: Counter<'proxy' | 'result'>;
  readonly #pushSeconds: Histogram<'proxy'>;
  readonly #lastPush: Gauge<'proxy'>;

  constructor(registry: Registry = new Registry()) {
    this.registry = registry;
    const registers = [registry];
    this.#translations = new Counter({
      name: 'portcullis_controller_translations_total',
      help: 'Builds of the compiled config from the object store.',
      registers,
    });
    this.#translateSeconds = new Histogram({
      name: 'portcullis_controller_translation_duration_seconds',
      help: 'Time taken by one rebuild: translate (reusing what did not change), serialise and hash.',
      buckets: SECONDS,
      registers,
    });
    this.#problems = new Gauge({
      name: 'portcullis_controller_problems',
      help: 'Problems now: those of the last translation (broken objects, left out or answering 503) plus the source problems.',
      registers,
    });
    this.#sourceProblems = new Gauge({
      name: 'portcullis_controller_source_problems',
      help: 'Inputs the source cannot use now (manifest files that do not parse, are too large or cannot be read); their last good objects are served.',
      registers,
    });
    this.#pushes = new Counter({
      name: 'portcullis_controller_pushes_total',
      help: 'Config pushes to proxies, by admin URL and result (ok: whole config, patched: only the changes, unchanged, rejected, error).',
      labelNames: ['proxy', 'result'],
      registers,
    });
    this.#pushSeconds = new Histogram({
      name: 'portcullis_controller_push_duration_seconds',
      help: 'Time from sending PUT /config to the answer (the proxy answers after every worker swapped).',
      labelNames: ['proxy'],
      buckets: SECONDS,
      registers,
    });
    this.#lastPush = new Gauge({
      name: 'portcullis_controller_last_successful_push_timestamp_seconds',
      help: 'Unix time of the last push a proxy accepted.',
      labelNames: ['proxy'],
      registers,
    });
  }

  translated(seconds: number, problems: number): void {
    this.#translations.inc();
    this.#translateSeconds.observe(seconds);
    this.#translateProblemCount = problems;
    this.#problems.set(problems + this.#sourceProblemCount);
  }

  /** The source's problems changed; they count in `portcullis_controller_problems` too. */
  sourceProblems(count: number): void {
    this.#sourceProblemCount = count;
    this.#sourceProblems.set(count);
    this.#problems.set(this.#translateProblemCount + count);
  }

  pushed(proxy: string, result: PushResultLabel, seconds: number, nowMs: number): void {
    this.#pushes.inc({ proxy, result });
    this.#pushSeconds.observe({ proxy }, seconds);
    if (result === 'ok' || result === 'unchanged') this.#lastPush.set({ proxy }, nowMs / 1000);
  }
}
