import type { Application } from '../../../contract/index.js';
import { claimAt, type Claims } from './claims.js';

export type ConsumerField = 'id' | 'username' | 'custom_id';

/**
 * Kong's consumers are Portcullis's Applications: `custom_id` is the
 * Application's `clientId` (the IdP client id), and `id` and `username`
 * are its `namespace/name`. Built once per config.
 */
export class ConsumerIndex {
  readonly #byId = new Map<string, Application>();
  readonly #byClientId = new Map<string, Application>();

  constructor(applications: readonly Application[]) {
    for (const app of applications) {
      this.#byId.set(app.id, app);
      this.#byClientId.set(app.clientId, app);
    }
  }

  /** The Application whose `id` (Kong's consumer id and username: `namespace/name`) this is. */
  byId(id: string): Application | undefined {
    return this.#byId.get(id);
  }

  /** `find` over several claim paths (Kong's `consumer_claims`), in order: the first match wins. */
  findFirst(
    claims: Claims,
    claimPaths: readonly (readonly string[])[],
    by: readonly ConsumerField[],
  ): Application | undefined {
    for (const path of claimPaths) {
      const app = this.find(claims, path, by);
      if (app) return app;
    }
    return undefined;
  }

  /**
   * The Application named by the consumer claim: its value (or each of its
   * values, for an array claim) is looked up by each `consumer_by` field in
   * order, and the first match wins.
   */
  find(claims: Claims, claimPath: readonly string[], by: readonly ConsumerField[]): Application | undefined {
    const value = claimAt(claims, claimPath);
    const values = Array.isArray(value) ? value : [value];
    for (const field of by) {
      const index = field === 'custom_id' ? this.#byClientId : this.#byId;
      for (const v of values) {
        if (typeof v !== 'string' && typeof v !== 'number') continue;
        const app = index.get(String(v));
        if (app) return app;
      }
    }
    return undefined;
  }
}
