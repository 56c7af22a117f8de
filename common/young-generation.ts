import { setFlagsFromString } from 'node:v8';

/**
 * Keeps V8's young generation at the size it has now, for processes that
 * read a whole cluster and keep it: every object survives its first
 * collections, so a young generation that grows only adds to the peak. Node
 * 24's grows to 3 x 64 MB (Node 20's and 22's to 3 x 16 MB): with 10,000
 * Ingresses, translate peaked at 318 MB against 209 MB with this, the `run`
 * controller at 341 MB, at the same speed (docs/benchmarks.md). The maximum
 * (--max-semi-space-size) is fixed once the heap exists; the growth factor
 * is read at each resize. Not for the proxy, whose requests die young.
 */
export function stopYoungGenerationGrowth(): void {
  setFlagsFromString('--semi-space-growth-factor=1');
}
