/**
 * Services and endpoints to upstreams: resolves every backend our Ingresses
 * use to an upstream named `namespace.service.port` (the Service port's
 * number), whose targets are the ready endpoints of the Service's
 * EndpointSlices.
 *
 * - The backend's port is a Service port, by number or by name.
 * - The EndpointSlice port is the one with the Service port's name (an
 *   unnamed Service port matches an unnamed slice port).
 * - An endpoint is ready unless `conditions.ready` is false.
 * - An ExternalName Service has one target: its external name, at the port.
 * - A missing Service or port still gets an (empty) upstream, so the route
 *   can stay in the config and answer 503 instead of falling through.
 * - A Service with konghq.com/tls-verify: "true" gets an upstream that
 *   verifies, trusting the CA certificates of its
 *   konghq.com/ca-certificates-secrets (KIC's CA Secrets: labelled
 *   `konghq.com/ca-cert: "true"`, the PEM under `cert` or `ca.crt`). A
 *   missing or bad one makes the routes answer 503; the upstream then still
 *   verifies, against the default CA store, never unverified.
 */
import type { Target, Upstream, UpstreamTlsVerify } from '../../../contract/compiled-config.js';
import { isCaCertificate } from '../../../contract/validate.js';
import {
  addProblem,
  type BackendResult,
  type Processor,
  type RouteSettings,
  type TranslateContext,
  type Unavailable,
} from '../context.js';
import type { EndpointSlice, Ingress, IngressBackend, Secret, Service, ServicePort } from '../k8s-types.js';
import { arr, compareStrings, record, ref, refOf, secretValue, str } from '../read.js';
import { backendKey, backendPort, ingressBackends, serviceKeyOf } from './backends.js';

const DEFAULT_WEIGHT = 100;
/** KIC's label for a Secret that holds a CA certificate. */
const CA_CERT_LABEL = 'konghq.com/ca-cert';

/** The CA Secrets a Service's settings name, in its namespace (`secret` undefined: missing). */
function caSecretsOf(ctx: TranslateContext, service: Service, settings: RouteSettings | undefined) {
  return (settings?.caSecrets ?? []).map((name) => ({
    name,
    secret: ctx.index.secrets.get(`${service.metadata.namespace}/${name}`),
  }));
}

/** The upstream's verification settings, and why its routes must answer 503 when a CA Secret is unusable. */
function tlsVerifyOf(
  ctx: TranslateContext,
  service: Service,
  settings: RouteSettings | undefined,
): { tlsVerify?: UpstreamTlsVerify; unavailable?: Unavailable } {
  if (settings?.tlsVerify !== true) return {};
  const tlsVerify: UpstreamTlsVerify = {};
  if (settings.tlsVerifyDepth !== undefined) tlsVerify.depth = settings.tlsVerifyDepth;
  const caCertificates: string[] = [];
  const namespace = service.metadata.namespace!;
  for (const { name, secret } of caSecretsOf(ctx, service, settings)) {
    const read = readCaSecret(secret);
    if (typeof read === 'string') {
      const code =
        secret && record(secret.metadata.labels)?.[CA_CERT_LABEL] === 'true'
          ? 'UPSTREAM_CA_INVALID'
          : 'UPSTREAM_CA_NOT_FOUND';
      // The certificate's content is never in the message: only where it is and what is wrong.
      const message = `CA certificate Secret ${namespace}/${name} (konghq.com/ca-certificates-secrets of Service ${namespace}/${service.metadata.name}) ${read}`;
      return { tlsVerify, unavailable: { code, message } };
    }
    caCertificates.push(read.pem);
  }
  if (caCertificates.length > 0) tlsVerify.caCertificates = caCertificates;
  return { tlsVerify };
}

/** A CA Secret's certificate, or what is wrong with it. */
function readCaSecret(secret: Secret | undefined): { pem: string } | string {
  if (!secret) return 'does not exist';
  if (record(secret.metadata.labels)?.[CA_CERT_LABEL] !== 'true') {
    return `is not labelled ${CA_CERT_LABEL}: "true" (KIC requires the label)`;
  }
  const pem = secretValue(secret, 'cert') ?? secretValue(secret, 'ca.crt');
  if (pem === undefined) return 'has neither a cert nor a ca.crt key';
  if (!isCaCertificate(pem)) return 'does not hold exactly one PEM certificate with the CA basic constraint';
  return { pem: `${pem.trim()}\n` };
}

