/**
 * Leader election with a coordination.k8s.io/v1 Lease, as client-go does it:
 * the leader renews the Lease every `retryPeriod`; another replica takes it
 * over only when it has not seen the Lease change for `leaseDuration`
 * (measured on its own clock, so clock skew between nodes does not matter).
 * Updates carry the Lease's resourceVersion, so two replicas cannot both win.
 * Only the leader writes status and Events; every replica pushes to its own
 * proxy.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { apiRequest, KubernetesApiError } from './api-request.js';
import { LEASE_PATH, resourcePath } from './kinds.js';

export interface LeaderElectionOptions {
  kubeConfig: KubeConfig;
  log: Logger;
  namespace: string;
  /** Lease name. Default `portcullis-controller`. */
  name?: string;
  /** This replica's identity, usually the pod name. */
  identity: string;
  /** Default 15 s. */
  leaseDurationMs?: number;
  /** The leader gives up when it could not renew for this long. Default 10 s. */
  renewDeadlineMs?: number;
  /** How often to try to acquire or renew. Default 2 s. */
  retryPeriodMs?: number;
  /** Called on every change of leadership. */
  onChange?: (leader: boolean) => void;
}

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

interface Lease {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string };
  spec?: LeaseSpec;
}

const microTime = (d: Date) => d.toISOString().replace('Z', '000Z');

export class LeaderElection {
  readonly #o: Required<Omit<LeaderElectionOptions, 'onChange'>> & Pick<LeaderElectionOptions, 'onChange'>;
  #leader = false;
  #timer: NodeJS.Timeout | undefined;
  #stopped = true;
  #lastRenew = 0;
  /** The Lease as last seen, and when (local clock). */
  #observed: { record: string; at: number } | undefined;
  #running: Promise<void> | undefined;

  constructor(options: LeaderElectionOptions) {
    this.#o = {
      name: 'portcullis-controller',
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
      ...options,
    };
  }

  isLeader(): boolean {
    return this.#leader;
  }

  /** Starts trying to acquire the Lease, and keeps renewing it once held. */
  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#tick();
  }

  /** Stops; when leader, releases the Lease so another replica takes over at once. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#running;
    if (!this.#leader) return;
    try {
      const lease = await this.#get();
      if (lease?.spec?.holderIdentity === this.#o.identity) {
        await this.#put({
          ...lease,
          spec: {
            ...lease.spec,
            holderIdentity: '',
            leaseDurationSeconds: 1,
            renewTime: microTime(new Date()),
          },
        });
      }
    } catch (err) {
      this.#o.log.warn({ err: String(err) }, 'could not release the leader lease');
    }
    this.#setLeader(false);
  }

  #tick(): void {
    this.#running = this.#attempt().finally(() => {
      this.#running = undefined;
      if (!this.#stopped) this.#timer = setTimeout(() => this.#tick(), this.#o.retryPeriodMs);
    });
  }

  async #attempt(): Promise<void> {
    try {
      const ok = await this.#tryAcquireOrRenew();
      if (ok) this.#lastRenew = Date.now();
      this.#setLeader(ok); // false: another replica holds the Lease
    } catch (err) {
      this.#o.log.warn({ err: String(err) }, 'leader election request failed');
      if (this.#leader && Date.now() - this.#lastRenew >= this.#o.renewDeadlineMs) this.#setLeader(false);
    }
  }

  async #tryAcquireOrRenew(): Promise<boolean> {
    const now = new Date();
    const lease = await this.#get();
    const spec: LeaseSpec = {
      holderIdentity: this.#o.identity,
      leaseDurationSeconds: Math.ceil(this.#o.leaseDurationMs / 1000),
      acquireTime: microTime(now),
      renewTime: microTime(now),
      leaseTransitions: 0,
    };
    if (!lease) {
      try {
        await this.#create(spec);
        return true;
      } catch (err) {
        if (err instanceof KubernetesApiError && err.statusCode === 409) return false; // another replica created it
        throw err;
      }
    }
    const record = JSON.stringify(lease.spec ?? {});
    if (this.#observed?.record !== record) this.#observed = { record, at: Date.now() };
    const holder = lease.spec?.holderIdentity;
    const durationMs = (lease.spec?.leaseDurationSeconds ?? 0) * 1000;
    const expired = !holder || this.#observed.at + durationMs <= Date.now();
    if (holder && holder !== this.#o.identity && !expired) return false;
    if (holder === this.#o.identity) {
      spec.acquireTime = lease.spec?.acquireTime ?? spec.acquireTime;
      spec.leaseTransitions = lease.spec?.leaseTransitions ?? 0;
    } else {
      spec.leaseTransitions = (lease.spec?.leaseTransitions ?? 0) + 1;
    }
    try {
      const updated = await this.#put({ ...lease, spec });
      this.#observed = { record: JSON.stringify(updated.spec ?? {}), at: Date.now() };
      return true;
    } catch (err) {
      if (err instanceof KubernetesApiError && err.statusCode === 409) return false; // someone else wrote first
      throw err;
    }
  }

  #setLeader(leader: boolean): void {
    if (leader === this.#leader) return;
    this.#leader = leader;
    this.#o.log.info(
      { identity: this.#o.identity, lease: this.#o.name },
      leader ? 'became leader' : 'lost leadership',
    );
    this.#o.onChange?.(leader);
  }

  async #get(): Promise<Lease | undefined> {
    try {
      return await apiRequest<Lease>(
        this.#o.kubeConfig,
        'GET',
        resourcePath(LEASE_PATH, this.#o.namespace, this.#o.name),
      );
    } catch (err) {
      if (err instanceof KubernetesApiError && err.statusCode === 404) return undefined;
      throw err;
    }
  }

  async #create(spec: LeaseSpec): Promise<Lease> {
    const body = {
      apiVersion: LEASE_PATH.apiVersion,
      kind: 'Lease',
      metadata: { name: this.#o.name, namespace: this.#o.namespace },
      spec,
    };
    return apiRequest<Lease>(this.#o.kubeConfig, 'POST', resourcePath(LEASE_PATH, this.#o.namespace), {
      body,
    });
  }

  #put(lease: Lease): Promise<Lease> {
    return apiRequest<Lease>(
      this.#o.kubeConfig,
      'PUT',
      resourcePath(LEASE_PATH, this.#o.namespace, this.#o.name),
      {
        body: lease,
      },
    );
  }
}
