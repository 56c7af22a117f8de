/**
 * The CompiledConfig: the one contract between controller and proxy.
 *
 * The controller produces it (translate), the proxy validates it on every
 * push. It holds no Kubernetes types and no fastify types, only data. Every
 * element names the Kubernetes object it came from in `source`, so that any
 * problem found later can be reported against that object.
 */
import { Type, type Static } from '@sinclair/typebox';

export const SCHEMA_VERSION = 1;

const Name = Type.String({ minLength: 1, maxLength: 512 });

export const Source = Type.Object(
  {
    kind: Type.String({ minLength: 1, maxLength: 128 }),
    namespace: Type.Optional(Type.String({ maxLength: 253 })),
    name: Type.String({ minLength: 1, maxLength: 253 }),
  },
  { additionalProperties: false, description: 'The Kubernetes object an element was made from.' },
);

/** A DNS name, or a wildcard whose `*` stands for exactly one leftmost label. */
const HostName = Type.String({
  pattern: '^(\\*\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$',
  maxLength: 253,
  description: 'Lower-case host name, exact or `*.` wildcard (one label).',
});

/** An exact DNS name, as a TLS client sends it in the SNI extension (lower-cased). */
const ServerName = Type.String({
  pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$',
  maxLength: 253,
});

export const Certificate = Type.Object(
  {
    id: Name,
    hosts: Type.Array(HostName, { description: 'SNI names this certificate serves.' }),
    cert: Type.String({ minLength: 1, description: 'PEM certificate chain.' }),
    key: Type.String({ minLength: 1, description: 'PEM private key (secret).' }),
    source: Source,
  },
  { additionalProperties: false },
);

export const Target = Type.Object(
  {
    host: Type.String({ minLength: 1, maxLength: 253 }),
    port: Type.Integer({ minimum: 1, maximum: 65535 }),
    weight: Type.Integer({ minimum: 0, maximum: 65535, default: 100 }),
  },
  { additionalProperties: false },
);

/** Verification of an https upstream's certificate (Kong's service tls_verify and friends). */
export const UpstreamTlsVerify = Type.Object(
  {
    depth: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 64,
        description:
          'Most intermediate CA certificates between the upstream certificate and the trust anchor (OpenSSL verify depth); absent: no limit of its own.',
      }),
    ),
    caCertificates: Type.Optional(
      Type.Array(Type.String({ minLength: 1, description: 'PEM CA certificate.' }), {
        minItems: 1,
        description: "The only trust anchors; absent: the proxy's default CA store.",
      }),
    ),
  },
  {
    additionalProperties: false,
    description:
      "Set: the upstream's certificate must verify (protocol https only). Absent: it is not verified, as Kong by default.",
  },
);

export const Upstream = Type.Object(
  {
    name: Name,
    protocol: Type.Union([Type.Literal('http'), Type.Literal('https')], { default: 'http' }),
    targets: Type.Array(Target, { description: 'Empty means no ready endpoint: routes answer 503.' }),
    tlsVerify: Type.Optional(UpstreamTlsVerify),
    source: Source,
  },
  { additionalProperties: false },
);

export const PluginInstance = Type.Object(
  {
    id: Name,
    name: Type.String({ minLength: 1, maxLength: 128, description: "Kong's plugin name." }),
    config: Type.Record(Type.String(), Type.Unknown()),
    source: Source,
  },
  { additionalProperties: false },
);

export const Timeouts = Type.Object(
  {
    connectMs: Type.Integer({ minimum: 1, maximum: 3_600_000, default: 60_000 }),
    readMs: Type.Integer({ minimum: 1, maximum: 3_600_000, default: 60_000 }),
    writeMs: Type.Integer({ minimum: 1, maximum: 3_600_000, default: 60_000 }),
  },
  { additionalProperties: false },
);

export const PathType = Type.Union([
  Type.Literal('Exact'),
  Type.Literal('Prefix'),
  Type.Literal('ImplementationSpecific'),
]);

const HttpMethod = Type.String({ pattern: '^[A-Z]+$', maxLength: 32 });

/** A request header a route requires (konghq.com/headers.<name>). */
export const HeaderMatch = Type.Object(
  {
    name: Type.String({
      // Never a name that Object.prototype has a meaning for: header objects inherit from it.
      pattern: "^(?!(?:__proto__|constructor|prototype)$)[!#$%&'*+.^_`|~0-9a-z-]+$",
      maxLength: 256,
      description: 'Lower-case header name (not `host`, `__proto__`, `constructor` or `prototype`).',
    }),
    values: Type.Array(
      Type.String({ minLength: 1, maxLength: 4096, pattern: '^[^\\u0000-\\u001f\\u007f]+$' }),
      {
        minItems: 1,
        description:
          'Lower-case values; the header must equal one of them, compared case-insensitively (each value when it is sent more than once).',
      },
    ),
  },
  { additionalProperties: false },
);

