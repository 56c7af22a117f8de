import { readFile } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import { port } from '../proxy/options.js';
// Only light modules at the top of cli/: heavy ones are imported by the command that runs.
import { DEFAULT_INGRESS_CLASS } from '../controller/translate/options.js';

/** The flags `run` and `controller` share. */
export interface ControllerFlags {
  manifests?: string;
  ingressClass: string;
  controllerStatusAddress: string;
  controllerStatusPort: number;
}

export function addControllerOptions(command: Command): Command {
  const opt = (flags: string, description: string, env: string) => new Option(flags, description).env(env);
  return command
    .addOption(opt('--manifests <dir>', 'read Kubernetes manifests from this folder', 'PORTCULLIS_MANIFESTS'))
    .addOption(
      opt('--ingress-class <name>', 'the ingress class to serve', 'PORTCULLIS_INGRESS_CLASS').default(
        DEFAULT_INGRESS_CLASS,
      ),
    )
    .addOption(
      opt(
        '--controller-status-address <ip>',
        'controller status bind address',
        'PORTCULLIS_CONTROLLER_STATUS_ADDRESS',
      ).default('0.0.0.0'),
    )
    .addOption(
      opt(
        '--controller-status-port <port>',
        'controller status port: /healthz, /readyz, /metrics',
        'PORTCULLIS_CONTROLLER_STATUS_PORT',
      )
        .argParser(port)
        .default(8101),
    );
}

/** The admin token from a file; a file that cannot be read ends the command with status 2. */
export async function readTokenFile(command: string, file: string): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch (error) {
    process.stderr.write(
      `portcullis ${command}: cannot read --admin-token-file: ${(error as Error).message}\n`,
    );
    process.exit(2);
  }
}
