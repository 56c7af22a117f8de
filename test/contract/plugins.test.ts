import { describe, expect, it } from 'vitest';
import { pluginPriority, validatePluginConfig } from '../../contract/plugins.js';
import { defaultPluginCatalog } from '../../controller/translate/plugin-catalog.js';

describe('the shared plugin catalog', () => {
  it.each([
    ['openid-connect', { issuer: 'https://idp' }, []],
    ['application-registration', { display_name: 'Payments' }, []],
    ['openid-connect', ['not', 'an', 'object'], ['config must be an object']],
    ['openid-connect', null, ['config must be an object']],
    ['rate-limiting', {}, ['unknown plugin "rate-limiting"']],
    // application-registration: Kong 3.7-3.9's schema, strictly.
    [
      'application-registration',
      {
        display_name: 'Payments',
        description: 'Card payments',
        auto_approve: true,
        show_issuer: true,
        enable_proxy_with_consumer_credential: false,
      },
      [],
    ],
    ['application-registration', {}, ['field "display_name" is required']],
    [
      'application-registration',
      { display_name: '' },
      ['field "display_name": expected string length greater or equal to 1'],
    ],
    [
      'application-registration',
      { display_name: 'P', auto_approve: 'true' },
      ['field "auto_approve": expected boolean'],
    ],
    [
      'application-registration',
      { display_name: 'P', show_issuer: 1 },
      ['field "show_issuer": expected boolean'],
    ],
    [
      'application-registration',
      { display_name: 'P', description: 5 },
      ['field "description": expected string'],
    ],
    ['application-registration', { display_name: 'P', autoapprove: true }, ['unknown field "autoapprove"']],
    ['application-registration', { display_name: 'P', auto_approve: null }, []],
  ])('%s with %j → %j', (name, config, problems) => {
    expect(validatePluginConfig(name, config)).toEqual(problems);
  });

  it("runs authentication before authorization, as Kong's priorities do", () => {
    expect(pluginPriority('openid-connect')!).toBeGreaterThan(pluginPriority('application-registration')!);
    expect(pluginPriority('rate-limiting')).toBeUndefined();
  });

  it('is the catalog translate uses by default, so controller and proxy agree', () => {
    expect(defaultPluginCatalog.validate('openid-connect', 'x')).toEqual(
      validatePluginConfig('openid-connect', 'x'),
    );
    expect(defaultPluginCatalog.priority('openid-connect')).toBe(pluginPriority('openid-connect'));
  });
});
