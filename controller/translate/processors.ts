/**
 * The processors, in the order they run. Each reads what the ones before it
 * left in the context; see each file's header for its rules.
 */
import type { Processor } from './context.js';
import { annotationsProcessor } from './processors/annotations.js';
import { applicationsProcessor } from './processors/applications.js';
import { certificatesProcessor } from './processors/certificates.js';
import { conflictsProcessor } from './processors/conflicts.js';
import { ingressClassProcessor } from './processors/ingress-class.js';
import { pluginsProcessor } from './processors/plugins.js';
import { routesProcessor } from './processors/routes.js';
import { scopeProcessor } from './processors/scope.js';
import { servicePluginsProcessor } from './processors/service-plugins.js';
import { upstreamsProcessor } from './processors/upstreams.js';

export const PROCESSORS: readonly Processor[] = [
  scopeProcessor, // watched namespaces, well-formed objects, indexes
  ingressClassProcessor, // which Ingresses are ours
  certificatesProcessor, // spec.tls -> certificates
  annotationsProcessor, // Ingress and Service annotations -> settings
  upstreamsProcessor, // backends -> Services, EndpointSlices -> upstreams
  pluginsProcessor, // KongPlugin, KongClusterPlugin -> plugin instances
  routesProcessor, // rules, defaultBackend -> candidate routes
  conflictsProcessor, // same host and path -> oldest wins
  servicePluginsProcessor, // routes to one Service agree on application-registration, or answer 503
  applicationsProcessor, // Application + ApplicationRegistration -> applications
];
