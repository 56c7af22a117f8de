/**
 * A js-yaml schema that reads plain scalars as the `yaml` package's YAML 1.2
 * core schema does (its default, and what manifests were always read with):
 * js-yaml's own CORE_SCHEMA is looser (`0b101` and `-0x1f` are numbers there,
 * `+.5` and `1e400` strings). The patterns are the YAML 1.2 spec's (10.3.2)
 * as the `yaml` package writes them; test/controller/manifest-parse.test.ts
 * compares both parsers on a table of scalars.
 */
import { FAILSAFE_SCHEMA, Type } from 'js-yaml';

const NULL = /^(?:~|[Nn]ull|NULL)?$/;
const BOOL = /^(?:[Tt]rue|TRUE|[Ff]alse|FALSE)$/;
const INT_OCT = /^0o[0-7]+$/;
const INT = /^[-+]?[0-9]+$/;
const INT_HEX = /^0x[0-9a-fA-F]+$/;
const FLOAT_SPECIAL = /^(?:[-+]?\.(?:inf|Inf|INF)|\.nan|\.NaN|\.NAN)$/;
const FLOAT_EXP = /^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)[eE][-+]?[0-9]+$/;
const FLOAT = /^[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)$/;

/**
 * Every plain scalar is tried against each type in turn, so each first looks
 * at the length or the first character: most scalars are words and names,
 * and the patterns cost about a quarter of the parse without these checks.
 */
const numeric = (text: string) => {
  const c = text.charCodeAt(0);
  return (c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e; // 0-9 + - .
};

const nullType = new Type('tag:yaml.org,2002:null', {
  kind: 'scalar',
  // js-yaml hands an empty node (`key:`) over as null.
  resolve: (text: string | null) => text === null || (text.length <= 4 && NULL.test(text)),
  construct: () => null,
});

const bool = new Type('tag:yaml.org,2002:bool', {
  kind: 'scalar',
  resolve: (text: string) => (text.length === 4 || text.length === 5) && BOOL.test(text),
  construct: (text: string) => text[0] === 't' || text[0] === 'T',
});

const int = new Type('tag:yaml.org,2002:int', {
  kind: 'scalar',
  resolve: (text: string) => numeric(text) && (INT.test(text) || INT_OCT.test(text) || INT_HEX.test(text)),
  construct: (text: string) =>
    INT.test(text) ? parseInt(text, 10) : parseInt(text.slice(2), text[1] === 'o' ? 8 : 16),
});

const float = new Type('tag:yaml.org,2002:float', {
  kind: 'scalar',
  resolve: (text: string) =>
    numeric(text) && (FLOAT.test(text) || FLOAT_EXP.test(text) || FLOAT_SPECIAL.test(text)),
  construct: (text: string) => {
    if (!FLOAT_SPECIAL.test(text)) return parseFloat(text);
    if (text.endsWith('nan') || text.endsWith('NaN') || text.endsWith('NAN')) return NaN;
    return text.startsWith('-') ? -Infinity : Infinity;
  },
});

export const YAML_CORE_SCHEMA = FAILSAFE_SCHEMA.extend({ implicit: [nullType, bool, int, float] });
