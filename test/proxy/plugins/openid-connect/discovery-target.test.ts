import { describe, expect, it } from 'vitest';
import { discoveryTarget } from '../../../../proxy/plugins/openid-connect/provider.js';

describe('discoveryTarget: issuer or discovery URL, as Kong accepts both', () => {
  it.each([
    [
      'https://example.okta.com/oauth2/default',
      'https://example.okta.com/oauth2/default/.well-known/openid-configuration',
      'https://example.okta.com/oauth2/default',
    ],
    [
      'https://example.okta.com/oauth2/default/.well-known/openid-configuration',
      'https://example.okta.com/oauth2/default/.well-known/openid-configuration',
      'https://example.okta.com/oauth2/default',
    ],
    [
      'https://login.microsoftonline.com/tenant/v2.0/.well-known/openid-configuration',
      'https://login.microsoftonline.com/tenant/v2.0/.well-known/openid-configuration',
      'https://login.microsoftonline.com/tenant/v2.0',
    ],
    // Auth0's issuer ends with a slash; its discovery URL has none before .well-known.
    [
      'https://tenant.auth0.com/',
      'https://tenant.auth0.com/.well-known/openid-configuration',
      'https://tenant.auth0.com/',
    ],
    [
      'https://tenant.auth0.com/.well-known/openid-configuration',
      'https://tenant.auth0.com/.well-known/openid-configuration',
      'https://tenant.auth0.com',
    ],
  ])('%s', (configured, url, issuer) => {
    expect(discoveryTarget(configured)).toEqual({ url, issuer });
  });
});
