/**
 * Keeps one proxy serving the config the controller wants. Each proxy has
 * its own pusher, so a proxy that is down or slow only delays itself: its
 * retries back off exponentially while the others are already in sync.
 *
 * A push is skipped when the proxy is known to serve the wanted config. It
 * is known from the hash the proxy answered the last push with, and checked
 * every poll interval with GET /config: a proxy that restarted empty (or was
 * changed by someone else) reports another hash and is pushed again.
 *
 * Once a proxy serves a config of ours, a change is sent as a patch (only
 * the virtual hosts that changed, and the rest when it changed; see
 * contract/config-patch.ts). A proxy that cannot apply it answers 409 and
 * gets the whole config at once.
 */
import type { Logger } from 'pino';
import type { CompiledConfig } from '../contract/compiled-config.js';
import { configChanges } from '../contract/config-patch.js';
import type { Clock } from './clock.js';
import type { ControllerMetrics } from './metrics.js';
import { ProxyAnswerError, type ProxyAdmin } from './proxy-client.js';

export interface PusherOptions {
  clock: Clock;
  log: Logger;
  metrics?: ControllerMetrics;
  pollIntervalMs: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
  /** Awaited before the first push: a proxy started alongside us, not up yet. */
  proxyUp?: Promise<unknown>;
  /** Called after every push the proxy accepted. */
  onAccepted?: () => void;
}

/** A config to serve: its hash, its text, and what a patch is computed from. */
export interface WantedConfig {
  hash: string;
  /** The whole text, made only when a whole config is sent. */
  body: () => string;
  config: CompiledConfig;
  /** The text of everything but the virtual hosts (ConfigWriter.digest). */
  rest: string;
}

/** Above this share of the hosts changed, the whole config is as cheap to send. */
const PATCH_MAX_SHARE = 0.25;

export class ProxyPusher {
  readonly admin: ProxyAdmin;
  readonly #options: PusherOptions;
  readonly #log: Logger;
  #wanted: WantedConfig | undefined;
  /** What the proxy accepted last, and the hash the proxy reported for it. */
  #served: (WantedConfig & { proxyHash: string }) | undefined;
  #busy = false;
  /** Set when the proxy does not know PATCH /config: it gets whole configs only. */
  #patchUnsupported = false;
  #failures = 0;
  #retryTimer: unknown;
  #pollTimer: unknown;
  #stopped = false;
  #accepted = false;
  #proxyUp: Promise<unknown> | undefined;

  constructor(admin: ProxyAdmin, options: PusherOptions) {
    this.admin = admin;
    this.#options = options;
    this.#proxyUp = options.proxyUp;
    this.#log = options.log.child({ proxy: admin.name });
  }

  /** True once this proxy has accepted any config from us. */
  get accepted(): boolean {
    return this.#accepted;
  }

  /** True when the proxy is known to serve the wanted config. */
  get inSync(): boolean {
    return this.#wanted !== undefined && this.#served?.hash === this.#wanted.hash;
  }

  start(): void {
    this.#schedulePoll();
  }

  stop(): void {
    this.#stopped = true;
    this.#options.clock.clearTimeout(this.#retryTimer);
    this.#options.clock.clearTimeout(this.#pollTimer);
  }

  /** A new config to serve. A pending retry is cut short: the new config may be the fix. */
  want(wanted: WantedConfig): void {
    this.#wanted = wanted;
    this.#cancelRetry();
    void this.#sync();
  }

