import { readFile, stat } from 'node:fs/promises';
import type { Command } from 'commander';
import { stringify } from 'yaml';
import type { SourceProblem } from '../controller/source.js';
import { DEFAULT_INGRESS_CLASS } from '../controller/translate/options.js';

interface TranslateFlags {
  ingressClass: string;
  statuses: boolean;
  defaultNamespace: string;
}

/**
 * Reads every file as the manifest folder does (same parser, same limits): a
 * file that fails contributes nothing and is a problem naming file, line and
 * column, so the output is what the controller would serve from these files.
 */
export async function readObjects(
  files: string[],
): Promise<{ objects: unknown[]; problems: SourceProblem[] }> {
  const [{ parseManifest, DEFAULT_MANIFEST_LIMITS }, { fileProblem }] = await Promise.all([
    import('../controller/sources/manifest-parse.js'),
    import('../controller/sources/manifest-folder.js'),
  ]);
  const objects: unknown[] = [];
  const problems: SourceProblem[] = [];
  for (const file of files) {
    let text: string;
    try {
      const { size } = await stat(file);
      if (size > DEFAULT_MANIFEST_LIMITS.maxFileBytes) {
        problems.push(
          fileProblem(
            'MANIFEST_TOO_LARGE',
            file,
            `larger than ${DEFAULT_MANIFEST_LIMITS.maxFileBytes} bytes (${size}); not read`,
          ),
        );
        continue;
      }
      text = await readFile(file, 'utf8');
    } catch (error) {
      problems.push(fileProblem('MANIFEST_UNREADABLE', file, `cannot read: ${(error as Error).message}`));
      continue;
    }
    const parsed = await parseManifest(text, { maxDocuments: DEFAULT_MANIFEST_LIMITS.maxDocuments });
    if (parsed.ok) objects.push(...parsed.values);
    else problems.push(fileProblem(parsed.code, file, parsed.reason, parsed.line, parsed.column));
  }
  return { objects, problems };
}

/**
 * `portcullis translate FILE...`: what the controller would push for these
 * manifests, with secrets redacted, and every problem. Exit 1 with
 * problems, 2 when a file cannot be read or parsed (it is listed among the problems), so scripts and CI can gate on it.
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
      const { objects, problems: fileProblems } = await readObjects(files);
      for (const problem of fileProblems) process.stderr.write(`portcullis translate: ${problem.message}\n`);
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
      const output = {
        config: redactConfig(config),
        problems: [...fileProblems, ...problems],
        ...(flags.statuses ? { statuses } : {}),
      };
      process.stdout.write(stringify(output, { lineWidth: 0, aliasDuplicateObjects: false }));
      // 2 (a file could not be used) outranks 1 (objects have problems), as before.
      if (fileProblems.length > 0) process.exitCode = 2;
      else if (problems.length > 0) process.exitCode = 1;
    });
}