function readyTargets(slices: readonly EndpointSlice[], port: ServicePort): Target[] {
  const wanted = str(port.name) ?? '';
  const seen = new Map<string, Target>();
  for (const slice of slices) {
    const slicePort = arr<{ name?: unknown; port?: unknown }>(slice.ports).find(
      (p) => (str(record(p)?.name) ?? '') === wanted,
    );
    const number = slicePort?.port;
    if (typeof number !== 'number' || !Number.isInteger(number) || number < 1 || number > 65535) continue;
    for (const endpoint of arr(slice.endpoints)) {
      if (record(record(endpoint)?.conditions)?.ready === false) continue;
      for (const address of arr(record(endpoint)?.addresses)) {
        const host = str(address);
        if (host) seen.set(`${host} ${number}`, { host, port: number, weight: DEFAULT_WEIGHT });
      }
    }
  }
  return [...seen.values()].sort((a, b) => compareStrings(a.host, b.host) || a.port - b.port);
}

function findPort(service: Service, port: number | string): ServicePort | undefined {
  return arr<ServicePort>(record(service.spec)?.ports).find((p) =>
    typeof port === 'number' ? record(p)?.port === port : str(record(p)?.name) === port,
  );
}

/** A backend's result and the upstream it names (the first slot to name an upstream defines it). */
interface SlotResult {
  result: BackendResult;
  upstream: Upstream;
}

function resolveServiceBackend(
  ctx: TranslateContext,
  serviceKey: string,
  port: number | string,
  service: Service | undefined,
  slices: readonly EndpointSlice[],
): SlotResult {
  const [namespace, name] = serviceKey.split('/') as [string, string];
  const missing = (upstream: string): Upstream => ({
    name: upstream,
    protocol: 'http',
    targets: [],
    source: ref('Service', namespace, name),
  });
  if (!service) {
    const upstream = `${namespace}.${name}.${port}`;
    const message = `Service ${serviceKey} does not exist`;
    return {
      result: { upstream, service: serviceKey, unavailable: { code: 'SERVICE_NOT_FOUND', message } },
      upstream: missing(upstream),
    };
  }
  const externalName =
    str(record(service.spec)?.type) === 'ExternalName' ? str(service.spec?.externalName) : undefined;
  const servicePort =
    findPort(service, port) ?? (externalName && typeof port === 'number' ? { port } : undefined);
  if (!servicePort || typeof servicePort.port !== 'number') {
    const upstream = `${namespace}.${name}.${port}`;
    const message = `Service ${serviceKey} has no port ${typeof port === 'number' ? port : `named "${port}"`}`;
    return {
      result: {
        upstream,
        service: serviceKey,
        found: service,
        unavailable: { code: 'SERVICE_PORT_NOT_FOUND', message },
      },
      upstream: missing(upstream),
    };
  }
  const upstream = `${namespace}.${name}.${servicePort.port}`;
  const settings = ctx.settings.get(service);
  const targets = externalName
    ? [{ host: externalName, port: servicePort.port, weight: DEFAULT_WEIGHT }]
    : readyTargets(slices, servicePort);
  const protocol = settings?.upstreamProtocol ?? 'http';
  // Plain http has nothing to verify; annotations.ts made such a Service's routes 503.
  const { tlsVerify, unavailable } = protocol === 'https' ? tlsVerifyOf(ctx, service, settings) : {};
  return {
    result: { upstream, service: serviceKey, found: service, ...(unavailable ? { unavailable } : {}) },
    upstream: {
      name: upstream,
      protocol,
      targets,
      ...(tlsVerify ? { tlsVerify } : {}),
      source: refOf('Service', service),
    },
  };
}

/** A backend use of an Ingress: its slot, and the Service and port it names when it names both. */
export interface SlotUse {
  slot: string;
  backend: IngressBackend | undefined;
  serviceKey?: string;
  port?: number | string;
}

