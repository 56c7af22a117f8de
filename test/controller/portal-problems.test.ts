/** GET /portal/problems on the controller's status port: files first, then objects; ?namespace filters. */
import { Registry } from 'prom-client';
import { expect, it } from 'vitest';
import { createControllerStatusApp } from '../../controller/status-app.js';
import type { SourceProblem } from '../../controller/source.js';
import type { TranslateProblem } from '../../controller/translate/problem-codes.js';

const file: SourceProblem = {
  code: 'MANIFEST_INVALID',
  message: 'bad YAML',
  objects: [],
  file: 'web.yaml',
  line: 4,
};
const billing = {
  code: 'PLUGIN_NOT_FOUND',
  message: 'KongPlugin billing/okta not found',
  objects: [{ kind: 'Ingress', namespace: 'billing', name: 'api' }],
} as unknown as TranslateProblem;
const web = {
  code: 'PLUGIN_NOT_FOUND',
  message: 'KongPlugin web/okta not found',
  objects: [{ kind: 'Ingress', namespace: 'web', name: 'site' }],
} as unknown as TranslateProblem;

function app(translated: readonly TranslateProblem[] | undefined) {
  return createControllerStatusApp({
    ready: () => true,
    registry: new Registry(),
    sourceProblems: () => [file],
    translateProblems: () => translated,
  });
}

it('lists source problems, then translate problems', async () => {
  const res = await app([billing, web]).inject('/portal/problems');
  expect(res.statusCode).toBe(200);
  expect(res.json()).toEqual({ problems: [file, billing, web] });
});

it('?namespace keeps the problems that name an object there', async () => {
  const res = await app([billing, web]).inject('/portal/problems?namespace=web');
  expect(res.json()).toEqual({ problems: [web] });
});

it('before the first translation: 503 PCS_NOT_READY', async () => {
  const res = await app(undefined).inject('/portal/problems');
  expect(res.statusCode).toBe(503);
  expect(res.json()).toMatchObject({ error: 'PCS_NOT_READY' });
});
