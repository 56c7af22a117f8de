import type { Logger } from 'pino';
import { createLogger } from '../../../common/logger.js';
import type { CompiledConfig } from '../../../contract/index.js';
import { pluginConfigWithDefaults } from '../../../contract/plugins.js';
import type { OpenIdConnectConfig } from '../../../contract/plugins/openid-connect.js';
import { registerPlugin, type IdpCallLimits, type PluginFactory } from '../registry.js';
import { sessionFallbackSecret } from '../session-secret.js';
import { ConsumerIndex } from './consumer.js';
import { IdpCallLimiter } from './idp-call-limiter.js';
import { sharedOidcMetrics } from './metrics.js';
import { OpenIdConnectPlugin, type OidcServices } from './plugin.js';
import { ProviderRegistry, type Provider } from './provider.js';
import { TokenClient } from './token-client.js';
import { upstreamHeaderNames } from './upstream-headers.js';

/** Worker-wide state that outlives config swaps: IdP metadata, keys and token caches. */
class SharedServices {
  readonly metrics = sharedOidcMetrics();
  readonly providers = new ProviderRegistry(this.metrics);
  readonly #tokenClients = new WeakMap<Provider, TokenClient>();
  readonly #consumers = new WeakMap<CompiledConfig, ConsumerIndex>();
  readonly log: Logger;
  readonly fallbackSessionSecret = sessionFallbackSecret();
  /**
   * Per plugin instance id, kept across config swaps: a push must not refill
   * the bucket, and calls still in flight from the previous config count.
   */
  readonly #limiters = new Map<string, IdpCallLimiter>();

  constructor(log: Logger) {
    // `plugin` is the instance id on each line (as in the metrics); the plugin's name is `pluginName`.
    this.log = log.child({ pluginName: 'openid-connect' });
  }

  limiterFor(id: string, limits: IdpCallLimits): IdpCallLimiter {
    const known = this.#limiters.get(id);
    if (
      known?.limits.concurrency === limits.concurrency &&
      known.limits.ratePerSecond === limits.ratePerSecond &&
      known.limits.burst === limits.burst
    ) {
      return known;
    }
    const limiter = new IdpCallLimiter(limits);
    this.#limiters.set(id, limiter);
    return limiter;
  }

  forConfig(config: OpenIdConnectConfig): Omit<OidcServices, 'idpCalls'> {
    const provider = this.providers.get({
      issuer: config.issuer,
      timeout: config.timeout,
      sslVerify: config.ssl_verify,
      rediscoveryLifetime: config.rediscovery_lifetime,
      extraJwksUris: config.extra_jwks_uris ?? [],
      ...(config.jwks_endpoint !== undefined && { jwksEndpoint: config.jwks_endpoint }),
      ...(config.token_endpoint !== undefined && { tokenEndpoint: config.token_endpoint }),
      ...(config.introspection_endpoint !== undefined && {
        introspectionEndpoint: config.introspection_endpoint,
      }),
      ...(config.userinfo_endpoint !== undefined && { userinfoEndpoint: config.userinfo_endpoint }),
      ...(config.authorization_endpoint !== undefined && {
        authorizationEndpoint: config.authorization_endpoint,
      }),
      ...(config.end_session_endpoint !== undefined && { endSessionEndpoint: config.end_session_endpoint }),
    });
    let tokens = this.#tokenClients.get(provider);
    if (!tokens) {
      tokens = new TokenClient(provider, this.metrics);
      this.#tokenClients.set(provider, tokens);
    }
    return {
      provider,
      tokens,
      metrics: this.metrics,
      log: this.log,
      fallbackSessionSecret: this.fallbackSessionSecret,
      consumers: (compiled) => {
        let index = this.#consumers.get(compiled);
        if (!index) {
          index = new ConsumerIndex(compiled.applications);
          this.#consumers.set(compiled, index);
        }
        return index;
      },
    };
  }
}

let shared: SharedServices | undefined;

export const openIdConnectFactory: PluginFactory = {
  name: 'openid-connect',
  priority: 1050,
  create(instance, environment) {
    // Worker-wide, so it takes the first config's logger: the worker's, at its --log-level.
    shared ??= new SharedServices(environment.log ?? createLogger({ name: 'portcullis-proxy' }));
    const config = pluginConfigWithDefaults<OpenIdConnectConfig>('openid-connect', instance.config);
    return new OpenIdConnectPlugin(instance, config, {
      ...shared.forConfig(config),
      idpCalls: shared.limiterFor(instance.id, environment.idpCalls),
    });
  },
  names(instance) {
    const config = pluginConfigWithDefaults<OpenIdConnectConfig>('openid-connect', instance.config);
    // Read defensively: the config may be one the contract refused.
    const strings = (value: unknown) =>
      (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === 'string' && v !== '');
    const methods = strings(config.auth_methods);
    const login = methods.includes('authorization_code');
    return {
      headers: strings(
        upstreamHeaderNames({
          ...config,
          upstream_headers_names: strings(config.upstream_headers_names),
          upstream_headers: (Array.isArray(config.upstream_headers) ? config.upstream_headers : []).filter(
            (h) => typeof h?.header === 'string',
          ),
        }),
      ),
      cookies: [
        ...(login || methods.includes('session') ? strings(config.session_cookie_name) : []),
        ...(login ? strings(config.authorization_cookie_name) : []),
      ],
    };
  },
};

registerPlugin(openIdConnectFactory);
