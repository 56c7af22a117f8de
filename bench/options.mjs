/**
 * Command-line options shared by the traffic benchmarks (run.mjs, oidc.mjs):
 * the same flags and BENCH_* environment variables everywhere.
 */
import { parseArgs } from 'node:util';

export function fail(message, code = 2) {
  console.error(message);
  process.exit(code);
}

export function positive(name, value, fallback) {
  const v = Number(value ?? fallback);
  if (!Number.isFinite(v) || v <= 0) fail(`${name} must be a positive number, got '${value}'`);
  return v;
}

/**
 * The common options, plus `extra` parseArgs option specs whose raw values
 * come back in `parsed`. Exits with the help text on a bad flag.
 */
export function benchOptions(help, extra = {}) {
  let parsed;
  try {
    parsed = parseArgs({
      options: {
        only: { type: 'string' },
        list: { type: 'boolean' },
        rounds: { type: 'string' },
        duration: { type: 'string' },
        warmup: { type: 'string' },
        out: { type: 'string' },
        'keep-tmp': { type: 'boolean' },
        strict: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        ...extra,
      },
    }).values;
  } catch (err) {
    fail(`${err.message}\n\n${help}`);
  }
  const env = process.env;
  return {
    parsed,
    help: parsed.help,
    list: parsed.list,
    only: parsed.only
      ?.split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    rounds: Math.round(positive('rounds', parsed.rounds ?? env.BENCH_ROUNDS, 2)),
    durationS: Math.round(positive('duration', parsed.duration ?? env.BENCH_DURATION, 10)),
    warmupS: Math.round(Number(parsed.warmup ?? env.BENCH_WARMUP ?? 2)) || 0,
    keepTmp: parsed['keep-tmp'] ?? false,
    strict: parsed.strict ?? false,
  };
}

/**
 * Bounds the whole run (server start-up, every measured and warm-up second,
 * slack), or BENCH_MAX_SECONDS: past it `onExceeded(message)` runs. Returns
 * the budget in seconds.
 */
export function boundRunTime(runs, opts, onExceeded) {
  const budgetS = Number(process.env.BENCH_MAX_SECONDS) || 180 + runs * (opts.durationS + opts.warmupS + 10);
  setTimeout(
    () => onExceeded(`Time budget of ${budgetS} s exceeded (BENCH_MAX_SECONDS): stopping.`),
    budgetS * 1000,
  ).unref();
  return budgetS;
}
