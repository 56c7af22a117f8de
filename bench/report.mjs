/**
 * From per-round measurements to the report: medians, ratios, target checks,
 * the Markdown table and the JSON file.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** Median of numbers (mean of the middle two for an even count). */
export function median(values) {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

/**
 * @typedef {object} RoundResult  one measured run of a scenario
 * @property {number} rps
 * @property {number} p50Ms
 * @property {number} p99Ms
 * @property {object} raw        wrk or constant-rate result as returned
 *
 * @typedef {object} ScenarioResult
 * @property {string} name
 * @property {string} label
 * @property {string} kind
 * @property {RoundResult[]} rounds
 * @property {string[]} errors
 * @property {number} [rate]     constant-rate: the requested rate
 * @property {{rps: number, p50Ms: number, p99Ms: number} | undefined} median
 * @property {number | undefined} ratio  median req/s / baseline median req/s
 */

/** Fill in `median` and `ratio` for every scenario result. */
export function summarize(results, baselineName) {
  for (const r of results) {
    r.median =
      r.rounds.length > 0
        ? {
            rps: median(r.rounds.map((x) => x.rps)),
            p50Ms: median(r.rounds.map((x) => x.p50Ms)),
            p99Ms: median(r.rounds.map((x) => x.p99Ms)),
          }
        : undefined;
  }
  const base = results.find((r) => r.name === baselineName)?.median?.rps;
  for (const r of results) {
    r.ratio = r.kind === 'throughput' && r.median && base ? r.median.rps / base : undefined;
  }
  return results;
}

/**
 * Evaluate target checks against summarized results.
 * @returns {{name: string, status: 'PASS' | 'FAIL' | 'SKIP', detail: string}[]}
 */
export function evaluateChecks(checks, results) {
  const byName = new Map(results.map((r) => [r.name, r]));
  return checks.map((c) => {
    const of = byName.get(c.of)?.median?.[c.metric];
    if (c.to !== undefined) {
      const to = byName.get(c.to)?.median?.[c.metric];
      if (!Number.isFinite(of) || !Number.isFinite(to) || to === 0) {
        return { name: c.name, status: 'SKIP', detail: `needs ${c.of} and ${c.to}` };
      }
      const ratio = of / to;
      return {
        name: c.name,
        status: ratio >= c.min ? 'PASS' : 'FAIL',
        detail: `${ratio.toFixed(2)}x (${fmtMetric(c.metric, of)} vs ${fmtMetric(c.metric, to)}; target >= ${c.min}x)`,
      };
    }
    if (!Number.isFinite(of)) return { name: c.name, status: 'SKIP', detail: `needs ${c.of}` };
    return {
      name: c.name,
      status: of < c.max ? 'PASS' : 'FAIL',
      detail: `${fmtMetric(c.metric, of)} (target < ${fmtMetric(c.metric, c.max)})`,
    };
  });
}

function fmtMetric(metric, v) {
  return metric === 'rps' ? `${fmtInt(v)} req/s` : `${fmtMs(v)}`;
}

const fmtInt = (v) => (Number.isFinite(v) ? Math.round(v).toLocaleString('en-US') : '-');
const fmtMs = (v) => (Number.isFinite(v) ? `${v.toFixed(2)} ms` : '-');

/** The results table and check list, as Markdown. */
export function toMarkdown(results, checkResults, baselineLabel) {
  const lines = [
    `| Scenario | req/s | p50 | p99 | vs ${baselineLabel} |`,
    '| --- | ---: | ---: | ---: | ---: |',
  ];
  for (const r of results) {
    const m = r.median;
    const label = r.kind === 'constant-rate' ? `${r.label} (${fmtInt(r.rate)} req/s offered)` : r.label;
    const ratio = r.ratio !== undefined ? `${r.ratio.toFixed(2)}x` : '-';
    if (!m) lines.push(`| ${label} | error | - | - | - |`);
    else lines.push(`| ${label} | ${fmtInt(m.rps)} | ${fmtMs(m.p50Ms)} | ${fmtMs(m.p99Ms)} | ${ratio} |`);
  }
  if (checkResults.length > 0) {
    lines.push('', '| Target | Result | Measured |', '| --- | --- | --- |');
    for (const c of checkResults) lines.push(`| ${c.name} | ${c.status} | ${c.detail} |`);
  }
  return lines.join('\n');
}

/** Write the full results as JSON (creating the directory). */
export function writeJson(file, data) {
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(data, null, 2)}\n`);
}
