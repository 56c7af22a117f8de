/** How `run` and `controller` refuse what they cannot do. Uses the built CLI. */
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { CLI, REPO_ROOT } from '../support/proxy-process.js';

function cli(...args: string[]) {
  const env: NodeJS.ProcessEnv = {};
  // No cluster either: no kubeconfig, no in-cluster variables, a home without ~/.kube.
  for (const [key, value] of Object.entries(process.env))
    if (!key.startsWith('PORTCULLIS_') && key !== 'KUBECONFIG' && !key.startsWith('KUBERNETES_'))
      env[key] = value;
  env.HOME = '/nonexistent/portcullis-test-home';
  const result = spawnSync(process.execPath, [CLI, ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    env,
    timeout: 15_000,
  });
  return { code: result.status, stderr: result.stderr, stdout: result.stdout };
}

describe('portcullis CLI refusals', () => {
  it('controller without --manifests and without any cluster configured (exit 2)', () => {
    const { code, stderr } = cli('controller', '--controller-status-port', '0');
    expect(code).toBe(2);
    expect(stderr).toContain('no Kubernetes cluster configured');
  });

  it('run without --manifests (exit 2), and its help says it is required', () => {
    const { code, stderr } = cli('run');
    expect(code).toBe(2);
    expect(stderr).toBe(
      "portcullis run: required option '--manifests <dir>' not specified (see portcullis run --help)\n",
    );
    expect(cli('run', '--help').stdout).toMatch(
      /--manifests <dir>\s+read Kubernetes manifests from this\s+folder \(required\)/,
    );
  });

  it('run with a folder that does not exist fails before starting a proxy (exit 2)', () => {
    const { code, stderr } = cli('run', '--manifests', '/nonexistent/portcullis');
    expect(code).toBe(2);
    expect(stderr).toContain('is not a directory');
  });

  it('run refuses --admin-port 0 (the controller must know where to push)', () => {
    const { code, stderr } = cli('run', '--manifests', REPO_ROOT, '--admin-port', '0');
    expect(code).toBe(2);
    expect(stderr).toContain('--admin-port must be a fixed port');
  });

  it('controller whose status port is in use: one line naming the flag, exit 1 at once', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const port = (holder.address() as { port: number }).port;
    try {
      const { code, stdout, stderr } = cli(
        'controller',
        '--manifests',
        'examples/manifests',
        '--controller-status-address',
        '127.0.0.1',
        '--controller-status-port',
        String(port),
      );
      const output = stdout + stderr;
      expect(code, output).toBe(1);
      const lines = output.split('\n').filter((l) => l.includes('--controller-status-port'));
      expect(lines, output).toHaveLength(1);
      expect(lines[0]).toContain(`cannot listen on 127.0.0.1:${port}: the port is in use by another process`);
      expect(output).not.toMatch(/\\n\s+at /);
    } finally {
      holder.close();
    }
  });
});
