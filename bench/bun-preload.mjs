/**
 * Preloaded into Portcullis when bench/bun.mjs runs it on Bun (`bun --preload`).
 * Bench only, not a supported runtime: see docs/benchmarks.md, "Bun".
 *
 * Bun's node:https server has no setSecureContext (and ignores SNICallback),
 * so a config's certificates cannot reach it at all; a no-op lets the worker
 * apply the config, and HTTPS keeps serving the start-up certificate. The
 * benchmark measures plain HTTP only.
 */
import https from 'node:https';

if (typeof https.Server.prototype.setSecureContext !== 'function') {
  https.Server.prototype.setSecureContext = function setSecureContext() {};
}
