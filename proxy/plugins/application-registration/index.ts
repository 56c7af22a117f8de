import { createLogger } from '../../../common/logger.js';
import { pluginConfigWithDefaults } from '../../../contract/plugins.js';
import type { ApplicationRegistrationConfig } from '../../../contract/plugins/application-registration.js';
import { registerPlugin, type PluginFactory } from '../registry.js';
import { sharedApplicationRegistrationMetrics } from './metrics.js';
import { ApplicationRegistrationPlugin } from './plugin.js';

export const applicationRegistrationFactory: PluginFactory = {
  name: 'application-registration',
  priority: 995,
  create(instance, environment) {
    const config = pluginConfigWithDefaults<ApplicationRegistrationConfig>(
      'application-registration',
      instance.config,
    );
    // `plugin` is the instance id on each line (as in the metrics); the plugin's name is `pluginName`.
    const log = (environment.log ?? createLogger({ name: 'portcullis-proxy' })).child({
      pluginName: 'application-registration',
    });
    return new ApplicationRegistrationPlugin(instance, config, sharedApplicationRegistrationMetrics(), log);
  },
  // No header or cookie of its own: the authenticating plugin's X-Consumer-* name the Application.
};

registerPlugin(applicationRegistrationFactory);
