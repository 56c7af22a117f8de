import type { Command } from 'commander';

/**
 * The exit statuses every command shares: 0 done, 1 it ran and found
 * something wrong (problems in manifests, a port taken, a proxy that exited),
 * 2 it was asked wrongly (a flag, a path, a file it cannot use) and did nothing.
 */
export const EXIT_PROBLEMS = 1;
export const EXIT_USAGE = 2;

/** One line naming the command, then status 2: bad input never shows a stack. */
export function exitWithUsageError(command: string, message: string): never {
  process.stderr.write(`portcullis ${command}: ${message}\n`);
  process.exit(EXIT_USAGE);
}

/**
 * Commander's own refusals (an unknown flag, a value a parser refused, a
 * missing argument) become one line, `portcullis COMMAND: ...`, and status 2
 * like ours, instead of the full help and status 1, which scripts could not
 * tell from "there are problems". Call once every command is registered.
 */
export function configureUsageErrors(program: Command): void {
  for (const command of [program, ...program.commands]) {
    const name = command === program ? 'portcullis' : `portcullis ${command.name()}`;
    // Help and --version end with status 0; every other early exit is a usage error.
    command.exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : EXIT_USAGE));
    command.showHelpAfterError(false);
    command.configureOutput({
      outputError: (message, write) =>
        write(`${name}: ${message.replace(/^error: /, '').trimEnd()} (see ${name} --help)\n`),
    });
  }
}
