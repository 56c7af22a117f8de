/** `portcullis apps`, offline from manifest files. Uses the built CLI. (Online: test/e2e/application-registration.) */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PortalView } from '../../controller/portal/view.js';
import { CLI, REPO_ROOT } from '../support/proxy-process.js';

const CASE = join(REPO_ROOT, 'test', 'golden', 'translate', 'applications', 'in.yaml');

function apps(...args: string[]) {
  const result = spawnSync(process.execPath, [CLI, 'apps', ...args], { cwd: REPO_ROOT, encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('portcullis apps', () => {
  it('prints the Services and each Application per Service as tables', () => {
    const { code, stdout } = apps(CASE);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^SERVICE +DISPLAY NAME +AUTO-APPROVE +ROUTES +AUTH METHODS$/m);
    expect(stdout).toMatch(/^payments\/payments +Payments +no +api\.example\.com\/payments/m);
    expect(stdout).toMatch(/^billing\/billing +0oa5billing +payments\/refunds +Revoked/m);
    expect(stdout).toMatch(/^tools\/scraper +0oa5scraper +catalog\/catalog +Rejected/m);
    expect(stdout).toMatch(/^evil\/impostor +- \(ClientIdConflict\)/m);
  });

  it('-o json prints both parts of the portal view', () => {
    const { code, stdout } = apps(CASE, '-o', 'json');
    expect(code).toBe(0);
    const view = JSON.parse(stdout) as PortalView;
    expect(view.services.map((s) => s.name)).toEqual(['catalog', 'payments', 'refunds']);
    expect(view.applications.find((a) => a.name === 'reports')!.registrations[0]!.state).toBe('Pending');
  });

  it('exits 2 without a source, with both, or with an unreachable controller', () => {
    expect(apps().code).toBe(2);
    expect(apps(CASE, '--controller', 'http://127.0.0.1:9').code).toBe(2);
    const unreachable = apps('--controller', 'http://127.0.0.1:9');
    expect(unreachable.code).toBe(2);
    expect(unreachable.stderr).toContain('cannot reach the controller');
  });

  it('exits 2 for a file it cannot read, naming it', () => {
    const { code, stderr } = apps('/nonexistent.yaml');
    expect(code).toBe(2);
    expect(stderr).toContain('nonexistent.yaml');
  });
});
