import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { Value } from '@sinclair/typebox/value';
import { X509Certificate } from 'node:crypto';
import { CompiledConfig, type Route, type Source } from './compiled-config.js';

/** Something wrong with one element of a config, naming where it is and what made it. */
export interface Problem {
  /** JSON pointer into the config, e.g. `/virtualHosts/0/routes/3/path`. */
  path: string;
  message: string;
  source?: Source;
}

export type ValidationResult = { ok: true; config: CompiledConfig } | { ok: false; problems: Problem[] };

// Compiled on first use: translate imports this module for regexOfPath and isCaCertificate only.
let compiled: TypeCheck<typeof CompiledConfig> | undefined;
const checker = (): TypeCheck<typeof CompiledConfig> => (compiled ??= TypeCompiler.Compile(CompiledConfig));
const MAX_SCHEMA_PROBLEMS = 50;

/** The regex of an ImplementationSpecific path that uses Kong's `~` marker, or undefined. */
export function regexOfPath(route: Pick<Route, 'path' | 'pathType'>): string | undefined {
  return route.pathType === 'ImplementationSpecific' && route.path.startsWith('~')
    ? route.path.slice(1)
    : undefined;
}

/**
 * Validates an untrusted value as a CompiledConfig: first its shape (with
 * schema defaults applied to a copy), then the references between elements.
 * Never throws for bad input; every problem names the element and its source.
 * A config that needs no defaults is returned as it is (the same object), so
 * callers can tell whether their serialised input still describes it.
 */
export function validateConfig(input: unknown): ValidationResult {
  // A complete config (the controller always sends one) is checked as it is:
  // cloning and filling defaults costs seconds on a config of 10,000 routes.
  const candidate = checker().Check(input) ? input : Value.Default(CompiledConfig, Value.Clone(input));
  if (!checker().Check(candidate)) {
    const problems: Problem[] = [];
    for (const error of checker().Errors(candidate)) {
      problems.push({
        path: error.path || '/',
        message: error.message,
        ...sourceAt(candidate, error.path),
      });
      if (problems.length >= MAX_SCHEMA_PROBLEMS) break;
    }
    return { ok: false, problems };
  }
  const problems = referenceProblems(candidate);
  return problems.length > 0 ? { ok: false, problems } : { ok: true, config: candidate };
}

/** The source of the nearest enclosing element of a JSON pointer, when it has one. */
function sourceAt(root: unknown, pointer: string): { source?: Source } {
  let node: unknown = root;
  let found: Source | undefined;
  for (const part of pointer.split('/').slice(1)) {
    if (node === null || typeof node !== 'object') break;
    node = (node as Record<string, unknown>)[part.replace(/~1/g, '/').replace(/~0/g, '~')];
    const source = (node as { source?: unknown } | undefined)?.source;
    if (Value.Check(CompiledConfig.properties.upstreams.items.properties.source, source)) found = source;
  }
  return found ? { source: found } : {};
}

function referenceProblems(config: CompiledConfig): Problem[] {
  const problems: Problem[] = [];
  const add = (path: string, message: string, source?: Source) =>
    problems.push(source ? { path, message, source } : { path, message });

  const unique = <T>(
    items: T[],
    key: (item: T) => string,
    what: string,
    base: string,
    src: (item: T) => Source | undefined,
  ) => {
    const seen = new Set<string>();
    items.forEach((item, i) => {
      const k = key(item);
      if (seen.has(k)) add(`${base}/${i}`, `duplicate ${what} "${k}"`, src(item));
      seen.add(k);
    });
    return seen;
  };

  const upstreams = unique(
    config.upstreams,
    (u) => u.name,
    'upstream name',
    '/upstreams',
    (u) => u.source,
  );
  const plugins = unique(
    config.plugins,
    (p) => p.id,
    'plugin id',
    '/plugins',
    (p) => p.source,
  );
  const certificates = unique(
    config.certificates,
    (c) => c.id,
    'certificate id',
    '/certificates',
    (c) => c.source,
  );
  unique(
    config.applications,
    (a) => a.id,
    'application id',
    '/applications',
    (a) => a.source,
  );
  unique(
    config.virtualHosts,
    (v) => v.host,
    'virtual host',
    '/virtualHosts',
    () => undefined,
  );

  config.upstreams.forEach((u, i) => {
    if (!u.tlsVerify) return;
    if (u.protocol !== 'https') add(`/upstreams/${i}/tlsVerify`, 'tlsVerify needs protocol https', u.source);
    u.tlsVerify.caCertificates?.forEach((pem, c) => {
      if (!isCaCertificate(pem))
        add(`/upstreams/${i}/tlsVerify/caCertificates/${c}`, 'not a PEM CA certificate', u.source);
    });
  });

  if (config.defaultCertificate !== undefined && !certificates.has(config.defaultCertificate)) {
    add('/defaultCertificate', `unknown certificate "${config.defaultCertificate}"`);
  }

  const routeIds = new Set<string>();
  // The route's pointer is built only for a problem: 20,000 routes would otherwise mean 20,000 strings.
  // `v` < 0 is the default backend.
  const pointer = (v: number, r: number) => (v < 0 ? '/defaultBackend' : `/virtualHosts/${v}/routes/${r}`);
  const checkRoute = (route: Route, v: number, r: number) => {
    const at = () => pointer(v, r);
    if (routeIds.has(route.id)) add(at(), `duplicate route id "${route.id}"`, route.source);
    routeIds.add(route.id);
    if (!upstreams.has(route.upstream))
      add(`${at()}/upstream`, `unknown upstream "${route.upstream}"`, route.source);
    for (let i = 0; i < route.plugins.length; i++) {
      const id = route.plugins[i]!;
      if (!plugins.has(id)) add(`${at()}/plugins/${i}`, `unknown plugin instance "${id}"`, route.source);
    }
    const regex = regexOfPath(route);
    if (regex !== undefined) {
      try {
        new RegExp(regex);
      } catch (error) {
        add(`${at()}/path`, `invalid regular expression: ${(error as Error).message}`, route.source);
      }
    } else if (!route.path.startsWith('/')) {
      add(`${at()}/path`, `path must start with "/"`, route.source);
    }
  };
  config.virtualHosts.forEach((vhost, v) => vhost.routes.forEach((route, r) => checkRoute(route, v, r)));
  if (config.defaultBackend) checkRoute(config.defaultBackend, -1, 0);
  return problems;
}

/** One PEM certificate with the CA basic constraint (what a trust anchor must be). */
export function isCaCertificate(pem: string): boolean {
  // Exactly one block and nothing else, as KIC requires of a CA certificate Secret.
  if (!/^-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]+-----END CERTIFICATE-----$/.test(pem.trim()))
    return false;
  try {
    return new X509Certificate(pem).ca;
  } catch {
    return false;
  }
}
