import { Option, type Command } from 'commander';
import type { PortalView } from '../controller/portal/view.js';
import { DEFAULT_INGRESS_CLASS } from '../controller/translate/options.js';
import { httpUrl, namespace, objectName } from './flag-parsers.js';
import { readManifestInputs } from './manifest-inputs.js';
import { exitWithUsageError } from './usage-error.js';

interface AppsFlags {
  controller?: string;
  output: string;
  ingressClass: string;
  defaultNamespace: string;
}

/**
 * `portcullis apps`: the portal view as tables (or JSON): from a running
 * controller's status port, or offline from manifest files as `translate`
 * reads them. Exit 2 when the view cannot be had (unreachable controller,
 * unusable file), 0 otherwise.
 */
export function registerAppsCommand(program: Command): void {
  program
    .command('apps')
    .description('show Services with application registration, and Applications with their approvals')
    .argument('[paths...]', 'manifest files or folders to read offline (instead of --controller)')
    .option('--controller <url>', "a running controller's status port, e.g. http://127.0.0.1:8101", httpUrl)
    .addOption(
      new Option('-o, --output <format>', 'output format').choices(['table', 'json']).default('table'),
    )
    .option(
      '--ingress-class <name>',
      'offline: the ingress class to serve',
      objectName,
      DEFAULT_INGRESS_CLASS,
    )
    .option('--default-namespace <ns>', 'offline: namespace for objects that have none', namespace, 'default')
    .action(async (files: string[], flags: AppsFlags) => {
      if ((flags.controller === undefined) === (files.length === 0)) {
        fail('give either --controller URL or manifest files');
      }
      const view = flags.controller ? await fromController(flags.controller) : await fromFiles(files, flags);
      process.stdout.write(flags.output === 'json' ? `${JSON.stringify(view, null, 2)}\n` : tables(view));
    });
}

function fail(message: string): never {
  exitWithUsageError('apps', message);
}

async function fromController(url: string): Promise<PortalView> {
  const part = async <K extends keyof PortalView>(name: K): Promise<PortalView[K]> => {
    let res: Response;
    try {
      res = await fetch(new URL(`/portal/${name}`, url), { signal: AbortSignal.timeout(10_000) });
    } catch (error) {
      fail(`cannot reach the controller at ${url}: ${(error as Error).message}`);
    }
    if (!res.ok) fail(`the controller answered ${res.status} for /portal/${name}: ${await res.text()}`);
    return ((await res.json()) as Record<K, PortalView[K]>)[name];
  };
  const [services, applications] = await Promise.all([part('services'), part('applications')]);
  return { services, applications };
}

async function fromFiles(files: string[], flags: AppsFlags): Promise<PortalView> {
  const { objects, problems } = await readManifestInputs('apps', files);
  for (const problem of problems) process.stderr.write(`portcullis apps: ${problem.message}\n`);
  if (problems.length > 0) process.exitCode = 2;
  const [{ snapshotFromObjects }, { translate }, { portalView }] = await Promise.all([
    import('../controller/snapshot.js'),
    import('../controller/translate/index.js'),
    import('../controller/portal/view.js'),
  ]);
  const { snapshot } = snapshotFromObjects(objects, { defaultNamespace: flags.defaultNamespace });
  const { config, statuses } = translate(snapshot, { ingressClass: flags.ingressClass });
  return portalView(config, statuses);
}

function tables(view: PortalView): string {
  const services = table(
    ['SERVICE', 'DISPLAY NAME', 'AUTO-APPROVE', 'ROUTES', 'AUTH METHODS'],
    view.services.map((s) => [
      `${s.namespace}/${s.name}`,
      s.displayName,
      s.autoApprove ? 'yes' : 'no',
      s.routes.map((r) => `${r.host === '*' ? '' : r.host}${r.path}`).join(' '),
      [...new Set(s.authentication.flatMap((a) => a.authMethods))].join(',') || '-',
    ]),
  );
  const applications = table(
    ['APPLICATION', 'CLIENT ID', 'SERVICE', 'STATE', 'NOTE'],
    view.applications.flatMap((a) => {
      const name = `${a.namespace}/${a.name}`;
      const clientId =
        a.clientId ?? `- (${a.conditions.find((c) => c.type === 'Ready')?.reason ?? 'not accepted'})`;
      if (a.registrations.length === 0) return [[name, clientId, '-', '-', '']];
      return a.registrations.map((r) => [name, clientId, r.service, r.state, r.note ?? '']);
    }),
  );
  return `${services}\n${applications}`;
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}
