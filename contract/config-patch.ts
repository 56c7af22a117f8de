/**
 * A config change as the difference from the config a proxy serves: the
 * virtual hosts that changed or went, and everything else when any of it
 * changed. Pushing it instead of the whole config spares the proxy
 * receiving, parsing and validating megabytes for a one-route change.
 *
 * A patch names the hash the proxy must be serving (`base`) and the hash of
 * the result (`hash`, the sha256 of the text a full push of the same config
 * would send). The proxy applies it, serialises the result and checks the
 * hash: a patch can only ever leave it serving exactly the config the
 * controller built, byte for byte, or be refused (409) so that the
 * controller sends the whole config instead.
 */
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { CompiledConfig, VirtualHost, type CompiledConfig as Config } from './compiled-config.js';

const Hash = Type.String({ pattern: '^[0-9a-f]{64}$' });
const { virtualHosts: _, ...restProperties } = CompiledConfig.properties;
/** Every part of a config but its virtual hosts. */
export const ConfigRest = Type.Object(restProperties, { additionalProperties: false });

export const ConfigPatch = Type.Object(
  {
    base: Hash,
    hash: Hash,
    /** Virtual hosts added or replaced (matched by `host`). */
    set: Type.Array(VirtualHost),
    /** Hosts removed. */
    remove: Type.Array(Type.String()),
    /** Everything else, when any of it changed; absent: unchanged. */
    rest: Type.Optional(ConfigRest),
  },
  { additionalProperties: false, $id: 'https://portcullis.dev/schemas/config-patch.json' },
);

export type ConfigRest = Static<typeof ConfigRest>;
export type ConfigPatch = Static<typeof ConfigPatch>;
export type ConfigChanges = Omit<ConfigPatch, 'base' | 'hash'>;

/** Whether `value` has the shape of a patch (the result is validated as a whole config). */
export function isConfigPatch(value: unknown): value is ConfigPatch {
  return Value.Check(ConfigPatch, value);
}

/**
 * What changed from `previous` to `next`: virtual hosts compared by object
 * identity (a Translator reuses the object of an unchanged host; a host that
 * is equal but a new object is just sent again), the rest by its text.
 * Both configs have their virtual hosts in host order, as translate emits them.
 */
export function configChanges(
  previous: { config: Config; rest: string },
  next: { config: Config; rest: string },
): ConfigChanges {
  const set: Config['virtualHosts'] = [];
  const remove: string[] = [];
  const before = previous.config.virtualHosts;
  const after = next.config.virtualHosts;
  let i = 0;
  let j = 0;
  while (i < before.length || j < after.length) {
    const a = before[i];
    const b = after[j];
    if (b === undefined || (a !== undefined && a.host < b.host)) {
      remove.push(a!.host);
      i++;
    } else if (a === undefined || b.host < a.host) {
      set.push(b);
      j++;
    } else {
      if (a !== b) set.push(b);
      i++;
      j++;
    }
  }
  if (previous.rest === next.rest) return { set, remove };
  const { virtualHosts: _hosts, ...rest } = next.config;
  return { set, remove, rest };
}

/**
 * The config `patch` makes of `config`. Unchanged virtual hosts stay the
 * same objects (so a ConfigWriter reuses their text), hosts stay in host
 * order, and keys come in the order translate writes them, so the text of
 * the result is what a full push would have sent.
 */
export function applyConfigPatch(config: Config, patch: ConfigChanges): Config {
  const hosts = new Map(config.virtualHosts.map((v) => [v.host, v]));
  for (const host of patch.remove) hosts.delete(host);
  for (const vhost of patch.set) hosts.set(vhost.host, vhost);
  // sort() orders by UTF-16 code units, as translate does.
  const virtualHosts = [...hosts.keys()].sort().map((host) => hosts.get(host)!);
  const rest = patch.rest ?? config;
  return {
    schemaVersion: rest.schemaVersion,
    certificates: rest.certificates,
    ...(rest.defaultCertificate !== undefined ? { defaultCertificate: rest.defaultCertificate } : {}),
    virtualHosts,
    ...(rest.defaultBackend !== undefined ? { defaultBackend: rest.defaultBackend } : {}),
    upstreams: rest.upstreams,
    plugins: rest.plugins,
    applications: rest.applications,
  };
}
