/**
 * Plugins: resolves the KongPlugins and KongClusterPlugins that our objects
 * reference, and the global ones, into plugin instances with their final
 * config.
 *
 * - `konghq.com/plugins` names a KongPlugin in the object's namespace, or
 *   else a KongClusterPlugin.
 * - KongClusterPlugins count only when they carry our class in
 *   `kubernetes.io/ingress.class` (or none, when our class is the default),
 *   as Kong's controller requires, so that plugins meant for another
 *   controller in the same cluster are never picked up. Those with the label
 *   `global: "true"` apply to every route.
 * - Config comes from `config`, or from a Secret (`configFrom.secretKeyRef`:
 *   a YAML or JSON object), then `configPatches` add values from Secrets
 *   (plain strings, or JSON lists, objects and quoted strings) at JSON pointers. It is validated by the plugin catalog.
 * - `disabled: true` plugins are not applied (and do not hide a global one).
 * - On a route, one instance runs per plugin name: the Ingress's wins over
 *   the Service's, which wins over a global one (Kong's precedence). They run
 *   by Kong priority, highest first.
 *
 * A broken plugin (unknown name, bad config, missing Secret) never reaches
 * the config; every route that would run it answers 503 instead.
 */
import { createRequire } from 'node:module';
import {
  addProblem,
  type ObjectPlugins,
  type PluginChain,
  type ResolvedPlugin,
  type RouteSettings,
  type TranslateContext,
  type Processor,
  type Unavailable,
} from '../context.js';
import type { Ingress, KongPlugin, KubeObject, SecretKeyRef, Service } from '../k8s-types.js';
import { isPlainObject } from '../plugin-catalog.js';
import type { ObjectRef, ProblemCode } from '../problem-codes.js';
import { annotation, arr, compareStrings, label, record, ref, refOf, secretValue, str } from '../read.js';
import { pluginSecretKeys } from '../secret-references.js';
import { LEGACY_CLASS_ANNOTATION } from './ingress-class.js';
import { mapKongShorthands } from '../../../contract/plugins/openid-connect-shorthands.js';

// `yaml` is read on first use (configFrom): most clusters never need it, and it takes ~35 ms to load.
const requireModule = createRequire(import.meta.url);
let yamlParse: ((text: string) => unknown) | undefined;
function parseYaml(text: string): unknown {
  yamlParse ??= (requireModule('yaml') as typeof import('yaml')).parse;
  return yamlParse(text);
}

type PluginKind = 'KongPlugin' | 'KongClusterPlugin';

/**
 * KongPlugin fields not implemented, each with why it cannot be ignored:
 * the plugin is refused and the routes using it answer 503 (issue 14).
 */
const UNSUPPORTED_FIELDS: Readonly<Record<string, string>> = {
  consumerRef:
    'Kong runs the plugin for that consumer only; run for everyone or no one it would change who gets in',
  protocols: 'Kong skips the plugin for other protocols; run on all of them it would act where it should not',
  ordering: "Kong's dynamic plugin ordering is not implemented; another order changes which check decides",
  run_on: 'a Kong service mesh setting, not a gateway one',
};

class BrokenPlugin extends Error {
  constructor(
    readonly code: ProblemCode,
    message: string,
    readonly objects: ObjectRef[] = [],
  ) {
    super(message);
  }
}

function ofOurClass(ctx: TranslateContext, obj: KubeObject): boolean {
  const cls = annotation(obj, LEGACY_CLASS_ANNOTATION);
  return cls === undefined ? ctx.classIsDefault : cls === ctx.options.ingressClass;
}

function readSecret(
  ctx: TranslateContext,
  namespace: string | undefined,
  secretRef: SecretKeyRef | undefined,
  what: string,
) {
  const name = str(secretRef?.name);
  const key = str(secretRef?.key);
  if (!namespace || !name || !key) {
    throw new BrokenPlugin(
      'PLUGIN_CONFIG_SOURCE_INVALID',
      `${what}.secretKeyRef needs name, key${namespace ? '' : ' and namespace'}`,
    );
  }
  const secretRefObj = ref('Secret', namespace, name);
  const secret = ctx.index.secrets.get(`${namespace}/${name}`);
  if (!secret)
    throw new BrokenPlugin('PLUGIN_SECRET_NOT_FOUND', `${what}: Secret ${namespace}/${name} does not exist`, [
      secretRefObj,
    ]);
  const value = secretValue(secret, key);
  if (value === undefined) {
    throw new BrokenPlugin(
      'PLUGIN_SECRET_KEY_NOT_FOUND',
      `${what}: Secret ${namespace}/${name} has no key "${key}"`,
      [secretRefObj],
    );
  }
  return { value, ref: secretRefObj, where: `Secret ${namespace}/${name} key "${key}"` };
}

