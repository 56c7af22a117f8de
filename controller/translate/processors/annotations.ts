/**
 * Kong annotations: reads the route-shaping annotations of our Ingresses and
 * of the Services they route to into RouteSettings.
 *
 * On Ingress and Service: konghq.com/plugins, strip-path, preserve-host (booleans
 * in any case, as KIC),
 * methods, protocols, https-redirect-status-code, host-aliases, and
 * ingress.kubernetes.io/force-ssl-redirect. On Service only: konghq.com/path,
 * connect-timeout, read-timeout, write-timeout, retries, protocol (the
 * upstream's scheme), and upstream TLS verification: tls-verify (Go's boolean
 * forms, as KIC), tls-verify-depth (0 to 64, Kong's range) and
 * ca-certificates-secrets (Secret names; upstreams.ts reads them). A value set on the Ingress wins over the Service's;
 * plugins combine (see plugins.ts).
 *
 * Portcullis's own, on Ingress and Service: portcullis.dev/max-request-body-size
 * (nginx's size syntax: `10m`; `0` is no limit).
 *
 * On Ingress only, the route-narrowing ones: konghq.com/headers.<name> (the
 * header must carry one of the listed values; konghq.com/headers-separator
 * changes the list separator from `,`) and konghq.com/snis (the TLS server
 * names the route serves). On a Service they are refused: KIC ignores them
 * there, and an ignored narrowing widens the route.
 *
 * An invalid value is a problem and makes the object's routes answer 503:
 * guessing could widen a route (an ignored `protocols: https` would serve
 * plain http). The exception is a bad body size: it is a problem and is
 * ignored, because the proxy's default limit still applies, so nothing is
 * widened.
 *
 * Every other konghq.com annotation fails the object's routes closed too
 * (ANNOTATION_UNSUPPORTED): KIC's that we do not implement (override,
 * ca-certificates-configmaps, ...; see REFUSED) and unknown names, with the nearest
 * known name suggested, because a typo such as `konghq.com/plugin: okta` that
 * is ignored serves the route with no auth. The exceptions, NO_EFFECT, cannot
 * change who gets in or what the upstream sees (buffering, tags). A
 * Service-only annotation on an Ingress is ignored, as KIC does, and reported
 * (ANNOTATION_MISPLACED). docs/kong-compatibility.md has the full table.
 *
 * Where KIC reports a TLS setting and still serves the Service unverified
 * (CA certificates without tls-verify), or hands Kong a Service it rejects
 * (tls-verify on plain http), the Service's routes answer 503 here: whoever
 * asked for verification never gets an unverified upstream.
 */
import { addProblem, type Processor, type RouteSettings, type TranslateContext } from '../context.js';
import type { HeaderMatch } from '../../../contract/compiled-config.js';
import type { Ingress, KubeObject, Service } from '../k8s-types.js';
import type { ProblemCode } from '../problem-codes.js';
import { parseByteSize } from '../../../common/byte-size.js';
import { compareStrings, normalizeHost, record, refOf, splitList, str } from '../read.js';
import { ingressBackends, serviceKeyOf } from './backends.js';

type Kind = 'Ingress' | 'Service';
type Parser = (settings: RouteSettings, value: string) => string | undefined;

const REDIRECT_CODES = [301, 302, 307, 308, 426] as const;
const MAX_TIMEOUT_MS = 3_600_000;
const MAX_RETRIES = 32;
const MAX_BODY_SIZE = 'portcullis.dev/max-request-body-size';
const MAX_VERIFY_DEPTH = 64; // Kong's service schema: tls_verify_depth between 0 and 64
const TLS_VERIFY = 'konghq.com/tls-verify';
const CA_SECRETS = 'konghq.com/ca-certificates-secrets';
/** Service annotations that ask for upstream TLS verification: misplaced on an Ingress, they fail closed. */
const ASKS_FOR_VERIFICATION = new Set([
  TLS_VERIFY,
  'konghq.com/tls-verify-depth',
  CA_SECRETS,
  'konghq.com/ca-certificates-configmaps',
]);
/** A Secret name: a DNS-1123 subdomain. */
const SECRET_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const HEADERS_PREFIX = 'konghq.com/headers.';
const HEADERS_SEPARATOR = 'konghq.com/headers-separator';
/** RFC 9110 token: what a header name may be. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$/;
const MAX_HEADER_VALUE = 4096;
const RESERVED_HEADER_NAMES: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);
const INGRESS_ONLY =
  'it is read on the Ingress only (KIC ignores it on a Service, and an ignored narrowing widens the route): move it to the Ingress';

/** Case-insensitive, as KIC reads strip-path and preserve-host (`True` is true there too). */
function parseBoolean(value: string): boolean | undefined {
  const lower = value.toLowerCase();
  return lower === 'true' ? true : lower === 'false' ? false : undefined;
}

