import { Option, type Command } from 'commander';
import { stopYoungGenerationGrowth } from '../common/young-generation.js';
import type { Snapshot } from '../controller/translate/k8s-types.js';
import { DEFAULT_INGRESS_CLASS } from '../controller/translate/options.js';
import { manifestFileLimitOptions } from './controller-options.js';
import { namespace, objectName } from './flag-parsers.js';
import { readManifestInputs } from './manifest-inputs.js';
import { EXIT_PROBLEMS } from './usage-error.js';

interface TranslateFlags {
  ingressClass: string;
  statuses: boolean;
  defaultNamespace: string;
  output: 'json' | 'yaml';
  manifestMaxFileSize: number;
  manifestMaxDocuments: number;
}

const EXIT_CODES = `
Exit status:
  0  no problems
  1  there are problems (listed under "problems"; a file that does not parse is one)
  2  usage error: a bad flag, or a path that does not exist or cannot be read (nothing is printed)
`;

/**
 * When no Ingress is served, says why on standard error: an empty config is
 * valid, so without this a wrong --ingress-class looks like success.
 */
export function nothingServedNotice(
  snapshot: Snapshot,
  ingressClass: string,
  served: number,
): string | undefined {
  if (served > 0) return undefined;
  if (snapshot.ingresses.length === 0) return 'no Ingress in the input: the config routes nothing';
  const classes = new Set(
    snapshot.ingresses.map(
      (i) =>
        i.spec?.ingressClassName ?? i.metadata.annotations?.['kubernetes.io/ingress.class'] ?? '(no class)',
    ),
  );
  return `none of the ${snapshot.ingresses.length} Ingresses is served with --ingress-class ${ingressClass} (their classes: ${[...classes].sort().join(', ')}); the config routes nothing`;
}

/**
 * `portcullis translate PATH...`: what the controller would push for these
 * manifests, with secrets redacted, and every problem.
 */
export function registerTranslateCommand(program: Command): void {
  const [maxFileSize, maxDocuments] = manifestFileLimitOptions();
  program
    .command('translate')
    .description('print the compiled config (secrets redacted) and the problems for manifest files')
    .argument('<paths...>', 'Kubernetes manifest files (multi-document YAML or JSON) or folders of them')
    .option('--ingress-class <name>', 'the ingress class to serve', objectName, DEFAULT_INGRESS_CLASS)
    .addOption(new Option('--statuses', 'also print the statuses the controller would write'))
    .option('--default-namespace <ns>', 'namespace for objects that have none', namespace, 'default')
    .addOption(
      new Option('-o, --output <format>', 'json (for scripts) or yaml (for people; slower)')
        .choices(['json', 'yaml'])
        .default('json'),
    )
    // The controller's limits and flags, so that a file refused there is refused here too.
    .addOption(maxFileSize)
    .addOption(maxDocuments)
    .addHelpText('after', EXIT_CODES)
    .action(async (paths: string[], flags: TranslateFlags) => {
      stopYoungGenerationGrowth();
      // Loaded while the files are read.
      const modules = Promise.all([
        import('../controller/snapshot.js'),
        import('../controller/translate/index.js'),
        import('../contract/redact.js'),
      ]);
      const { objects, problems: fileProblems } = await readManifestInputs('translate', paths, {
        maxFileBytes: flags.manifestMaxFileSize,
        maxDocuments: flags.manifestMaxDocuments,
      });
      for (const problem of fileProblems) process.stderr.write(`portcullis translate: ${problem.message}\n`);
      const [{ snapshotFromObjects }, { translate }, { redactConfig }] = await modules;
      const { snapshot, rejected } = snapshotFromObjects(objects, {
        defaultNamespace: flags.defaultNamespace,
      });
      for (const r of rejected) {
        const what = [r.kind, r.namespace, r.name].filter(Boolean).join('/') || `document ${r.index}`;
        process.stderr.write(`portcullis translate: ignored ${what}: ${r.reason}\n`);
      }
      const { config, statuses, problems } = translate(snapshot, { ingressClass: flags.ingressClass });
      const notice = nothingServedNotice(snapshot, flags.ingressClass, statuses.ingresses.length);
      if (notice) process.stderr.write(`portcullis translate: ${notice}\n`);
      const output = {
        config: redactConfig(config),
        problems: [...fileProblems, ...problems],
        ...(flags.statuses ? { statuses } : {}),
      };
      const text =
        flags.output === 'json'
          ? `${JSON.stringify(output, null, 2)}\n`
          : (await import('../common/yaml-writer.js')).toYamlBytes(output);
      process.stdout.write(text);
      if (output.problems.length > 0) process.exitCode = EXIT_PROBLEMS;
    });
}
