/**
 * Sizes as nginx writes them (`client_max_body_size 10m`): a byte count, or
 * a whole number of kibibytes, mebibytes or gibibytes with `k`, `m` or `g`
 * (either case). Shared by the proxy's flag and the route annotation, so the
 * two accept exactly the same values.
 */
const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** The size in bytes, or undefined when `text` is not a size (or is beyond 2^53 bytes). */
export function parseByteSize(text: string): number | undefined {
  const match = /^(\d{1,16})([kmg]?)$/i.exec(text.trim());
  if (!match) return undefined;
  const bytes = Number(match[1]) * UNITS[match[2]!.toLowerCase()]!;
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}
