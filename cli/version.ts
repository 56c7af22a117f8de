import { readFileSync } from 'node:fs';

/** The version in package.json, which ships beside dist/ (in the package and in the image). */
export function packageVersion(): string {
  const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
  return (JSON.parse(text) as { version: string }).version;
}