/** Go's strconv.ParseBool forms, which KIC uses for tls-verify (`1`, `t`, `TRUE`, ...), in any case. */
function parseGoBoolean(value: string): boolean | undefined {
  const lower = value.toLowerCase();
  return ['1', 't', 'true'].includes(lower) ? true : ['0', 'f', 'false'].includes(lower) ? false : undefined;
}

function parseInteger(value: string, min: number, max: number): number | undefined {
  if (!/^\d{1,10}$/.test(value)) return undefined;
  const n = Number(value);
  return n >= min && n <= max ? n : undefined;
}

const bool =
  (field: 'stripPath' | 'preserveHost' | 'forceSslRedirect'): Parser =>
  (settings, value) => {
    const parsed = parseBoolean(value);
    if (parsed === undefined) return 'must be "true" or "false"';
    settings[field] = parsed;
    return undefined;
  };

const timeout =
  (field: 'connectMs' | 'readMs' | 'writeMs'): Parser =>
  (settings, value) => {
    const parsed = parseInteger(value, 1, MAX_TIMEOUT_MS);
    if (parsed === undefined) return `must be milliseconds from 1 to ${MAX_TIMEOUT_MS}`;
    settings[field] = parsed;
    return undefined;
  };

/** Annotations that shape routes, valid on Ingress and Service. */
const ROUTE_ANNOTATIONS: Record<string, Parser> = {
  'konghq.com/plugins': (settings, value) => {
    settings.plugins = [...new Set(splitList(value))];
    return undefined;
  },
  'konghq.com/strip-path': bool('stripPath'),
  'konghq.com/preserve-host': bool('preserveHost'),
  'ingress.kubernetes.io/force-ssl-redirect': bool('forceSslRedirect'),
  'konghq.com/methods': (settings, value) => {
    const methods = splitList(value);
    if (methods.length === 0 || methods.some((m) => !/^[A-Za-z]{1,32}$/.test(m))) {
      return 'must be a comma-separated list of HTTP methods';
    }
    settings.methods = [...new Set(methods.map((m) => m.toUpperCase()))].sort(compareStrings);
    return undefined;
  },
  'konghq.com/protocols': (settings, value) => {
    const protocols = splitList(value).map((p) => p.toLowerCase());
    const unsupported = protocols.filter((p) => p !== 'http' && p !== 'https');
    if (protocols.length === 0 || unsupported.length > 0) {
      return `must list http and/or https${unsupported.length > 0 ? ` (unsupported: ${unsupported.join(', ')})` : ''}`;
    }
    settings.protocols = (['http', 'https'] as const).filter((p) => protocols.includes(p));
    return undefined;
  },
  'konghq.com/https-redirect-status-code': (settings, value) => {
    const code = REDIRECT_CODES.find((c) => String(c) === value);
    if (code === undefined) return `must be one of ${REDIRECT_CODES.join(', ')}`;
    settings.httpsRedirectStatusCode = code;
    return undefined;
  },
  'konghq.com/host-aliases': (settings, value) => {
    const hosts = splitList(value);
    const normalized = hosts.map(normalizeHost);
    if (hosts.length === 0 || normalized.some((h) => h === undefined)) {
      return 'must be a comma-separated list of host names';
    }
    settings.hostAliases = [...new Set(normalized as string[])];
    return undefined;
  },
  [MAX_BODY_SIZE]: (settings, value) => {
    const bytes = parseByteSize(value);
    if (bytes === undefined) return 'must be a size in bytes, optionally with k, m or g (0: no limit)';
    settings.maxRequestBodySize = bytes;
    return undefined;
  },
};

/** Annotations that narrow an Ingress's routes, valid on Ingress only (as KIC reads them). */
const INGRESS_ANNOTATIONS: Record<string, Parser> = {
  'konghq.com/snis': (settings, value) => {
    const names = splitList(value).map((n) => n.toLowerCase().replace(/(.)\.$/, '$1'));
    if (names.length === 0) return 'must be a comma-separated list of server names';
    if (names.some((n) => n.startsWith('*.')))
      return 'must list exact server names (wildcards are not supported)';
    if (names.some((n) => normalizeHost(n) === undefined))
      return 'must be a comma-separated list of server names';
    settings.snis = [...new Set(names)].sort(compareStrings);
    return undefined;
  },
};

