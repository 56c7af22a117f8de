/**
 * One manifest file's text to plain values, one per YAML document, or the
 * reason it cannot be used. No I/O.
 *
 * Fast path: js-yaml, about ten times faster than the `yaml` package, one
 * document at a time (the text is cut at its `---` lines), so that `pause`
 * is awaited every few milliseconds and a large file never holds the event
 * loop (health checks, SIGTERM) for long; a single document is parsed in one
 * go, as before (the file size limit bounds it). The values are those of the
 * `yaml` package's YAML 1.2 core schema (yaml-core-schema.ts): no timestamps,
 * no merge keys, duplicate keys refused.
 *
 * Everything else goes to the `yaml` package (manifest-parse-yaml.ts), which
 * stays the reference for every message, line and column: any error, any
 * anchor (js-yaml shares one object among an anchor's aliases, so an alias
 * bomb would only blow up later, in the walks over the values; the reference
 * enforces its alias limit), directives (`%YAML 1.1` changes the schema
 * there), `...` markers, a byte order mark, and more documents than allowed.
 */
import { loadAll, type State } from 'js-yaml';
import type { ProblemCode } from '../translate/problem-codes.js';
import { YAML_CORE_SCHEMA } from './yaml-core-schema.js';

export { DEFAULT_MANIFEST_LIMITS, type ManifestLimits } from './manifest-limits.js';

export type ParsedManifest =
  | { ok: true; values: unknown[] }
  | { ok: false; code: ProblemCode; reason: string; line?: number; column?: number };

export interface ParseOptions {
  maxDocuments: number;
  /** Awaited between documents once about 10 ms of work went by; may throw to abandon the parse. */
  pause?: () => Promise<void>;
}

const SLICE_MS = 10;

/** A `---` line: at the start of a line, followed by a blank, a line break or the end. */
const DOCUMENT_START = /(?<![^\r\n])---(?=[ \t\r\n]|$)/g;
/**
 * What the cut at `---` lines would misread, or js-yaml reads otherwise:
 * directives, lines that start with `...` or with `---` and more (`----`),
 * a byte order mark, a line break that is a lone CR.
 */
const LEFT_TO_THE_REFERENCE = /(?<![^\r\n])(?:%|\.\.\.|---(?![ \t\r\n]|$))|\uFEFF|\r(?!\n)/;
/**
 * Where js-yaml gives other values than the reference (found by review; the
 * tests compare both): a tag that ends its line (js-yaml drops it, so
 * `!!str` then `true` is a boolean), keys that are not strings (null-like,
 * explicit `?` keys, collections: js-yaml's text for them differs, and so
 * does which keys are duplicates), a comment right after a quoted scalar or
 * a collection, content on a `---` line, and `\U` escapes. Rare in
 * manifests; a false match only costs the slower parse.
 */
// Each on its own: one alternation of them all is twice as slow on 7 MB.
const READ_OTHERWISE = [
  /(?<![^\s[{,])![^\s]*[ \t]*(?:#[^\r\n]*)?(?=[\r\n]|$)/,
  // A null-like key (block ones with nothing before `:` are js-yaml errors, so read there).
  /(?:~|null|Null|NULL)[ \t]*:(?=[ \t\r\n]|$)/,
  /[[{,][ \t]*:(?=[ \t\r\n,\]}]|$)/,
  /(?:^|\n)[ \t-]*\?(?=[ \t\r\n]|$)/,
  /[[{,][ \t]*\?(?=[ \t\r\n])/,
  /[\]}][ \t]*:(?=[ \t\r\n,\]}]|$)/,
  // A closing quote (not one after a blank or an indicator, which opens) or bracket.
  /(?<![\s:[{,])["']#|[\]}]#/,
  /(?:^|\n)---[ \t]+[^\s#]/,
  /\\U/,
];

export async function parseManifest(text: string, options: ParseOptions): Promise<ParsedManifest> {
  const fast = await parseFast(text, options);
  if (fast) return fast;
  // Loaded on first use: most runs never need it.
  const { parseManifestWithYaml } = await import('./manifest-parse-yaml.js');
  return parseManifestWithYaml(text, options);
}

/** The values, or undefined when the reference parser must decide. */
async function parseFast(text: string, options: ParseOptions): Promise<ParsedManifest | undefined> {
  if (LEFT_TO_THE_REFERENCE.test(text) || READ_OTHERWISE.some((pattern) => pattern.test(text)))
    return undefined;
  // Cut before each `---` but the first: the first piece is what precedes
  // the second one (comments, a document without `---`, or both, and the
  // first `---` document), which js-yaml reads as the reference does.
  const cuts: number[] = [];
  for (const match of text.matchAll(DOCUMENT_START)) {
    cuts.push(match.index);
    // Each `---` starts a document: that many is too many whatever the first piece holds.
    if (cuts.length > options.maxDocuments) return undefined;
  }
  cuts.shift();
  let anchors = false;
  // Watched only where there may be one: an anchor is written `&name`.
  const listener = text.includes('&')
    ? (_event: string, state: State): void => {
        // An anchor's name is never empty; before the first node js-yaml has not set the field.
        if ((state as State & { anchor?: string | null }).anchor) anchors = true;
      }
    : undefined;
  const values: unknown[] = [];
  let since = performance.now();
  let start = 0;
  cuts.push(text.length);
  for (const end of cuts) {
    let documents: unknown[];
    try {
      documents = loadAll(text.slice(start, end), null, { schema: YAML_CORE_SCHEMA, listener });
    } catch {
      return undefined;
    }
    // A piece after a cut starts with `---`: exactly one document, else the cut was wrong.
    if (anchors || (start > 0 && documents.length !== 1)) return undefined;
    values.push(...documents);
    if (values.length > options.maxDocuments) return undefined;
    start = end;
    if (options.pause && performance.now() - since > SLICE_MS) {
      await options.pause();
      since = performance.now();
    }
  }
  // As the reference: an empty file, or one of comments only, is one empty document.
  if (values.length === 0) values.push(null);
  return { ok: true, values };
}
