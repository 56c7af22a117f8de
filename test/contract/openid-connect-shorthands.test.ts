/** Kong 2.8 session names: one row per name, then what translate makes of a whole 2.8 config. */
import { describe, expect, it } from 'vitest';
import { mapKongShorthands } from '../../contract/plugins/openid-connect-shorthands.js';
import { emptySnapshot, translate } from '../../controller/translate/index.js';
import { ingress, ingressClass, kongPlugin, service } from '../fixtures/k8s.js';

const ISSUER = 'https://idp.example.test';

describe('mapKongShorthands', () => {
  it.each([
    ['session_cookie_lifetime', 7200, { session_rolling_timeout: 7200, session_idling_timeout: 0 }],
    ['session_cookie_idletime', 300, { session_idling_timeout: 300 }],
    ['session_cookie_samesite', 'Strict', { session_cookie_same_site: 'Strict', session_idling_timeout: 0 }],
    ['session_cookie_samesite', 'off', { session_cookie_same_site: 'Lax', session_idling_timeout: 0 }],
    ['session_cookie_httponly', false, { session_cookie_http_only: false, session_idling_timeout: 0 }],
    ['session_cookie_renew', 600, { session_idling_timeout: 0 }],
    ['session_strategy', 'regenerate', { session_idling_timeout: 0 }],
    ['session_cookie_maxsize', 4000, { session_idling_timeout: 0 }],
    ['session_compressor', 'zlib', { session_idling_timeout: 0 }],
    ['session_auth_ttl', 60, { session_idling_timeout: 0 }],
  ])('%s: %j', (field, value, want) => {
    const out = mapKongShorthands({ issuer: ISSUER, [field]: value });
    expect(out.config).toEqual({ issuer: ISSUER, ...want });
    expect(out.notes[0]).toContain(`"${field}"`);
    expect(out.conflicts).toEqual([]);
  });

  it('keeps an idle timeout the 2.8 config set under the new name', () => {
    const out = mapKongShorthands({
      issuer: ISSUER,
      session_cookie_lifetime: 60,
      session_idling_timeout: 30,
    });
    expect(out.config).toEqual({ issuer: ISSUER, session_rolling_timeout: 60, session_idling_timeout: 30 });
  });

  it('refuses an old name set with its new one', () => {
    const out = mapKongShorthands({
      issuer: ISSUER,
      session_cookie_lifetime: 60,
      session_rolling_timeout: 30,
    });
    expect(out.conflicts).toEqual([
      'fields "session_cookie_lifetime" (Kong 2.8) and "session_rolling_timeout" are both set; keep "session_rolling_timeout"',
    ]);
  });

  it('leaves a current config as it is, with no note', () => {
    const config = { issuer: ISSUER, session_idling_timeout: 900 };
    expect(mapKongShorthands(config)).toEqual({ config, notes: [], conflicts: [] });
  });
});

describe('translate of a Kong 2.8 session config', () => {
  function run(config: Record<string, unknown>) {
    const snapshot = emptySnapshot();
    snapshot.ingressClasses.push(ingressClass());
    snapshot.services.push(service('shop', 'web'));
    snapshot.kongPlugins.push(kongPlugin('shop', 'oidc', 'openid-connect', config));
    snapshot.ingresses.push(
      ingress('shop', 'web', {
        annotations: { 'konghq.com/plugins': 'oidc' },
        rules: [{ host: 'shop.example.com', paths: [{ path: '/', service: 'web' }] }],
      }),
    );
    return translate(snapshot);
  }

  it('serves with the current names and warns', () => {
    const { config, problems } = run({
      issuer: ISSUER,
      auth_methods: ['session'],
      session_cookie_lifetime: 7200,
      session_cookie_samesite: 'Strict',
      session_strategy: 'regenerate',
    });
    expect(config.virtualHosts[0]!.routes[0]!.unavailable).toBeUndefined();
    expect(config.plugins[0]!.config).toMatchObject({
      session_rolling_timeout: 7200,
      session_cookie_same_site: 'Strict',
      session_idling_timeout: 0,
    });
    expect(config.plugins[0]!.config).not.toHaveProperty('session_cookie_lifetime');
    expect(problems.map((p) => p.code)).toEqual(['PLUGIN_FIELD_DEPRECATED']);
    expect(problems[0]!.message).toContain(
      '"session_cookie_lifetime" is Kong 2.8\'s name; read as "session_rolling_timeout"',
    );
  });

  it('a bad value under a 2.8 name still refuses the plugin (the problem names the current field)', () => {
    const { config, problems } = run({ issuer: ISSUER, session_cookie_samesite: 'Sometimes' });
    expect(config.virtualHosts[0]!.routes[0]!.unavailable?.code).toBe('PLUGIN_CONFIG_INVALID');
    expect(problems.map((p) => p.code).sort()).toEqual(['PLUGIN_CONFIG_INVALID', 'PLUGIN_FIELD_DEPRECATED']);
    expect(problems.find((p) => p.code === 'PLUGIN_CONFIG_INVALID')!.message).toContain(
      'session_cookie_same_site',
    );
  });

  it('both names set: the plugin is refused', () => {
    const { config } = run({ issuer: ISSUER, session_cookie_idletime: 60, session_idling_timeout: 30 });
    expect(config.virtualHosts[0]!.routes[0]!.unavailable?.code).toBe('PLUGIN_CONFIG_INVALID');
  });
});