  async #sync(): Promise<void> {
    if (this.#proxyUp) return this.#syncOnceUp(this.#proxyUp);
    const wanted = this.#wanted;
    if (this.#stopped || this.#busy || !wanted || this.#served?.hash === wanted.hash) return;
    this.#busy = true;
    const { clock, metrics } = this.#options;
    const started = clock.now();
    try {
      const patch = this.#patchFor(wanted);
      let answer = patch === undefined ? undefined : await this.#patch(patch);
      const patched = answer !== undefined;
      answer ??= await this.admin.push(wanted.body());
      this.#served = { ...wanted, proxyHash: answer.hash };
      this.#failures = 0;
      this.#accepted = true;
      metrics?.pushed(
        this.admin.name,
        !answer.changed ? 'unchanged' : patched ? 'patched' : 'ok',
        seconds(clock, started),
        clock.now(),
      );
      this.#log.info({ hash: wanted.hash, changed: answer.changed, patched }, 'proxy serves the new config');
      this.#options.onAccepted?.();
    } catch (error) {
      this.#failures++;
      const rejected = error instanceof ProxyAnswerError && error.rejected;
      metrics?.pushed(this.admin.name, rejected ? 'rejected' : 'error', seconds(clock, started), clock.now());
      const delayMs = Math.min(
        this.#options.backoffMaxMs,
        this.#options.backoffInitialMs * 2 ** (this.#failures - 1),
      );
      this.#log.warn(
        {
          err: error,
          attempt: this.#failures,
          retryInMs: delayMs,
          ...(error instanceof ProxyAnswerError ? { answer: error.answer } : {}),
        },
        rejected ? 'proxy rejected the config' : 'push to proxy failed',
      );
      if (!this.#stopped) {
        this.#retryTimer = clock.setTimeout(() => {
          this.#retryTimer = undefined;
          void this.#sync();
        }, delayMs);
      }
    } finally {
      this.#busy = false;
    }
    // A newer config may have arrived while this push was in flight.
    if (this.#retryTimer === undefined) void this.#sync();
  }

  /** The first push, once the proxy is up (its failure to come up shows as a failed push). */
  async #syncOnceUp(up: Promise<unknown>): Promise<void> {
    await up.catch(() => undefined);
    if (this.#proxyUp !== up) return; // an earlier call got here first
    this.#proxyUp = undefined;
    await this.#sync();
  }

  /** The patch from what the proxy serves to `wanted`, when there is one worth sending. */
  #patchFor(wanted: WantedConfig): string | undefined {
    const served = this.#served;
    // Only from a config the proxy is known to serve, byte for byte.
    if (!served || served.proxyHash !== served.hash || this.#patchUnsupported) return undefined;
    const changes = configChanges(served, wanted);
    const limit = Math.max(16, wanted.config.virtualHosts.length * PATCH_MAX_SHARE);
    if (changes.set.length + changes.remove.length > limit) return undefined;
    return JSON.stringify({ base: served.proxyHash, hash: wanted.hash, ...changes });
  }

  /** Sends a patch; undefined when the proxy could not apply it (409). */
  async #patch(body: string) {
    try {
      return await this.admin.patch(body);
    } catch (error) {
      if (!(error instanceof ProxyAnswerError && error.patchRefused)) throw error;
      if (error.patchUnsupported) {
        this.#patchUnsupported = true;
        this.#log.warn('proxy does not accept patches (an older version?); sending whole configs');
      } else
        this.#log.info({ answer: error.answer }, 'proxy could not apply the patch; sending the whole config');
      return undefined;
    }
  }

  #schedulePoll(): void {
    if (this.#stopped) return;
    this.#pollTimer = this.#options.clock.setTimeout(() => void this.#poll(), this.#options.pollIntervalMs);
  }

  /** Notices a proxy that no longer serves what it accepted (restarted, or pushed to by someone else). */
  async #poll(): Promise<void> {
    const served = this.#served;
    try {
      if (!served || this.#busy || this.#retryTimer !== undefined) return;
      const hash = await this.admin.currentHash();
      // Only act if nothing was pushed meanwhile.
      if (this.#served === served && !this.#busy && hash !== served.proxyHash) {
        this.#log.warn(
          { expected: served.proxyHash, reported: hash },
          'proxy serves another config; pushing again',
        );
        this.#served = undefined;
        void this.#sync();
      }
    } catch (error) {
      // A proxy that is down is noticed when it comes back with another hash.
      this.#log.debug({ err: error }, 'could not read the config hash of the proxy');
    } finally {
      this.#schedulePoll();
    }
  }

  #cancelRetry(): void {
    if (this.#retryTimer === undefined) return;
    this.#options.clock.clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
  }
}

function seconds(clock: Clock, startedMs: number): number {
  return (clock.now() - startedMs) / 1000;
}