function hasControl(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

/**
 * A parser for konghq.com/headers.<header>: the values are split on
 * `separator` (konghq.com/headers-separator, else `,`) and trimmed, as KIC
 * does; the request must carry one of them (Kong compares them without case).
 */
function headerMatch(header: string, separator: string): Parser {
  return (settings, value) => {
    if (!HEADER_NAME.test(header)) return `names no valid header ("${header}" is not an HTTP header name)`;
    const name = header.toLowerCase();
    if (name === 'host')
      return "cannot match the Host header: use the rule's host or konghq.com/host-aliases";
    // Header objects inherit from Object.prototype; these names mean something there.
    if (RESERVED_HEADER_NAMES.has(name)) return `cannot match a header named ${name}`;
    if ((settings.headers ?? []).some((h) => h.name === name)) {
      return `repeats header ${name} (annotation names that differ only in case)`;
    }
    const values = value.split(separator).map((v) => v.trim());
    if (values.some((v) => v.length === 0)) {
      return `must be a list of header values separated by "${separator}", none of them empty`;
    }
    if (values.some((v) => v.length > MAX_HEADER_VALUE || hasControl(v))) {
      return `has a value longer than ${MAX_HEADER_VALUE} characters or with control characters`;
    }
    if (values.some((v) => v.startsWith('~*')))
      return "uses Kong's regex header values (~*), which are not supported";
    const match: HeaderMatch = {
      name,
      values: [...new Set(values.map((v) => v.toLowerCase()))].sort(compareStrings),
    };
    settings.headers = [...(settings.headers ?? []), match].sort((a, b) => compareStrings(a.name, b.name));
    return undefined;
  };
}

/** Annotations whose bad value is reported and ignored: the proxy's default keeps the route safe. */
const IGNORED_WHEN_INVALID = new Set([MAX_BODY_SIZE]);

/** Annotations that configure the upstream side, valid on Service only. */
const SERVICE_ANNOTATIONS: Record<string, Parser> = {
  'konghq.com/path': (settings, value) => {
    if (!/^\/[^\s]{0,4095}$/.test(value)) return 'must be an absolute path without spaces';
    settings.upstreamPath = value;
    return undefined;
  },
  'konghq.com/connect-timeout': timeout('connectMs'),
  'konghq.com/read-timeout': timeout('readMs'),
  'konghq.com/write-timeout': timeout('writeMs'),
  'konghq.com/retries': (settings, value) => {
    const parsed = parseInteger(value, 0, MAX_RETRIES);
    if (parsed === undefined) return `must be an integer from 0 to ${MAX_RETRIES}`;
    settings.retries = parsed;
    return undefined;
  },
  'konghq.com/protocol': (settings, value) => {
    if (value !== 'http' && value !== 'https') return 'must be "http" or "https"';
    settings.upstreamProtocol = value;
    return undefined;
  },
  [TLS_VERIFY]: (settings, value) => {
    const parsed = parseGoBoolean(value);
    if (parsed === undefined) return 'must be "true" or "false"';
    settings.tlsVerify = parsed;
    return undefined;
  },
  'konghq.com/tls-verify-depth': (settings, value) => {
    const parsed = parseInteger(value, 0, MAX_VERIFY_DEPTH);
    if (parsed === undefined) return `must be an integer from 0 to ${MAX_VERIFY_DEPTH}`;
    settings.tlsVerifyDepth = parsed;
    return undefined;
  },
  [CA_SECRETS]: (settings, value) => {
    const names = splitList(value);
    if (names.some((n) => n.length > 253 || !SECRET_NAME.test(n))) {
      return 'must be a comma-separated list of Secret names';
    }
    // Empty is no CA certificates, as KIC reads it.
    if (names.length > 0) settings.caSecrets = [...new Set(names)];
    return undefined;
  },
};

/** Why a Service's TLS annotations cannot be served as written, or undefined. */
function tlsSettingsError(settings: RouteSettings): string | undefined {
  if (settings.caSecrets && settings.tlsVerify !== true) {
    return `annotation ${CA_SECRETS} needs ${TLS_VERIFY}: "true" (KIC ignores the CA certificates and does not verify)`;
  }
  if (settings.tlsVerify === true && settings.upstreamProtocol !== 'https') {
    return `annotation ${TLS_VERIFY}: "true" needs konghq.com/protocol: "https" (the upstream is plain http)`;
  }
  return undefined;
}

/**
 * KIC annotations Portcullis does not implement, each with why it is refused.
 * Each narrows a route or changes what the upstream sees, so ignoring one
 * could widen the route or mislead the upstream: the object's routes answer 503.
 */
const REFUSED: Record<string, string> = {
  'konghq.com/override':
    'KongIngress overrides are not supported (KIC deprecated them; use the per-field annotations)',
  'konghq.com/snis': INGRESS_ONLY,
  'konghq.com/headers-separator': INGRESS_ONLY,
  'konghq.com/regex-priority': 'regex routes are not supported',
  'konghq.com/regex-prefix': 'regex routes are not supported',
  'konghq.com/host-header': 'rewriting the upstream Host header is not implemented yet',
  'konghq.com/path-handling': 'only the default path handling is implemented',
  'konghq.com/rewrite': 'path rewriting is not implemented yet',
  'konghq.com/client-cert': 'upstream client certificates are not implemented yet',
  'konghq.com/ca-certificates-configmaps':
    'CA certificates from ConfigMaps are not implemented yet (Portcullis does not watch ConfigMaps); use konghq.com/ca-certificates-secrets',
  'konghq.com/upstream-policy': 'KongUpstreamPolicy is not supported',
};

/**
 * KIC annotations that cannot change who gets in or what the upstream sees,
 * accepted and ignored. Buffering only changes when bytes move; tags are
 * Kong admin metadata; the Gateway API ones do nothing on an Ingress or Service.
 */
const NO_EFFECT = new Set([
  'konghq.com/request-buffering',
  'konghq.com/response-buffering',
  'konghq.com/tags',
  'konghq.com/gatewayclass-unmanaged',
  'konghq.com/publish-service',
]);

const KNOWN = [
  ...Object.keys(ROUTE_ANNOTATIONS),
  ...Object.keys(SERVICE_ANNOTATIONS),
  ...Object.keys(INGRESS_ANNOTATIONS),
  ...Object.keys(REFUSED),
  ...NO_EFFECT,
  'konghq.com/headers.<name>',
].filter((name) => name.startsWith('konghq.com/'));

/** Edit distance, to suggest the annotation a typo meant. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length]!;
}

/** Why a konghq.com annotation without a parser is refused, or undefined when it has no effect. */
export function refusalOf(name: string): string | undefined {
  if (NO_EFFECT.has(name)) return undefined;
  const reason = REFUSED[name];
  if (reason !== undefined) return `annotation ${name} is not supported: ${reason}`;
  if (name.startsWith(HEADERS_PREFIX)) return `annotation ${name} is not supported: ${INGRESS_ONLY}`;
  let best: string | undefined;
  let bestDistance = 4; // farther than 3 edits is not a typo
  for (const known of KNOWN) {
    const d = distance(name, known);
    if (d < bestDistance) [best, bestDistance] = [known, d];
  }
  return `annotation ${name} is unknown${best === undefined ? '' : ` (did you mean ${best}?)`}`;
}

/**
 * The konghq.com/headers.* separator: untrimmed, as KIC splits on it. A blank
 * one is refused (its annotation fails the routes), and `,` stands in.
 */
function separatorOf(annotations: Record<string, unknown>): string {
  const raw = annotations[HEADERS_SEPARATOR];
  return typeof raw === 'string' && raw.trim() !== '' ? raw : ',';
}

/** The parser of an annotation on an object of this kind, or undefined. */
function parserFor(kind: Kind, name: string, separator: string): Parser | undefined {
  const common = ROUTE_ANNOTATIONS[name];
  if (common !== undefined) return common;
  if (kind === 'Service') return SERVICE_ANNOTATIONS[name];
  if (name.startsWith(HEADERS_PREFIX)) return headerMatch(name.slice(HEADERS_PREFIX.length), separator);
  // The separator is read with the headers (separatorOf); on its own it only has to be there.
  if (name === HEADERS_SEPARATOR)
    return (_, value) => (value === '' ? 'must not be empty or blank' : undefined);
  return INGRESS_ANNOTATIONS[name];
}

/** Parses one object's annotations, reporting each bad or unknown one. */
export function parseSettings(ctx: TranslateContext, kind: Kind, obj: KubeObject): RouteSettings {
  const settings: RouteSettings = { plugins: [] };
  const annotations = record(obj.metadata.annotations) ?? {};
  const names = Object.keys(annotations);
  if (names.length > 1) names.sort(compareStrings);
  const separator = separatorOf(annotations);
  for (const name of names) {
    const value = str(annotations[name]);
    const parser = parserFor(kind, name, separator);
    const report = (code: ProblemCode, message: string) => addProblem(ctx, code, message, [refOf(kind, obj)]);
    if (parser === undefined) {
      if (!name.startsWith('konghq.com/')) continue;
      if (SERVICE_ANNOTATIONS[name] && ASKS_FOR_VERIFICATION.has(name)) {
        // KIC ignores it on an Ingress; whoever wrote it asked for a verified upstream, so fail closed.
        const reason = `annotation ${name} is a Service annotation: on an Ingress the upstream would not be verified; put it on the Service`;
        report('ANNOTATION_UNSUPPORTED', `${reason}; the routes answer 503`);
        settings.invalid ??= {
          code: 'ANNOTATION_UNSUPPORTED',
          message: `${kind} ${obj.metadata.namespace}/${obj.metadata.name}: ${reason}`,
        };
        continue;
      }
      if (SERVICE_ANNOTATIONS[name]) {
        // KIC reads it on the Service only and ignores it on an Ingress; so do we, but say so.
        report(
          'ANNOTATION_MISPLACED',
          `annotation ${name} is a Service annotation; on an Ingress it is ignored`,
        );
        continue;
      }
      const refusal = refusalOf(name);
      if (refusal === undefined) continue;
      // Fail closed: an ignored annotation (a typo of plugins, an unimplemented match) could widen the route.
      report('ANNOTATION_UNSUPPORTED', `${refusal}; the routes answer 503`);
      settings.invalid ??= {
        code: 'ANNOTATION_UNSUPPORTED',
        message: `${kind} ${obj.metadata.namespace}/${obj.metadata.name}: ${refusal}`,
      };
      continue;
    }
    const error =
      value === undefined ? 'must be a string (quote it in YAML)' : parser(settings, value.trim());
    if (error !== undefined) {
      const shown = value === undefined ? JSON.stringify(annotations[name]) : `"${value}"`;
      const message = `annotation ${name}: ${shown} ${error}`;
      if (IGNORED_WHEN_INVALID.has(name)) {
        report('ANNOTATION_INVALID', `${message}; it is ignored and the proxy's default applies`);
        continue;
      }
      report('ANNOTATION_INVALID', message);
      settings.invalid ??= {
        code: 'ANNOTATION_INVALID',
        message: `${kind} ${obj.metadata.namespace}/${obj.metadata.name}: ${message}`,
      };
    }
  }
  const tlsError = kind === 'Service' ? tlsSettingsError(settings) : undefined;
  if (tlsError !== undefined) {
    addProblem(ctx, 'ANNOTATION_INVALID', `${tlsError}; the routes answer 503`, [refOf(kind, obj)]);
    settings.invalid ??= {
      code: 'ANNOTATION_INVALID',
      message: `${kind} ${obj.metadata.namespace}/${obj.metadata.name}: ${tlsError}`,
    };
  }
  return settings;
}

/** An object's settings, parsed again only when the object changed. */
export function settingsOf(ctx: TranslateContext, kind: Kind, obj: KubeObject): RouteSettings {
  // One table for both kinds: an object is only ever read as its own kind.
  return ctx.memo.useFor('settings', obj, ctx.problems, () => parseSettings(ctx, kind, obj));
}

/** The Services (`namespace/name`) an Ingress's backends name, in order, without repeats. */
function serviceKeys(ctx: TranslateContext, ingress: Ingress): string[] {
  return ctx.memo.useFor('ingress-services', ingress, ctx.problems, () => {
    const keys = new Set<string>();
    for (const { backend } of ingressBackends(ingress)) {
      const serviceKey = serviceKeyOf(ingress, backend);
      if (serviceKey !== undefined) keys.add(serviceKey);
    }
    return [...keys];
  });
}

export const annotationsProcessor: Processor = {
  name: 'annotations',
  run(ctx) {
    const services = new Map<string, Service>();
    for (const ingress of ctx.ingresses as Ingress[]) {
      ctx.settings.set(ingress, settingsOf(ctx, 'Ingress', ingress));
      for (const serviceKey of serviceKeys(ctx, ingress)) {
        if (services.has(serviceKey)) continue;
        const service = ctx.index.services.get(serviceKey);
        if (service) services.set(serviceKey, service);
      }
    }
    for (const serviceKey of [...services.keys()].sort()) {
      const service = services.get(serviceKey)!;
      ctx.settings.set(service, settingsOf(ctx, 'Service', service));
      ctx.settingsServices.push(service);
    }
  },
};
