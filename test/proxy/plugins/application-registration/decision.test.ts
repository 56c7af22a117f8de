import { describe, expect, it } from 'vitest';
import type { Application } from '../../../../contract/index.js';
import { decide, type Decision } from '../../../../proxy/plugins/application-registration/decision.js';

const billing: Application = {
  id: 'billing/billing',
  clientId: '0oa5billing',
  approvedServices: ['payments/payments'],
  refusedServices: {
    'payments/refunds': 'Revoked',
    'payments/ledger': 'Rejected',
    'payments/cards': 'Pending',
    'shipping/shipping': 'Requested',
  },
  source: { kind: 'Application', namespace: 'billing', name: 'billing' },
};
const approved = (app: Application, service: string) => app.approvedServices.includes(service);
const off = { enable_proxy_with_consumer_credential: false };
const on = { enable_proxy_with_consumer_credential: true };
const verified = { plugin: 'payments/okta', application: billing };
const unmapped = { plugin: 'payments/okta' };

describe('application-registration decision', () => {
  it.each<[string, Parameters<typeof decide>[0], string | undefined, typeof off, Decision]>([
    ['approved', verified, 'payments/payments', off, { allowed: true, outcome: 'allowed' }],
    ['revoked', verified, 'payments/refunds', off, { allowed: false, status: 403, reason: 'revoked' }],
    ['rejected', verified, 'payments/ledger', off, { allowed: false, status: 403, reason: 'rejected' }],
    ['pending', verified, 'payments/cards', off, { allowed: false, status: 403, reason: 'pending' }],
    [
      'asked for, no registration, no auto_approve',
      verified,
      'shipping/shipping',
      off,
      { allowed: false, status: 403, reason: 'no_registration' },
    ],
    [
      'never asked for',
      verified,
      'payments/internal',
      off,
      { allowed: false, status: 403, reason: 'not_requested' },
    ],
    [
      'a route without a Service',
      verified,
      undefined,
      off,
      { allowed: false, status: 403, reason: 'no_service' },
    ],
    [
      'no authenticating plugin',
      undefined,
      'payments/payments',
      off,
      { allowed: false, status: 401, reason: 'no_identity' },
    ],
    [
      'no authenticating plugin, flag on',
      undefined,
      'payments/payments',
      on,
      { allowed: false, status: 401, reason: 'no_identity' },
    ],
    [
      'verified, no Application',
      unmapped,
      'payments/payments',
      off,
      { allowed: false, status: 401, reason: 'no_application' },
    ],
    [
      'verified, no Application, flag on',
      unmapped,
      'payments/payments',
      on,
      { allowed: true, outcome: 'consumer_credential' },
    ],
    [
      'an Application that is not approved, flag on: still refused',
      verified,
      'payments/refunds',
      on,
      { allowed: false, status: 403, reason: 'revoked' },
    ],
  ])('%s', (_, principal, service, config, expected) => {
    expect(decide(principal, service, config, approved)).toEqual(expected);
  });
});
