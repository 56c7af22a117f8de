/**
 * The reference parse of a manifest file, by the `yaml` package: exact in
 * every message, line and column, and the judge of every YAML feature the
 * fast path (manifest-parse.ts) leaves to it (anchors and aliases, with their
 * limit; directives; any error). About ten times slower than the fast path.
 * `pause` is awaited every few milliseconds of work so a large file never
 * holds the event loop (health checks, SIGTERM) for long: the lexer and
 * parser are driven one token at a time, and only composing a single
 * document runs in one go (the file size limit bounds it).
 */
import { Composer, isScalar, LineCounter, Lexer, Parser, visit, type Document, type Scalar } from 'yaml';
import type { ParsedManifest, ParseOptions } from './manifest-parse.js';

const SLICE_MS = 10;

export async function parseManifestWithYaml(text: string, options: ParseOptions): Promise<ParsedManifest> {
  const lines = new LineCounter();
  const lexer = new Lexer();
  const parser = new Parser(lines.addNewLine);
  // The package checks unique keys pair by pair, quadratic in a mapping's
  // size and in one go (40,000 keys: 11 s without a pause): duplicateKey does it.
  const composer = new Composer({ uniqueKeys: false });
  const documents: Document.Parsed[] = [];
  lines.addNewLine(0);
  const at = (offset: number) => {
    const { line, col } = lines.linePos(offset);
    return { line, column: col };
  };

  let since = performance.now();
  let tokens = 0;
  const take = (docs: Iterable<Document.Parsed>): ParsedManifest | undefined => {
    for (const doc of docs) {
      documents.push(doc);
      if (documents.length > options.maxDocuments)
        return {
          ok: false,
          code: 'MANIFEST_TOO_LARGE',
          reason: `more than ${options.maxDocuments} documents`,
          ...at(doc.range[0]),
        };
    }
    return undefined;
  };
  for (const lexeme of lexer.lex(text)) {
    for (const token of parser.next(lexeme)) {
      const refused = take(composer.next(token));
      if (refused) return refused;
    }
    // performance.now() only every few tokens: it costs more than a token.
    if (options.pause && ++tokens % 256 === 0 && performance.now() - since > SLICE_MS) {
      await options.pause();
      since = performance.now();
    }
  }
  for (const token of parser.end()) {
    const refused = take(composer.next(token));
    if (refused) return refused;
  }
  // As parseAllDocuments: an empty file is one empty document.
  const refused = take(composer.end(true, text.length));
  if (refused) return refused;

  const values: unknown[] = [];
  for (const doc of documents) {
    const error = doc.errors[0];
    if (error) {
      return {
        ok: false,
        code: 'MANIFEST_INVALID',
        reason: `manifest does not parse: ${error.message.split('\n')[0]}`,
        ...at(error.pos[0]),
      };
    }
    const duplicate = duplicateKey(doc);
    if (duplicate) {
      return {
        ok: false,
        code: 'MANIFEST_INVALID',
        reason: 'manifest does not parse: Map keys must be unique',
        ...at(duplicate.range?.[0] ?? doc.range[0]),
      };
    }
    try {
      // toJS enforces the alias limit (maxAliasCount 100): an alias bomb throws here.
      values.push(doc.toJS());
    } catch (error) {
      return {
        ok: false,
        code: 'MANIFEST_INVALID',
        reason: `manifest refused by the YAML parser: ${(error as Error).message}`,
        ...at(doc.range[0]),
      };
    }
  }
  return { ok: true, values };
}

/**
 * The first key repeated in a mapping, as the package's own check finds them
 * (scalars with the same value: `1` and `"1"` differ, and so do two NaN), in
 * linear time.
 */
function duplicateKey(doc: Document.Parsed): Scalar | undefined {
  let found: Scalar | undefined;
  visit(doc, {
    Map(_, map) {
      const seen = new Set<unknown>();
      for (const { key } of map.items) {
        if (!isScalar(key) || Number.isNaN(key.value)) continue;
        if (seen.has(key.value)) {
          found = key;
          return visit.BREAK;
        }
        seen.add(key.value);
      }
      return undefined;
    },
  });
  return found;
}
