/** JSON merge patch (RFC 7386) and JSON patch (RFC 6902), enough for the controller's writes. */

type Json = unknown;

function isPlainObject(value: Json): value is Record<string, Json> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export function mergePatch(target: Json, patch: Json): Json {
  if (!isPlainObject(patch)) return structuredClone(patch);
  const out: Record<string, Json> = isPlainObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

export interface JsonPatchOp {
  op: 'add' | 'remove' | 'replace' | 'test' | 'move' | 'copy';
  path: string;
  value?: Json;
  from?: string;
}

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/')) throw new Error(`bad JSON pointer ${path}`);
  return path
    .slice(1)
    .split('/')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function parentOf(doc: Json, tokens: string[]): { parent: Record<string, Json> | Json[]; last: string } {
  let node = doc;
  for (const token of tokens.slice(0, -1)) {
    node = Array.isArray(node) ? node[Number(token)] : isPlainObject(node) ? node[token] : undefined;
    if (node === undefined || node === null || typeof node !== 'object') {
      throw new Error(`path not found: /${tokens.join('/')}`);
    }
  }
  return { parent: node as Record<string, Json> | Json[], last: tokens[tokens.length - 1] ?? '' };
}

function getAt(doc: Json, path: string): Json {
  let node = doc;
  for (const token of pointer(path)) {
    node = Array.isArray(node) ? node[Number(token)] : isPlainObject(node) ? node[token] : undefined;
  }
  return node;
}

export function jsonPatch(doc: Json, ops: readonly JsonPatchOp[]): Json {
  let out = structuredClone(doc);
  for (const op of ops) {
    const tokens = pointer(op.path);
    if (op.op === 'test') {
      if (JSON.stringify(getAt(out, op.path)) !== JSON.stringify(op.value))
        throw new Error(`test failed at ${op.path}`);
      continue;
    }
    const value =
      op.op === 'move' || op.op === 'copy'
        ? structuredClone(getAt(out, op.from ?? ''))
        : structuredClone(op.value);
    if (op.op === 'move') out = jsonPatch(out, [{ op: 'remove', path: op.from ?? '' }]);
    if (tokens.length === 0) {
      if (op.op === 'remove') throw new Error('cannot remove the whole document');
      out = value;
      continue;
    }
    const { parent, last } = parentOf(out, tokens);
    if (Array.isArray(parent)) {
      const index = last === '-' ? parent.length : Number(last);
      if (op.op === 'remove') parent.splice(index, 1);
      else if (op.op === 'replace') parent[index] = value;
      else parent.splice(index, 0, value);
    } else if (op.op === 'remove') {
      if (!(last in parent)) throw new Error(`path not found: ${op.path}`);
      delete parent[last];
    } else {
      if (op.op === 'replace' && !(last in parent)) throw new Error(`path not found: ${op.path}`);
      parent[last] = value;
    }
  }
  return out;
}
