import { describe, expect, it } from 'vitest';
import {
  authorizationResponse,
  type ResponseMode,
} from '../../../../proxy/plugins/openid-connect/authorization-response.js';

const CODE = 'state=s&code=c';
const q = (text: string) => new URLSearchParams(text);

describe('authorizationResponse', () => {
  it.each<[string, ResponseMode, string, string, string | undefined, string | undefined]>([
    // name, mode, method, query, body, expected
    ['query: code in the query', 'query', 'GET', CODE, undefined, CODE],
    [
      'query: an error response',
      'query',
      'GET',
      'state=s&error=access_denied',
      undefined,
      'state=s&error=access_denied',
    ],
    ['query: no state', 'query', 'GET', 'code=c', undefined, undefined],
    ['query: state alone', 'query', 'GET', 'state=s', undefined, undefined],
    ['query: a code in a body is not one', 'query', 'POST', '', CODE, undefined],
    ['form_post: code in the body', 'form_post', 'POST', '', CODE, CODE],
    [
      'form_post: an error response',
      'form_post',
      'POST',
      '',
      'state=s&error=login_required',
      'state=s&error=login_required',
    ],
    ['form_post: a code in the query is not one (downgrade)', 'form_post', 'GET', CODE, undefined, undefined],
    ['form_post: a POST with the code in its query only', 'form_post', 'POST', CODE, '', undefined],
    ['form_post: a POST whose body was not a form', 'form_post', 'POST', '', undefined, undefined],
    ['form_post: a body without code or error', 'form_post', 'POST', '', 'state=s&name=x', undefined],
    ['form_post: a body that is not from a POST', 'form_post', 'PUT', '', CODE, undefined],
  ])('%s', (_name, mode, method, query, body, expected) => {
    const found = authorizationResponse(mode, method, {
      query: q(query),
      ...(body !== undefined && { body: q(body) }),
    });
    expect(found?.toString()).toBe(expected);
  });
});
