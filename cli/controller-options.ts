import { readFile, stat } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import { bindAddress, objectName, port, positiveByteSize, positiveInt } from './flag-parsers.js';
import { exitWithUsageError } from './usage-error.js';
// Only light modules at the top of cli/: heavy ones are imported by the command that runs.
import { DEFAULT_INGRESS_CLASS } from '../controller/translate/options.js';
import { DEFAULT_MANIFEST_LIMITS } from '../controller/sources/manifest-limits.js';

/** The flags `run` and `controller` share. */
export interface ControllerFlags {
  manifests?: string;
  ingressClass: string;
  controllerStatusAddress: string;
  controllerStatusPort: number;
  manifestMaxFileSize: number;
  manifestMaxDocuments: number;
  manifestMaxFiles: number;
  manifestMaxDepth: number;
  /** Seconds between rescans of the folder (besides watching it). */
  manifestRescanInterval: number;
}

/** What ManifestFolderSource takes from the flags. */
export function manifestFolderOptions(flags: ControllerFlags) {
  return {
    pollIntervalMs: flags.manifestRescanInterval * 1000,
    limits: {
      maxFileBytes: flags.manifestMaxFileSize,
      maxDocuments: flags.manifestMaxDocuments,
      maxFiles: flags.manifestMaxFiles,
      maxDepth: flags.manifestMaxDepth,
    },
  };
}

const opt = (flags: string, description: string, env: string) => new Option(flags, description).env(env);

/**
 * The per-file limits, shared with `translate` so that the same flags give
 * the same result there as in the controller.
 */
export function manifestFileLimitOptions(): [fileSize: Option, documents: Option] {
  return [
    opt(
      '--manifest-max-file-size <size>',
      'larger manifest files are refused',
      'PORTCULLIS_MANIFEST_MAX_FILE_SIZE',
    )
      .argParser(positiveByteSize)
      .default(DEFAULT_MANIFEST_LIMITS.maxFileBytes, '4m'),
    opt(
      '--manifest-max-documents <n>',
      'YAML documents per manifest file',
      'PORTCULLIS_MANIFEST_MAX_DOCUMENTS',
    )
      .argParser(positiveInt)
      .default(DEFAULT_MANIFEST_LIMITS.maxDocuments),
  ];
}

/** The controller's flags; `run` needs `--manifests`, `controller` reads Kubernetes without it. */
export function addControllerOptions(command: Command, { manifestsRequired = false } = {}): Command {
  const [maxFileSize, maxDocuments] = manifestFileLimitOptions();
  const manifests = manifestsRequired
    ? opt(
        '--manifests <dir>',
        'read Kubernetes manifests from this folder (required)',
        'PORTCULLIS_MANIFESTS',
      )
    : opt(
        '--manifests <dir>',
        'read Kubernetes manifests from this folder (without it: the Kubernetes API)',
        'PORTCULLIS_MANIFESTS',
      );
  return command
    .addOption(manifests.makeOptionMandatory(manifestsRequired))
    .addOption(
      opt('--ingress-class <name>', 'the ingress class to serve', 'PORTCULLIS_INGRESS_CLASS')
        .argParser(objectName)
        .default(DEFAULT_INGRESS_CLASS),
    )
    .addOption(
      opt(
        '--controller-status-address <ip>',
        'controller status bind address',
        'PORTCULLIS_CONTROLLER_STATUS_ADDRESS',
      )
        .argParser(bindAddress)
        .default('0.0.0.0'),
    )
    .addOption(
      opt(
        '--controller-status-port <port>',
        'controller status port: /healthz, /readyz, /metrics',
        'PORTCULLIS_CONTROLLER_STATUS_PORT',
      )
        .argParser(port)
        .default(8101),
    )
    .addOption(maxFileSize)
    .addOption(maxDocuments)
    .addOption(
      opt('--manifest-max-files <n>', 'manifest files read from the folder', 'PORTCULLIS_MANIFEST_MAX_FILES')
        .argParser(positiveInt)
        .default(DEFAULT_MANIFEST_LIMITS.maxFiles),
    )
    .addOption(
      opt(
        '--manifest-max-depth <n>',
        'folder levels read below the manifest folder',
        'PORTCULLIS_MANIFEST_MAX_DEPTH',
      )
        .argParser(positiveInt)
        .default(DEFAULT_MANIFEST_LIMITS.maxDepth),
    )
    .addOption(
      opt(
        '--manifest-rescan-interval <seconds>',
        'rescan the manifest folder this often, besides watching it',
        'PORTCULLIS_MANIFEST_RESCAN_INTERVAL',
      )
        .argParser(positiveInt)
        .default(5),
    );
}

/** The admin token from a file; a file that cannot be read ends the command with status 2. */
export async function readTokenFile(command: string, file: string): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch (error) {
    exitWithUsageError(command, `cannot read --admin-token-file: ${(error as Error).message}`);
  }
}

/** Checked before anything starts, so that a typo in --manifests fails fast and alone (status 2). */
export async function requireManifestFolder(command: string, dir: string): Promise<void> {
  if (!(await stat(dir).catch(() => undefined))?.isDirectory())
    exitWithUsageError(command, `--manifests ${dir} is not a directory`);
}
