import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { parseAllDocuments, stringify } from 'yaml';
import { DEFAULT_INGRESS_CLASS } from '../controller/translate/options.js';

interface TranslateFlags {
  ingressClass: string;
  statuses: boolean;
  defaultNamespace: string;
}

/** Parses every file; the first syntax error ends the command, since a partial input would mislead. */
async function readObjects(files: string[]): Promise<unknown[]> {
  const objects: unknown[] = [];
  for (const file of files) {
    const documents = parseAllDocuments(await readFile(file, 'utf8'));
    for (const doc of documents) {
      const failed = doc.errors[0];
      if (failed) {
        const line = failed.linePos?.[0].line;
        throw new Error(`${file}${line ? `:${line}` : ''}: ${failed.message.split('\n')[0]}`);
      }
      objects.push(doc.toJS());
    }
  }
  return objects;
}

/**
 * `portcullis translate FILE...`: what the controller would push for these
 * manifests, with secrets redacted, and every problem. Exit 1 with
 * problems, 2 when a file cannot be read, so scripts and CI can gate on it.
 */
export function registerTranslateCommand(program: Command): void {
  program
    .command('translate')
    .description('print the compiled config (secrets redacted) and the problems for manifest files')
    .argument('<files...>', 'Kubernetes manifest files (multi-document YAML or JSON)')
    .option('--ingress-class <name>', 'the ingress class to serve', DEFAULT_INGRESS_CLASS)
    .option('--statuses', 'also print the statuses the controller would write', false)
    .option('--default-namespace <ns>', 'namespace for objects that have none', 'default')
    .action(async (files: string[], flags: TranslateFlags) => {
      let objects: unknown[];
      try {
        objects = await readObjects(files);
      } catch (error) {
        process.stderr.write(`portcullis translate: ${(error as Error).message}\n`);
        process.exitCode = 2;
        return;
      }
      const [{ snapshotFromObjects }, { translate }, { redactConfig }] = await Promise.all([
        import('../controller/snapshot.js'),
        import('../controller/translate/index.js'),
        import('../contract/redact.js'),
      ]);
      const { snapshot, rejected } = snapshotFromObjects(objects, {
        defaultNamespace: flags.defaultNamespace,
      });
      for (const r of rejected) {
        const what = [r.kind, r.namespace, r.name].filter(Boolean).join('/') || `document ${r.index}`;
        process.stderr.write(`ignored ${what}: ${r.reason}\n`);
      }
      const { config, statuses, problems } = translate(snapshot, { ingressClass: flags.ingressClass });
      const output = { config: redactConfig(config), problems, ...(flags.statuses ? { statuses } : {}) };
      process.stdout.write(stringify(output, { lineWidth: 0, aliasDuplicateObjects: false }));
      if (problems.length > 0) process.exitCode = 1;
    });
}
