/**
 * The workers' metrics, gathered by the primary for `/metrics`. prom-client's
 * AggregatorRegistry asks the live workers only, so a dead worker's
 * counters vanished (Prometheus reads the drop as a reset, and `rate()`
 * spikes), and one worker that did not answer held the scrape for seconds.
 * Here the primary keeps every worker's last answer: a worker that exits
 * leaves its counters and histograms (cumulative) in a retired total, and
 * its gauges (its own state) go with it; a worker that does not answer
 * within a second counts with its last answer. Workers are also asked every
 * few seconds, so a worker that dies between scrapes loses at most that
 * long of counts.
 */
import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue } from 'prom-client';

type MetricsJson = MetricObjectWithValues<MetricValue<string>>[];

export interface MetricsRequest {
  type: 'portcullis:metrics-request';
  id: number;
}
export interface MetricsAnswer {
  type: 'portcullis:metrics';
  id: number;
  metrics: MetricsJson;
}

const ANSWER_TIMEOUT_MS = 1_000;
const POLL_INTERVAL_MS = 5_000;
const CUMULATIVE = new Set(['counter', 'histogram']);

export class ClusterMetrics {
  /** By worker id: its last answer. */
  readonly #last = new Map<number, MetricsJson>();
  /** Counters and histograms of workers that exited (collapsed into one sum from time to time). */
  #retired: MetricsJson[] = [];
  readonly #waiting = new Map<number, { worker: number; resolve: () => void }>();
  #nextId = 1;
  readonly #timer: NodeJS.Timeout;

  constructor() {
    cluster.on('message', (worker: Worker, message: MetricsAnswer) => {
      if (message?.type !== 'portcullis:metrics') return;
      const waiting = this.#waiting.get(message.id);
      if (!waiting || waiting.worker !== worker.id) return;
      this.#waiting.delete(message.id);
      this.#last.set(worker.id, message.metrics);
      waiting.resolve();
    });
    cluster.on('exit', (worker: Worker) => this.#retire(worker.id));
    this.#timer = setInterval(() => void this.#refresh(), POLL_INTERVAL_MS).unref();
  }

  /** The Prometheus text of every worker's metrics, live and retired, within about a second. */
  async metrics(): Promise<string> {
    await this.#refresh();
    const all = [...this.#last.values(), ...this.#retired];
    return all.length === 0 ? '' : AggregatorRegistry.aggregate(all).metrics();
  }

  close(): void {
    clearInterval(this.#timer);
  }

  /** Asks every live worker, waiting at most ANSWER_TIMEOUT_MS for each. */
  async #refresh(): Promise<void> {
    const asked = Object.values(cluster.workers ?? {}).flatMap((worker) => {
      if (!worker || !worker.isConnected()) return [];
      const id = this.#nextId++;
      return [
        new Promise<void>((resolve) => {
          const timer = setTimeout(() => {
            this.#waiting.delete(id);
            resolve();
          }, ANSWER_TIMEOUT_MS);
          this.#waiting.set(id, {
            worker: worker.id,
            resolve: () => {
              clearTimeout(timer);
              resolve();
            },
          });
          const gone = () => {
            clearTimeout(timer);
            this.#waiting.delete(id);
            resolve();
          };
          // With a callback, a channel that closes meanwhile is an error given here, not an
          // 'error' event on the worker (unhandled, it would end the primary).
          try {
            worker.send(
              { type: 'portcullis:metrics-request', id } satisfies MetricsRequest,
              undefined,
              (error) => {
                if (error) gone();
              },
            );
          } catch {
            gone();
          }
        }),
      ];
    });
    await Promise.all(asked);
  }

  #retire(workerId: number): void {
    const last = this.#last.get(workerId);
    this.#last.delete(workerId);
    if (!last) return;
    this.#retired.push(last.filter((m) => CUMULATIVE.has(String(m.type))));
    if (this.#retired.length > 1) void this.#collapse();
  }

  /** Sums the retired answers into one, so a worker that keeps dying does not grow the list. */
  async #collapse(): Promise<void> {
    const parts = this.#retired;
    const sum = (await AggregatorRegistry.aggregate(parts).getMetricsAsJSON()) as MetricsJson;
    // Retirements meanwhile came after `parts`: keep them beside the sum.
    this.#retired = [sum, ...this.#retired.slice(parts.length)];
  }
}