export const Route = Type.Object(
  {
    id: Name,
    path: Type.String({ minLength: 1, maxLength: 4096 }),
    pathType: PathType,
    methods: Type.Optional(Type.Array(HttpMethod, { description: 'Empty or absent: any method.' })),
    headers: Type.Optional(
      Type.Array(HeaderMatch, {
        minItems: 1,
        description: 'Headers the request must all carry, sorted by name; absent: no header condition.',
      }),
    ),
    snis: Type.Optional(
      Type.Array(ServerName, {
        minItems: 1,
        description:
          'The TLS server name (SNI) must be one of these; a route with snis never matches plain http.',
      }),
    ),
    protocols: Type.Array(Type.Union([Type.Literal('http'), Type.Literal('https')]), {
      minItems: 1,
      default: ['http', 'https'],
    }),
    httpsRedirectStatusCode: Type.Union(
      [Type.Literal(301), Type.Literal(302), Type.Literal(307), Type.Literal(308), Type.Literal(426)],
      {
        default: 426,
        description: 'Answer for a plain-http request on an https-only route (426: no redirect).',
      },
    ),
    stripPath: Type.Boolean({ default: false }),
    preserveHost: Type.Boolean({ default: true }),
    upstreamPath: Type.Optional(
      Type.String({ pattern: '^/', maxLength: 4096, description: 'Prefix prepended upstream.' }),
    ),
    timeouts: Timeouts,
    retries: Type.Integer({ minimum: 0, maximum: 32, default: 5 }),
    maxRequestBodySize: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: Number.MAX_SAFE_INTEGER,
        description:
          "Largest request body in bytes, 0 for no limit; absent: the proxy's --max-request-body-size.",
      }),
    ),
    upstream: Name,
    service: Type.Optional(
      Type.String({ description: 'The Kubernetes Service as `namespace/name`, for access decisions.' }),
    ),
    plugins: Type.Array(Name, { description: 'Plugin instance ids, in execution order.' }),
    unavailable: Type.Optional(
      Type.Object(
        { code: Type.String({ minLength: 1 }), message: Type.String() },
        { additionalProperties: false, description: 'Set when the route is broken: it answers 503.' },
      ),
    ),
    source: Source,
  },
  { additionalProperties: false },
);

export const VirtualHost = Type.Object(
  {
    host: Type.Union([HostName, Type.Literal('*')], { description: '`*` matches every host.' }),
    routes: Type.Array(Route),
  },
  { additionalProperties: false },
);

export const Application = Type.Object(
  {
    id: Name,
    clientId: Type.String({
      minLength: 1,
      maxLength: 512,
      description: "The IdP client_id (Kong's custom_id).",
    }),
    displayName: Type.Optional(Type.String({ maxLength: 512 })),
    approvedServices: Type.Array(Type.String(), { description: 'Services as `namespace/name`.' }),
    refusedServices: Type.Optional(
      Type.Record(
        Type.String(),
        Type.Union([
          Type.Literal('Requested'),
          Type.Literal('Pending'),
          Type.Literal('Rejected'),
          Type.Literal('Revoked'),
        ]),
        {
          description:
            'Services the application asks for and may not use, with why: for the log and metrics only (access is approvedServices).',
        },
      ),
    ),
    source: Source,
  },
  { additionalProperties: false },
);

export const CompiledConfig = Type.Object(
  {
    schemaVersion: Type.Literal(SCHEMA_VERSION),
    certificates: Type.Array(Certificate),
    defaultCertificate: Type.Optional(Name),
    virtualHosts: Type.Array(VirtualHost),
    defaultBackend: Type.Optional(Route),
    upstreams: Type.Array(Upstream),
    plugins: Type.Array(PluginInstance),
    applications: Type.Array(Application),
  },
  { additionalProperties: false, $id: 'https://portcullis.dev/schemas/compiled-config.json' },
);

export type Source = Static<typeof Source>;
export type Certificate = Static<typeof Certificate>;
export type Target = Static<typeof Target>;
export type Upstream = Static<typeof Upstream>;
export type UpstreamTlsVerify = Static<typeof UpstreamTlsVerify>;
export type PluginInstance = Static<typeof PluginInstance>;
export type Timeouts = Static<typeof Timeouts>;
export type PathType = Static<typeof PathType>;
export type HeaderMatch = Static<typeof HeaderMatch>;
export type Route = Static<typeof Route>;
export type VirtualHost = Static<typeof VirtualHost>;
export type Application = Static<typeof Application>;
export type CompiledConfig = Static<typeof CompiledConfig>;

/** An empty config: serves nothing, answers 404. */
export function emptyConfig(): CompiledConfig {
  return {
    schemaVersion: SCHEMA_VERSION,
    certificates: [],
    virtualHosts: [],
    upstreams: [],
    plugins: [],
    applications: [],
  };
}
