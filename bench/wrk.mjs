/**
 * Closed-loop throughput runs with wrk (`wrk -t1 -cC -dDs --latency`), and
 * the parser for its text report.
 */
import { findBinary, pinned } from './requirements.mjs';
import { startProcess } from './processes.mjs';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * @typedef {object} WrkResult
 * @property {number} rps        Requests/sec as wrk reports it
 * @property {number} requests   completed requests
 * @property {number} p50Ms
 * @property {number} p75Ms
 * @property {number} p90Ms
 * @property {number} p99Ms
 * @property {number} non2xx     "Non-2xx or 3xx responses"
 * @property {{connect: number, read: number, write: number, timeout: number}} socketErrors
 */

const UNIT_MS = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "812.00us" / "1.23ms" / "2.00s" -> milliseconds. */
export function parseDuration(text) {
  const m = /^([\d.]+)(us|ms|s|m|h)$/.exec(text.trim());
  if (!m) throw new Error(`unrecognised wrk duration '${text}'`);
  return Math.round(Number(m[1]) * UNIT_MS[m[2]] * 1000) / 1000;
}

/**
 * Parse wrk's `--latency` report.
 * @returns {WrkResult}
 */
export function parseWrk(out) {
  const rps = /^Requests\/sec:\s+([\d.]+)/m.exec(out);
  const total = /^\s*(\d+) requests in /m.exec(out);
  if (!rps || !total) throw new Error(`could not parse wrk output:\n${out}`);
  const pct = (p) => {
    const m = new RegExp(`^\\s+${p}%\\s+(\\S+)`, 'm').exec(out);
    if (!m) throw new Error(`wrk output has no ${p}% latency (was --latency passed?):\n${out}`);
    return parseDuration(m[1]);
  };
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  return {
    rps: Number(rps[1]),
    requests: Number(total[1]),
    p50Ms: pct(50),
    p75Ms: pct(75),
    p90Ms: pct(90),
    p99Ms: pct(99),
    non2xx: non2xx ? Number(non2xx[1]) : 0,
    socketErrors: sock
      ? { connect: +sock[1], read: +sock[2], write: +sock[3], timeout: +sock[4] }
      : { connect: 0, read: 0, write: 0, timeout: 0 },
  };
}

/**
 * Run wrk once against `url`. Bounded: wrk is killed `durationS + 15` s after start.
 * @param {{ url: string, headers?: Record<string, string>, durationS: number, connections: number, threads?: number }} o
 * @returns {Promise<WrkResult>}
 */
export async function runWrk({ url, headers = {}, durationS, connections, threads = 1, cpuList }) {
  const args = [`-t${threads}`, `-c${connections}`, `-d${durationS}s`, '--latency', '--timeout', '5s'];
  for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}: ${v}`);
  args.push(url);
  const cmd = pinned(cpuList, findBinary('wrk') ?? 'wrk', args);
  const child = startProcess('wrk', cmd.command, cmd.args, { capture: true });
  const limit = sleep((durationS + 15) * 1000).then(() => 'timeout');
  const outcome = await Promise.race([child.exited, limit]);
  if (outcome === 'timeout') {
    await child.stop();
    throw new Error(`wrk did not finish within ${durationS + 15} s`);
  }
  if (outcome.code !== 0) throw new Error(`wrk failed (code ${outcome.code}):\n${child.output()}`);
  return parseWrk(child.output());
}