/** RFC 6901 pointer tokens (none for `""`, the root); undefined when not a pointer or it names a prototype key. */
function pointerTokens(pointer: string): string[] | undefined {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) return undefined;
  const tokens = pointer
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
  return tokens.some((t) => t === '__proto__') ? undefined : tokens;
}

/**
 * RFC 6902 `add` as KIC applies configPatches (json-patch's
 * EnsurePathExistsOnAdd): a missing parent object is created; objects get
 * the member set, arrays an insert. A missing array is not created: which
 * index would be meant is a guess.
 */
function addAt(doc: Record<string, unknown>, tokens: string[], value: unknown): boolean {
  let parent: unknown = doc;
  for (const [i, token] of tokens.slice(0, -1).entries()) {
    if (Array.isArray(parent) && /^\d+$/.test(token)) parent = parent[Number(token)];
    else if (isPlainObject(parent) && Object.hasOwn(parent, token)) parent = parent[token];
    else if (isPlainObject(parent) && !/^(\d+|-)$/.test(tokens[i + 1]!)) parent = parent[token] = {};
    else return false;
  }
  const last = tokens[tokens.length - 1]!;
  if (Array.isArray(parent)) {
    const at = last === '-' ? parent.length : /^\d+$/.test(last) ? Number(last) : -1;
    if (at < 0 || at > parent.length) return false;
    parent.splice(at, 0, value);
    return true;
  }
  if (!isPlainObject(parent)) return false;
  parent[last] = value;
  return true;
}

/**
 * A configPatches value from a Secret. A plain string is what
 * `kubectl create secret generic --from-literal=secret=s3cret` stores, so it
 * is taken as it is (without one trailing line break, which `--from-file` of
 * an `echo`ed file adds). A value that starts with `"`, `[` or `{` is JSON, as
 * Kong's controller reads these values: a list, an object, or a string that
 * itself starts with one of those characters. Undefined when such a value is
 * not JSON. Numbers and booleans stay strings: write them in `config`.
 */
