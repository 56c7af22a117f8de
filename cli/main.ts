#!/usr/bin/env node
import { Command } from 'commander';
import { registerAppsCommand } from './apps-command.js';
import { registerControllerCommand } from './controller-command.js';
import { registerDemoCommand } from './demo-command.js';
import { registerProxyCommand } from './proxy-command.js';
import { registerRunCommand } from './run-command.js';
import { registerTranslateCommand } from './translate-command.js';
import { configureUsageErrors } from './usage-error.js';
import { packageVersion } from './version.js';

const program = new Command('portcullis')
  .description('OpenID Connect authentication and per-application access control for Kubernetes ingress')
  .version(packageVersion(), '-V, --version', 'print the version');

registerRunCommand(program);
registerProxyCommand(program);
registerControllerCommand(program);
registerTranslateCommand(program);
registerAppsCommand(program);
registerDemoCommand(program);
configureUsageErrors(program);

await program.parseAsync(process.argv);
