/** Prints the CompiledConfig JSON Schema; `npm run schema` writes it to contract/compiled-config.schema.json. */
import { fileURLToPath } from 'node:url';
import { CompiledConfig } from './compiled-config.js';

export function schemaJson(): string {
  return JSON.stringify(CompiledConfig, null, 2) + '\n';
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write(schemaJson());
}
