/** Loads the plugins this proxy ships; each registers itself with the registry. */
import './openid-connect/index.js';
import './application-registration/index.js';