/** Each backend use of an Ingress, and its distinct slots; read again only when the Ingress changed. */
export function backendSlots(ctx: TranslateContext, ingress: Ingress): { uses: SlotUse[]; slots: string[] } {
  return ctx.memo.useFor('ingress-backends', ingress, ctx.problems, () => {
    const uses = ingressBackends(ingress).map(({ backend }): SlotUse => {
      const serviceKey = serviceKeyOf(ingress, backend);
      const port = backendPort(backend);
      return serviceKey === undefined || port === undefined
        ? { slot: backendSlot(ingress, backend), backend }
        : { slot: `${serviceKey}:${port}`, backend, serviceKey, port };
    });
    return { uses, slots: [...new Set(uses.map((u) => u.slot))] };
  });
}

/** A slot's result, computed again only when its Service, settings or EndpointSlices changed. */
function slotResult(ctx: TranslateContext, ingress: Ingress, use: SlotUse): SlotResult {
  const { slot, backend, serviceKey, port } = use;
  if (serviceKey === undefined || port === undefined) {
    return ctx.memo.use('backend', slot, [ingress], ctx.problems, () => {
      const upstream = `${ingress.metadata.namespace}.${ingress.metadata.name}.no-service-backend`;
      const message = record(backend)?.resource
        ? 'a resource backend is not supported; use a Service'
        : 'a backend needs service.name and service.port (number or name)';
      return {
        result: { upstream, unavailable: { code: 'INGRESS_BACKEND_INVALID', message } },
        upstream: { name: upstream, protocol: 'http', targets: [], source: refOf('Ingress', ingress) },
      };
    });
  }
  const service = ctx.index.services.get(serviceKey);
  const settings = service && ctx.settings.get(service);
  const slices = ctx.index.endpointSlices.get(serviceKey) ?? NO_SLICES;
  const resolved = ctx.memo.use(
    'backend',
    slot,
    // The CA Secrets are inputs too: a changed or deleted one is read again.
    () => [
      service,
      settings,
      ...(service ? caSecretsOf(ctx, service, settings).map((c) => c.secret) : []),
      ...slices,
    ],
    ctx.problems,
    () => resolveServiceBackend(ctx, serviceKey, port, service, slices),
  );
  // What routes read does not change with the endpoints: keep the result's
  // object while its values are the same, so an endpoint change rebuilds the
  // upstream and no route.
  const { result } = resolved;
  const values = [service, result.upstream, result.unavailable?.code, result.unavailable?.message];
  return {
    result: ctx.memo.use('backend-result', slot, values, ctx.problems, () => result),
    upstream: resolved.upstream,
  };
}

const NO_SLICES: readonly EndpointSlice[] = [];

export function backendSlot(ingress: Ingress, backend: IngressBackend | undefined): string {
  return backendKey(ingress, backend) ?? `invalid:${ingress.metadata.namespace}/${ingress.metadata.name}`;
}

export const upstreamsProcessor: Processor = {
  name: 'upstreams',
  run(ctx) {
    for (const ingress of ctx.ingresses) {
      let reported: Set<string> | undefined;
      for (const use of backendSlots(ctx, ingress).uses) {
        const { slot } = use;
        let result = ctx.backends.get(slot);
        if (!result) {
          const resolved = slotResult(ctx, ingress, use);
          result = resolved.result;
          if (!ctx.upstreams.has(resolved.upstream.name)) {
            ctx.upstreams.set(resolved.upstream.name, resolved.upstream);
          }
          ctx.backends.set(slot, result);
        }
        // One problem per Ingress and broken backend, naming both, so each Ingress hears of it.
        if (result.unavailable && !reported?.has(slot)) {
          (reported ??= new Set()).add(slot);
          const objects = [refOf('Ingress', ingress)];
          if (result.service) {
            const [namespace, name] = result.service.split('/') as [string, string];
            objects.push(ref('Service', namespace, name));
          }
          addProblem(ctx, result.unavailable.code, result.unavailable.message, objects);
        }
      }
    }
  },
};
