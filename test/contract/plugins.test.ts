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
