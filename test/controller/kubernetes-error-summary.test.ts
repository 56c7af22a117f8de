import { expect, it } from 'vitest';
import { errorSummary, KubernetesApiError } from '../../controller/kubernetes/api-request.js';

it('never logs the input a parse error quotes (it could be Secret data)', () => {
  let parseError: unknown;
  try {
    JSON.parse('hunter2-s3cret", "kind": "Secret"}');
  } catch (error) {
    parseError = error;
  }
  expect(String(parseError)).toContain('hunter2'); // the attack: Node quotes the input
  expect(errorSummary(parseError)).toBe('SyntaxError');
  expect(errorSummary(Object.assign(new Error('socket hang up hunter2'), { code: 'ECONNRESET' }))).toBe(
    'Error ECONNRESET',
  );
  expect(errorSummary(new KubernetesApiError(410, 'Gone', 'GET /api/v1/secrets: 410 too old'))).toBe(
    'GET /api/v1/secrets: 410 too old',
  );
});
