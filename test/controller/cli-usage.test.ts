/**
 * Usage errors, tried as a new user would: every command refuses a bad flag
 * (or environment variable) with one line naming it and exit status 2,
 * before it starts anything, and never with a stack. Uses the built CLI.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, REPO_ROOT } from '../support/proxy-process.js';

function cli(args: string[], extraEnv: Record<string, string> = {}) {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env))
    if (!key.startsWith('PORTCULLIS_') && key !== 'KUBECONFIG') env[key] = value;
  Object.assign(env, extraEnv);
  const result = spawnSync(process.execPath, [CLI, ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    env,
    timeout: 15_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

// Free ports everywhere, so that a flag wrongly accepted could not take a fixed port.
const FREE_PORTS = [
  '--http-port',
  '0',
  '--https-port',
  '0',
  '--status-port',
  '0',
  '--controller-status-port',
  '0',
];
const PROXY_PORTS = ['--http-port', '0', '--https-port', '0', '--admin-port', '0', '--status-port', '0'];
const MANIFESTS = join(REPO_ROOT, 'examples', 'manifests');

describe('portcullis --version', () => {
  it('prints the version of package.json', () => {
    const { version } = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
      version: string;
    };
    for (const flag of ['--version', '-V']) {
      const { code, stdout } = cli([flag]);
      expect(code).toBe(0);
      expect(stdout).toBe(`${version}\n`);
    }
  });
});

describe('usage errors: one line, exit 2', () => {
  const cases: [string, string[], string, Record<string, string>?][] = [
    [
      'proxy --log-level verbose',
      ['proxy', ...PROXY_PORTS, '--log-level', 'verbose'],
      "'--log-level <level>' argument 'verbose' is invalid. Allowed choices are trace, debug, info",
    ],
    [
      'proxy PORTCULLIS_LOG_LEVEL=verbose',
      ['proxy', ...PROXY_PORTS],
      "value 'verbose' from env 'PORTCULLIS_LOG_LEVEL' is invalid",
      { PORTCULLIS_LOG_LEVEL: 'verbose' },
    ],
    [
      'proxy --address 999.1.1.1',
      ['proxy', ...PROXY_PORTS, '--address', '999.1.1.1'],
      "'--address <ip>' argument '999.1.1.1' is invalid. must be an IP address",
    ],
    [
      'proxy --admin-address example',
      ['proxy', ...PROXY_PORTS, '--admin-address', 'example'],
      "'--admin-address <ip>' argument 'example' is invalid",
    ],
    ['proxy --http-port 70000', ['proxy', '--http-port', '70000'], 'must be a port number 0-65535'],
    [
      'proxy --workers 0',
      ['proxy', ...PROXY_PORTS, '--workers', '0'],
      "'--workers <n>' argument '0' is invalid. must be a positive integer",
    ],
    [
      'proxy --trusted-proxies 10.0.0.0/99',
      ['proxy', ...PROXY_PORTS, '--trusted-proxies', '10.0.0.0/99'],
      'has an invalid prefix length',
    ],
    [
      'proxy --max-request-body-size 10mb',
      ['proxy', ...PROXY_PORTS, '--max-request-body-size', '10mb'],
      'must be bytes, optionally with k, m or g',
    ],
    [
      'proxy --config missing',
      ['proxy', ...PROXY_PORTS, '--config', '/nonexistent/config.json'],
      "'--config <file>' argument '/nonexistent/config.json' is invalid. no such file",
    ],
    ['proxy --config a folder', ['proxy', ...PROXY_PORTS, '--config', REPO_ROOT], 'is invalid. not a file'],
    [
      'proxy --admin-token-file missing',
      ['proxy', ...PROXY_PORTS, '--admin-token-file', '/nonexistent/token'],
      "'--admin-token-file <file>' argument '/nonexistent/token' is invalid. no such file",
    ],
    [
      'controller --admin-token-file missing',
      [
        'controller',
        '--manifests',
        MANIFESTS,
        '--controller-status-port',
        '0',
        '--admin-token-file',
        '/nonexistent/token',
      ],
      'no such file',
    ],
    ['proxy --bogus', ['proxy', '--bogus'], "unknown option '--bogus'"],
    [
      'run --log-level verbose',
      ['run', '--manifests', MANIFESTS, ...FREE_PORTS, '--log-level', 'verbose'],
      "'--log-level <level>' argument 'verbose' is invalid",
    ],
    [
      'run --controller-status-address nowhere',
      ['run', '--manifests', MANIFESTS, ...FREE_PORTS, '--controller-status-address', 'nowhere'],
      "'--controller-status-address <ip>' argument 'nowhere' is invalid",
    ],
    [
      'run --manifest-max-file-size 0',
      ['run', '--manifests', MANIFESTS, ...FREE_PORTS, '--manifest-max-file-size', '0'],
      'must be at least 1 byte',
    ],
    [
      'controller --proxy-admin-url notaurl',
      [
        'controller',
        '--manifests',
        MANIFESTS,
        '--controller-status-port',
        '0',
        '--proxy-admin-url',
        'notaurl',
      ],
      '"notaurl" is not a URL',
    ],
    [
      'controller --proxy-admin-url ftp://x',
      [
        'controller',
        '--manifests',
        MANIFESTS,
        '--controller-status-port',
        '0',
        '--proxy-admin-url',
        'http://127.0.0.1:1,ftp://x',
      ],
      '"ftp://x" must be an http:// or https:// URL',
    ],
    [
      'controller --log-level verbose',
      ['controller', '--manifests', MANIFESTS, '--controller-status-port', '0', '--log-level', 'verbose'],
      "'--log-level <level>' argument 'verbose' is invalid",
    ],
    [
      'controller --watch-namespaces Bad',
      ['controller', '--controller-status-port', '0', '--watch-namespaces', 'ok,Bad'],
      '"Bad" is not a namespace name',
    ],
    [
      'controller --publish-service a/b/c',
      ['controller', '--controller-status-port', '0', '--publish-service', 'a/b/c'],
      '"a/b/c" must be namespace/name',
    ],
    [
      'controller --publish-address',
      ['controller', '--controller-status-port', '0', '--publish-address', 'lb..example'],
      '"lb..example" is not an IP address or a DNS name',
    ],
    [
      'controller --manifests missing',
      ['controller', '--manifests', '/nonexistent/portcullis', '--controller-status-port', '0'],
      '--manifests /nonexistent/portcullis is not a directory',
    ],
    ['apps --controller notaurl', ['apps', '--controller', 'notaurl'], '"notaurl" is not a URL'],
    ['apps -o xml', ['apps', '-o', 'xml', MANIFESTS], 'Allowed choices are table, json'],
    ['an unknown command', ['bogus'], "unknown command 'bogus'"],
  ];
  it.each(cases)('%s', (_what, args, message, env) => {
    const { code, stdout, stderr } = cli(args, env);
    expect(code, stdout + stderr).toBe(2);
    const lines = stderr.trimEnd().split('\n');
    expect(lines, stderr).toHaveLength(1);
    expect(lines[0]).toMatch(/^portcullis( \w+)?: /);
    expect(lines[0]).toContain(message);
    expect(stdout).toBe('');
  });
});

describe('help text', () => {
  it('--workers says its default once', () => {
    const { stdout } = cli(['proxy', '--help']);
    const workers = stdout.slice(stdout.indexOf('--workers'), stdout.indexOf('--trusted-proxies'));
    expect(workers.match(/default/g)).toHaveLength(1);
    expect(workers.replace(/\s+/g, ' ')).toContain('(default: number of CPUs, env: PORTCULLIS_WORKERS)');
  });
});