export function secretPatchValue(text: string): unknown {
  const value = text.replace(/\r?\n$/, '');
  if (!/^\s*["[{]/.test(value)) return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return undefined; // never echo the parser's message: it quotes the Secret
  }
}

function resolveConfig(
  ctx: TranslateContext,
  kind: PluginKind,
  plugin: KongPlugin,
  secrets: ObjectRef[],
): unknown {
  const ownNamespace = kind === 'KongPlugin' ? plugin.metadata.namespace : undefined;
  const hasConfig = plugin.config !== undefined && plugin.config !== null;
  const configFrom = record(plugin.configFrom);
  const patches = arr<unknown>(plugin.configPatches);
  if (hasConfig && configFrom)
    throw new BrokenPlugin('PLUGIN_CONFIG_SOURCE_INVALID', 'config and configFrom are both set');
  if (configFrom && patches.length > 0)
    throw new BrokenPlugin('PLUGIN_CONFIG_SOURCE_INVALID', 'configFrom and configPatches are both set');

  let config: unknown;
  if (configFrom) {
    const secretRef = record(configFrom.secretKeyRef) as SecretKeyRef | undefined;
    const secret = readSecret(ctx, ownNamespace ?? str(secretRef?.namespace), secretRef, 'configFrom');
    secrets.push(secret.ref);
    try {
      config = parseYaml(secret.value);
    } catch {
      config = undefined; // never echo the parser's message: it quotes the Secret
    }
    if (!isPlainObject(config)) {
      throw new BrokenPlugin(
        'PLUGIN_SECRET_VALUE_INVALID',
        `configFrom: ${secret.where} is not a YAML or JSON object`,
        [secret.ref],
      );
    }
  } else {
    config = hasConfig ? structuredClone(plugin.config) : {};
  }

  patches.forEach((entry, i) => {
    const patch = record(entry);
    const what = `configPatches[${i}]`;
    const tokens = pointerTokens(str(patch?.path) ?? '');
    if (!tokens)
      throw new BrokenPlugin(
        'PLUGIN_CONFIG_PATCH_INVALID',
        `${what}.path must be a JSON pointer such as /client_secret`,
      );
    const secretRef = record(record(patch?.valueFrom)?.secretKeyRef) as SecretKeyRef | undefined;
    const secret = readSecret(ctx, ownNamespace ?? str(secretRef?.namespace), secretRef, what);
    secrets.push(secret.ref);
    const value = secretPatchValue(secret.value);
    if (value === undefined) {
      throw new BrokenPlugin(
        'PLUGIN_SECRET_VALUE_INVALID',
        `${what}: ${secret.where} starts with ", [ or { but is not JSON (to use it as a plain string, store it JSON-quoted)`,
        [secret.ref],
      );
    }
    if (tokens.length === 0) {
      // The root: the Secret's value is the whole config, as an `add` at "" replaces the document.
      if (!isPlainObject(value)) {
        throw new BrokenPlugin(
          'PLUGIN_CONFIG_PATCH_INVALID',
          `${what}: path "" replaces the whole config, so ${secret.where} must be a JSON object`,
          [secret.ref],
        );
      }
      config = value;
      return;
    }
    if (!isPlainObject(config) || !addAt(config, tokens, value)) {
      throw new BrokenPlugin(
        'PLUGIN_CONFIG_PATCH_INVALID',
        `${what}: ${str(patch?.path)} cannot be added: a parent is not an object, or an array index is out of range`,
      );
    }
  });
  return config;
}

/** Resolves a plugin object once; problems are reported on first resolution. */
export function resolvePlugin(ctx: TranslateContext, kind: PluginKind, plugin: KongPlugin): ResolvedPlugin {
  const id =
    kind === 'KongPlugin' ? `${plugin.metadata.namespace}/${plugin.metadata.name}` : plugin.metadata.name;
  const cached = ctx.plugins.get(id);
  if (cached) return cached;
  // Validation is the costly part of a plugin: redo it only when the plugin or a Secret it reads changed.
  const ownNamespace = kind === 'KongPlugin' ? plugin.metadata.namespace : undefined;
  const deps: unknown[] = [kind, plugin];
  for (const secretKey of pluginSecretKeys(plugin, ownNamespace)) deps.push(ctx.index.secrets.get(secretKey));
  const resolved = ctx.memo.use('plugin', id, deps, ctx.problems, () => buildPlugin(ctx, kind, plugin, id));
  ctx.plugins.set(id, resolved);
  return resolved;
}

function buildPlugin(
  ctx: TranslateContext,
  kind: PluginKind,
  plugin: KongPlugin,
  id: string,
): ResolvedPlugin {
  const pluginRef = refOf(kind, plugin);
  const name = str(plugin.plugin) ?? '';
  const priority = ctx.options.pluginCatalog.priority(name);
  const resolved: ResolvedPlugin = {
    id,
    ref: pluginRef,
    name,
    priority: priority ?? 0,
    config: {},
    disabled: plugin.disabled === true,
  };
  if (resolved.disabled) return resolved;

  const secrets: ObjectRef[] = [];
  try {
    if (priority === undefined) {
      throw new BrokenPlugin(
        'PLUGIN_UNKNOWN',
        name ? `plugin "${name}" is not known` : 'the plugin field is empty',
      );
    }
    const unsupported = Object.entries(UNSUPPORTED_FIELDS).filter(
      ([field]) => plugin[field as keyof KongPlugin] !== undefined,
    );
    if (unsupported.length > 0) {
      const list = unsupported.map(([field, why]) => `${field} (${why})`).join('; ');
      throw new BrokenPlugin('PLUGIN_FIELD_UNSUPPORTED', `not supported yet: ${list}`);
    }
    let config = resolveConfig(ctx, kind, plugin, secrets);
    if (name === 'openid-connect' && isPlainObject(config)) {
      const mapped = mapKongShorthands(config);
      if (mapped.conflicts.length > 0) {
        throw new BrokenPlugin(
          'PLUGIN_CONFIG_INVALID',
          `invalid ${name} config: ${mapped.conflicts.join('; ')}`,
        );
      }
      if (mapped.notes.length > 0) {
        addProblem(ctx, 'PLUGIN_FIELD_DEPRECATED', `${kind} ${id}: ${mapped.notes.join('; ')}`, [pluginRef]);
      }
      config = mapped.config;
    }
    const errors = ctx.options.pluginCatalog.validate(name, config);
    if (errors.length > 0 || !isPlainObject(config)) {
      throw new BrokenPlugin(
        'PLUGIN_CONFIG_INVALID',
        `invalid ${name} config: ${errors.join('; ') || 'not an object'}`,
      );
    }
    resolved.config = config;
  } catch (error) {
    if (!(error instanceof BrokenPlugin)) throw error;
    addProblem(
      ctx,
      error.code,
      `${kind} ${id}: ${error.message}`,
      dedupeRefs([pluginRef, ...error.objects, ...secrets]),
    );
    resolved.broken = { code: error.code, message: `${kind} ${id}: ${error.message}` };
  }
  return resolved;
}

function dedupeRefs(refs: ObjectRef[]): ObjectRef[] {
  const seen = new Set<string>();
  return refs.filter((r) => {
    const k = `${r.kind}/${r.namespace ?? ''}/${r.name}`;
    return seen.has(k) ? false : (seen.add(k), true);
  });
}

const NO_PLUGINS: ObjectPlugins = Object.freeze({ byName: new Map<string, ResolvedPlugin>() });

/** The plugins an Ingress or Service's konghq.com/plugins annotation brings. */
export function objectPlugins(
  ctx: TranslateContext,
  kind: string,
  obj: KubeObject,
  settings: RouteSettings,
): ObjectPlugins {
  // Most objects name no plugins: they share one empty (never modified) result.
  if (settings.plugins.length === 0) return NO_PLUGINS;
  const result: ObjectPlugins = { byName: new Map() };
  const objRef = refOf(kind, obj);
  const fail = (code: ProblemCode, message: string, objects: ObjectRef[]) => {
    addProblem(ctx, code, message, [objRef, ...objects]);
    result.unavailable ??= {
      code,
      message: `${kind} ${obj.metadata.namespace}/${obj.metadata.name}: ${message}`,
    };
  };
  for (const pluginName of settings.plugins) {
    const namespaced = ctx.index.kongPlugins.get(`${obj.metadata.namespace}/${pluginName}`);
    const cluster = namespaced ? undefined : ctx.index.kongClusterPlugins.get(pluginName);
    let resolved: ResolvedPlugin;
    if (namespaced) resolved = resolvePlugin(ctx, 'KongPlugin', namespaced);
    else if (cluster && ofOurClass(ctx, cluster)) resolved = resolvePlugin(ctx, 'KongClusterPlugin', cluster);
    else if (cluster) {
      fail(
        'PLUGIN_NOT_FOUND',
        `plugin "${pluginName}": KongClusterPlugin "${pluginName}" is not of ingress class "${ctx.options.ingressClass}" (annotation ${LEGACY_CLASS_ANNOTATION}) and namespace ${obj.metadata.namespace} has no KongPlugin of that name`,
        [refOf('KongClusterPlugin', cluster)],
      );
      continue;
    } else {
      fail(
        'PLUGIN_NOT_FOUND',
        `plugin "${pluginName}" is neither a KongPlugin in namespace ${obj.metadata.namespace} nor a KongClusterPlugin`,
        [ref('KongPlugin', obj.metadata.namespace, pluginName)],
      );
      continue;
    }
    if (resolved.disabled) continue;
    const other = result.byName.get(resolved.name);
    if (other) {
      fail(
        'PLUGIN_DUPLICATE_NAME',
        `plugins ${other.id} and ${resolved.id} are both "${resolved.name}"; only one can run`,
        [other.ref, resolved.ref],
      );
      continue;
    }
    result.byName.set(resolved.name, resolved);
  }
  return result;
}

/** Orders plugin instances as Kong runs them: priority, highest first; then name, then id. */
export function byPriority(a: ResolvedPlugin, b: ResolvedPlugin): number {
  return b.priority - a.priority || compareStrings(a.name, b.name) || compareStrings(a.id, b.id);
}

/** The global plugins in priority order; a new list only when one of them changed. */
function globalPlugins(ctx: TranslateContext): { plugins: ResolvedPlugin[]; unavailable?: Unavailable } {
  const candidates: ResolvedPlugin[] = [];
  for (const [, cluster] of [...ctx.index.kongClusterPlugins].sort(([a], [b]) => compareStrings(a, b))) {
    if (label(cluster, 'global') !== 'true' || !ofOurClass(ctx, cluster)) continue;
    const resolved = resolvePlugin(ctx, 'KongClusterPlugin', cluster);
    if (!resolved.disabled) candidates.push(resolved);
  }
  return ctx.memo.use('global-plugins', 'global', candidates, ctx.problems, () => {
    const globals = new Map<string, ResolvedPlugin>();
    let unavailable: Unavailable | undefined;
    for (const resolved of candidates) {
      const other = globals.get(resolved.name);
      if (other) {
        const message = `global plugins ${other.id} and ${resolved.id} are both "${resolved.name}"; only one can run`;
        addProblem(ctx, 'PLUGIN_DUPLICATE_NAME', message, [other.ref, resolved.ref]);
        // Neither can be chosen safely: every route answers 503 until one is removed.
        unavailable ??= { code: 'PLUGIN_DUPLICATE_NAME', message };
        continue;
      }
      globals.set(resolved.name, resolved);
    }
    const plugins = [...globals.values()].sort(byPriority);
    return unavailable ? { plugins, unavailable } : { plugins };
  });
}

/** objectPlugins, redone only when the object's settings or a plugin they name changed. */
function pluginsOf(ctx: TranslateContext, kind: string, obj: KubeObject): ObjectPlugins {
  const settings = ctx.settings.get(obj)!;
  if (settings.plugins.length === 0) return NO_PLUGINS;
  const deps = () => {
    const found: unknown[] = [obj, settings, ctx.classIsDefault];
    for (const pluginName of settings.plugins) {
      const namespaced = ctx.index.kongPlugins.get(`${obj.metadata.namespace}/${pluginName}`);
      const cluster = namespaced ? undefined : ctx.index.kongClusterPlugins.get(pluginName);
      found.push(
        namespaced,
        cluster,
        namespaced
          ? resolvePlugin(ctx, 'KongPlugin', namespaced)
          : cluster && ofOurClass(ctx, cluster)
            ? resolvePlugin(ctx, 'KongClusterPlugin', cluster)
            : undefined,
      );
    }
    return found;
  };
  return ctx.memo.use('object-plugins', obj, deps, ctx.problems, () =>
    objectPlugins(ctx, kind, obj, settings),
  );
}

export const pluginsProcessor: Processor = {
  name: 'plugins',
  run(ctx) {
    const globals = globalPlugins(ctx);
    ctx.globalPlugins = globals.plugins;
    if (globals.unavailable) ctx.globalUnavailable = globals.unavailable;

    for (const ingress of ctx.ingresses) ctx.objectPlugins.set(ingress, pluginsOf(ctx, 'Ingress', ingress));
    for (const service of ctx.settingsServices) {
      ctx.objectPlugins.set(service, pluginsOf(ctx, 'Service', service));
    }

    for (const [, plugin] of ctx.index.kongPlugins) {
      if (label(plugin, 'global') === 'true' && ofOurClass(ctx, plugin)) {
        addProblem(
          ctx,
          'PLUGIN_GLOBAL_NAMESPACED',
          `KongPlugin ${plugin.metadata.namespace}/${plugin.metadata.name} has the global label; only a KongClusterPlugin can be global, so it applies only where referenced`,
          [refOf('KongPlugin', plugin)],
        );
      }
    }
  },
};

export function pluginChain(
  ctx: TranslateContext,
  ingress: Ingress,
  service: Service | undefined,
): PluginChain {
  const fromIngress = ctx.objectPlugins.get(ingress);
  // An Ingress that brings nothing gives the same chain as no Ingress: memoise it once per Service.
  const owner = fromIngress && (fromIngress.byName.size > 0 || fromIngress.unavailable) ? ingress : undefined;
  let byService = ctx.chains.get(owner);
  if (!byService) ctx.chains.set(owner, (byService = new Map()));
  let chain = byService.get(service);
  if (!chain) {
    // Stable across calls while its inputs are: the routes that use it can then be reused too.
    const deps = [
      owner,
      service,
      owner && ctx.objectPlugins.get(owner),
      service && ctx.objectPlugins.get(service),
      ctx.globalPlugins,
      ctx.globalUnavailable,
    ];
    chain = ctx.memo.use('chain', owner ?? service, deps, ctx.problems, () =>
      buildChain(ctx, owner, service),
    );
    byService.set(service, chain);
  }
  return chain;
}

function buildChain(
  ctx: TranslateContext,
  ingress: Ingress | undefined,
  service: Service | undefined,
): PluginChain {
  const fromIngress = ingress === undefined ? undefined : ctx.objectPlugins.get(ingress);
  const fromService = service === undefined ? undefined : ctx.objectPlugins.get(service);
  const chosen = new Map<string, ResolvedPlugin>();
  for (const plugin of ctx.globalPlugins) chosen.set(plugin.name, plugin);
  for (const [name, plugin] of fromService?.byName ?? []) chosen.set(name, plugin);
  for (const [name, plugin] of fromIngress?.byName ?? []) chosen.set(name, plugin);
  const plugins = [...chosen.values()].sort(byPriority);
  const broken = plugins.find((p) => p.broken)?.broken;
  const unavailable = fromIngress?.unavailable ?? fromService?.unavailable ?? broken ?? ctx.globalUnavailable;
  const ids = plugins.filter((p) => !p.broken).map((p) => p.id);
  return unavailable ? { ids, unavailable } : { ids };
}
