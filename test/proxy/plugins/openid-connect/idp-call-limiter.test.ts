import { describe, expect, it } from 'vitest';
import { ERROR_BODIES } from '../../../../common/errors.js';
import { IdpCallLimiter, IdpCallRefused } from '../../../../proxy/plugins/openid-connect/idp-call-limiter.js';

/**
 * Each step: advance the clock to `at` (ms), then `acquire` (expecting
 * `expect`: ok or the refusal) or `release`.
 */
type Step = { at: number } & ({ acquire: 'ok' | 'concurrency' | 'rate' } | { release: true });

function run(limits: { concurrency: number; ratePerSecond: number; burst: number }, steps: Step[]) {
  let now = 0;
  const limiter = new IdpCallLimiter(limits, () => now);
  return steps.map((step) => {
    now = step.at;
    if ('release' in step) {
      limiter.release();
      return 'released';
    }
    return limiter.tryAcquire() ?? 'ok';
  });
}

const times = (n: number, step: (i: number) => Step): Step[] => Array.from({ length: n }, (_, i) => step(i));

describe('IdpCallLimiter', () => {
  it.each<[string, { concurrency: number; ratePerSecond: number; burst: number }, Step[]]>([
    [
      'a full bucket lets a burst through, then refuses for rate',
      { concurrency: 100, ratePerSecond: 1, burst: 3 },
      [...times(3, () => ({ at: 0, acquire: 'ok' })), { at: 0, acquire: 'rate' }],
    ],
    [
      'the bucket refills at the rate',
      { concurrency: 100, ratePerSecond: 2, burst: 1 },
      [
        { at: 0, acquire: 'ok' },
        { at: 499, acquire: 'rate' },
        { at: 500, acquire: 'ok' },
        { at: 999, acquire: 'rate' },
        { at: 1000, acquire: 'ok' },
      ],
    ],
    [
      'refills never exceed the burst',
      { concurrency: 100, ratePerSecond: 10, burst: 2 },
      [
        { at: 0, acquire: 'ok' },
        { at: 0, acquire: 'ok' },
        { at: 60_000, acquire: 'ok' },
        { at: 60_000, acquire: 'ok' },
        { at: 60_000, acquire: 'rate' },
      ],
    ],
    [
      'concurrency is bounded while calls are in flight, freed by release',
      { concurrency: 2, ratePerSecond: 1000, burst: 1000 },
      [
        { at: 0, acquire: 'ok' },
        { at: 0, acquire: 'ok' },
        { at: 0, acquire: 'concurrency' },
        { at: 1, release: true },
        { at: 1, acquire: 'ok' },
        { at: 1, acquire: 'concurrency' },
      ],
    ],
    [
      'a call refused for concurrency does not spend a rate token',
      { concurrency: 1, ratePerSecond: 1, burst: 2 },
      [
        { at: 0, acquire: 'ok' },
        ...times(5, () => ({ at: 0, acquire: 'concurrency' as const })),
        { at: 0, release: true },
        { at: 0, acquire: 'ok' },
        { at: 0, release: true },
        { at: 0, acquire: 'rate' },
      ],
    ],
    [
      'a release without a call does not raise the limit',
      { concurrency: 1, ratePerSecond: 1000, burst: 1000 },
      [
        { at: 0, release: true },
        { at: 0, acquire: 'ok' },
        { at: 0, acquire: 'concurrency' },
      ],
    ],
    [
      'a clock that goes back refills nothing',
      { concurrency: 100, ratePerSecond: 1, burst: 1 },
      [
        { at: 10_000, acquire: 'ok' },
        { at: 0, acquire: 'rate' },
        { at: 10_999, acquire: 'rate' },
        { at: 11_000, acquire: 'ok' },
      ],
    ],
    [
      'the defaults let 100 through at once, then 50 a second',
      { concurrency: 1000, ratePerSecond: 50, burst: 100 },
      [
        ...times(100, () => ({ at: 0, acquire: 'ok' as const })),
        { at: 0, acquire: 'rate' },
        ...times(50, (i) => ({ at: 20 * (i + 1), acquire: 'ok' as const })),
        { at: 1000, acquire: 'rate' },
      ],
    ],
  ])('%s', (_name, limits, steps) => {
    const expected = steps.map((s) => ('release' in s ? 'released' : s.acquire));
    expect(run(limits, steps)).toEqual(expected);
  });

  it('refusals are the catalog error PCS_IDP_OVERLOADED with their reason', () => {
    const error = new IdpCallRefused('rate');
    expect(error.code).toBe('PCS_IDP_OVERLOADED');
    expect(error.statusCode).toBe(503);
    expect(error.reason).toBe('rate');
    expect(JSON.parse(ERROR_BODIES.PCS_IDP_OVERLOADED).error).toBe('PCS_IDP_OVERLOADED');
  });
});
