/**
 * Storage adapter for oidc-provider, one store per test IdP.
 *
 * oidc-provider's built-in memory adapter keeps a module-level LRU shared by
 * every Provider in the process; two IdPs started by one test file would then
 * share sessions and grants. Key rotation also rebuilds the Provider (its
 * keystore is fixed at construction), and sessions, codes and opaque tokens
 * must survive that — so the store lives outside any one Provider instance.
 *
 * The `Client` model is answered from the client registry (see clients.ts).
 */
import type { Adapter, AdapterPayload } from 'oidc-provider';
import { toClientMetadata } from './clients.js';
import type { TestClient } from './types.js';

interface Entry {
  payload: AdapterPayload;
  expiresAt: number | undefined;
}

const GRANTABLE = new Set([
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
]);

export class MemoryStore {
  readonly entries = new Map<string, Entry>();
  readonly grantMembers = new Map<string, Set<string>>();

  constructor(readonly clients: Map<string, TestClient>) {}

  /** The adapter factory handed to oidc-provider's `adapter` option. */
  adapterFactory(): new (name: string) => Adapter {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const store = this;
    return class implements Adapter {
      constructor(readonly name: string) {}

      #key(id: string): string {
        return `${this.name}:${id}`;
      }

      #get(key: string): AdapterPayload | undefined {
        const entry = store.entries.get(key);
        if (!entry) return undefined;
        if (entry.expiresAt !== undefined && entry.expiresAt <= Date.now()) {
          store.entries.delete(key);
          return undefined;
        }
        return entry.payload;
      }

      async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
        const key = this.#key(id);
        store.entries.set(key, {
          payload: structuredClone(payload),
          expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : undefined,
        });
        if (GRANTABLE.has(this.name) && typeof payload.grantId === 'string') {
          const members = store.grantMembers.get(payload.grantId) ?? new Set<string>();
          members.add(key);
          store.grantMembers.set(payload.grantId, members);
        }
        if (this.name === 'Session' && typeof payload.uid === 'string') {
          store.entries.set(`sessionUid:${payload.uid}`, { payload: { id }, expiresAt: undefined });
        }
        if (typeof payload.userCode === 'string') {
          store.entries.set(`userCode:${payload.userCode}`, { payload: { id }, expiresAt: undefined });
        }
      }

      async find(id: string): Promise<AdapterPayload | undefined> {
        if (this.name === 'Client') {
          const client = store.clients.get(id);
          return client ? toClientMetadata(client) : undefined;
        }
        const payload = this.#get(this.#key(id));
        return payload ? structuredClone(payload) : undefined;
      }

      async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
        const ref = store.entries.get(`userCode:${userCode}`)?.payload.id;
        return typeof ref === 'string' ? this.find(ref) : undefined;
      }

      async findByUid(uid: string): Promise<AdapterPayload | undefined> {
        const ref = store.entries.get(`sessionUid:${uid}`)?.payload.id;
        return typeof ref === 'string' ? this.find(ref) : undefined;
      }

      async consume(id: string): Promise<void> {
        const payload = this.#get(this.#key(id));
        if (payload) payload.consumed = Math.floor(Date.now() / 1000);
      }

      async destroy(id: string): Promise<void> {
        store.entries.delete(this.#key(id));
      }

      async revokeByGrantId(grantId: string): Promise<void> {
        for (const key of store.grantMembers.get(grantId) ?? []) store.entries.delete(key);
        store.grantMembers.delete(grantId);
      }
    };
  }
}
