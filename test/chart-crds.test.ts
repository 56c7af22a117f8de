/**
 * The chart ships the CRDs in its crds/ folder (Helm installs those once and
 * never deletes them); they must be the very files of the repository's crds/.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './support/proxy-process.js';

const REPO_CRDS = join(REPO_ROOT, 'crds');
const CHART_CRDS = join(REPO_ROOT, 'charts/portcullis/crds');
const FIX = 'copy them again: cp crds/*.yaml charts/portcullis/crds/';

const yamlFiles = (dir: string) =>
  readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort();

describe('charts/portcullis/crds', () => {
  it('holds the same files as crds/', () => {
    expect(yamlFiles(CHART_CRDS), FIX).toEqual(yamlFiles(REPO_CRDS));
  });

  it.each(yamlFiles(REPO_CRDS))('%s is byte for byte the one in crds/', (file) => {
    const chart = readFileSync(join(CHART_CRDS, file), 'utf8');
    expect(chart === readFileSync(join(REPO_CRDS, file), 'utf8'), `${file} differs; ${FIX}`).toBe(true);
  });
});
