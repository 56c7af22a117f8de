/** An ObjectSink that records what a source reported, and a bounded poll for tests. */
import type { ObjectSink, WatchedKind } from '../../controller/source.js';
import type { KubeObject } from '../../controller/translate/k8s-types.js';

export class RecordingSink implements ObjectSink {
  /** Current objects by `Kind/namespace/name`. */
  readonly objects = new Map<string, KubeObject>();
  readonly syncedKinds = new Set<WatchedKind>();
  /** Every call, in order, as `upsert Kind/ns/name` / `remove ...` / `synced Kind`. */
  readonly log: string[] = [];

  upsert(object: KubeObject): void {
    const key = `${object.kind}/${object.metadata.namespace ?? ''}/${object.metadata.name}`;
    this.objects.set(key, object);
    this.log.push(`upsert ${key}`);
  }

  remove(kind: WatchedKind, namespace: string | undefined, name: string): void {
    const key = `${kind}/${namespace ?? ''}/${name}`;
    this.objects.delete(key);
    this.log.push(`remove ${key}`);
  }

  synced(kind: WatchedKind): void {
    this.syncedKinds.add(kind);
    this.log.push(`synced ${kind}`);
  }

  get(kind: string, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.objects.get(`${kind}/${namespace ?? ''}/${name}`);
  }
}

/** Polls `check` every 10 ms until it returns true, or fails after `timeoutMs`. */
export async function eventually(check: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
