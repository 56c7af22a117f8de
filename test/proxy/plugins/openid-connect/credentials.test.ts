import type { IncomingHttpHeaders } from 'node:http';
import { describe, expect, it } from 'vitest';
import type { BearerParamType, ParamType } from '../../../../contract/plugins/openid-connect.js';
import {
  findBearerToken,
  findNamedToken,
  findPair,
  MAX_TOKEN_LENGTH,
  type RequestView,
} from '../../../../proxy/plugins/openid-connect/credentials.js';

const ALL: ParamType[] = ['header', 'query', 'body'];
const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln';

/** A request view; raw headers as Node keeps them (every occurrence, original case). */
function view(raw: [string, string][] = [], query = '', body?: string): RequestView {
  const headers: IncomingHttpHeaders = {};
  for (const [name, value] of raw) {
    const key = name.toLowerCase();
    // Node keeps the first Authorization; other duplicates it joins.
    if (headers[key] === undefined) headers[key] = value;
    else if (key !== 'authorization') headers[key] = `${String(headers[key])}, ${value}`;
  }
  return {
    headers,
    rawHeaders: raw.flat(),
    query: new URLSearchParams(query),
    ...(body !== undefined && { body: new URLSearchParams(body) }),
  };
}

const basic = (pair: string) => `Basic ${Buffer.from(pair).toString('base64')}`;

describe('findBearerToken', () => {
  it.each([
    ['no credentials', view(), ALL, undefined],
    [
      'Authorization: Bearer',
      view([['Authorization', `Bearer ${TOKEN}`]]),
      ALL,
      { ok: true, value: TOKEN, location: { in: 'header', name: 'authorization' } },
    ],
    [
      'scheme in any case',
      view([['authorization', `bEaReR ${TOKEN}`]]),
      ALL,
      { ok: true, value: TOKEN, location: { in: 'header', name: 'authorization' } },
    ],
    [
      'surrounding spaces',
      view([['Authorization', `Bearer   ${TOKEN}  `]]),
      ALL,
      { ok: true, value: TOKEN, location: { in: 'header', name: 'authorization' } },
    ],
    [
      'Access-Token header',
      view([['Access-Token', TOKEN]]),
      ALL,
      { ok: true, value: TOKEN, location: { in: 'header', name: 'access-token' } },
    ],
    [
      'X-Access-Token header',
      view([['X-Access-Token', TOKEN]]),
      ALL,
      { ok: true, value: TOKEN, location: { in: 'header', name: 'x-access-token' } },
    ],
    [
      'query',
      view([], `?access_token=${TOKEN}`),
      ALL,
      { ok: true, value: TOKEN, location: { in: 'query', names: ['access_token'] } },
    ],
    [
      'body',
      view([], '', `access_token=${TOKEN}`),
      ALL,
      { ok: true, value: TOKEN, location: { in: 'body', names: ['access_token'] } },
    ],
    // Another scheme is not a bearer token.
    ['Basic', view([['Authorization', basic('a:b')]]), ALL, undefined],
    ['a scheme without a token', view([['Authorization', 'Bearer']]), ALL, undefined],
    // Places the config does not allow are not looked at.
    ['query when only header', view([], `?access_token=${TOKEN}`), ['header'], undefined],
    ['body when only header', view([], '', `access_token=${TOKEN}`), ['header'], undefined],
    ['header when only query', view([['Authorization', `Bearer ${TOKEN}`]]), ['query'], undefined],
    ['header when only body', view([['Authorization', `Bearer ${TOKEN}`]]), ['body'], undefined],
    [
      'query and header when only body',
      view([['Authorization', `Bearer ${TOKEN}`]], `?access_token=${TOKEN}`),
      ['body'],
      undefined,
    ],
  ] as [string, RequestView, ParamType[], unknown][])('%s', (_name, request, types, expected) => {
    expect(findBearerToken(request, types)).toEqual(expected);
  });

  it.each([
    [
      'two Authorization headers',
      view([
        ['Authorization', `Bearer ${TOKEN}`],
        ['authorization', `Bearer ${TOKEN}`],
      ]),
    ],
    [
      'Authorization bearer and Basic',
      view([
        ['Authorization', `Bearer ${TOKEN}`],
        ['Authorization', basic('a:b')],
      ]),
    ],
    ['header and query', view([['Authorization', `Bearer ${TOKEN}`]], `?access_token=${TOKEN}`)],
    ['header and body', view([['Authorization', `Bearer ${TOKEN}`]], '', `access_token=${TOKEN}`)],
    ['query and body', view([], `?access_token=${TOKEN}`, `access_token=${TOKEN}`)],
    ['two query parameters', view([], `?access_token=${TOKEN}&access_token=${TOKEN}`)],
    ['two body parameters', view([], '', `access_token=${TOKEN}&access_token=x`)],
    [
      'Authorization and X-Access-Token',
      view([
        ['Authorization', `Bearer ${TOKEN}`],
        ['X-Access-Token', TOKEN],
      ]),
    ],
  ])('refuses %s as duplicate', (_name, request) => {
    expect(findBearerToken(request, ALL)).toEqual({ ok: false, problem: 'duplicate' });
  });

  describe('in a cookie (bearer_token_param_type cookie)', () => {
    const COOKIE = { in: 'cookie', name: 'at' };
    it.each([
      [
        'the named cookie',
        view([['Cookie', `a=1; at=${TOKEN}; b=2`]]),
        ['cookie'],
        { ok: true, value: TOKEN, location: COOKIE },
      ],
      [
        'with spaces around the pair',
        view([['Cookie', `at = ${TOKEN} `]]),
        ['cookie'],
        { ok: true, value: TOKEN, location: COOKIE },
      ],
      [
        'quoted',
        view([['Cookie', `at="${TOKEN}"`]]),
        ['cookie'],
        { ok: true, value: TOKEN, location: COOKIE },
      ],
      // Only where the config allows it.
      ['not when cookie is not listed', view([['Cookie', `at=${TOKEN}`]]), ALL, undefined],
      ['another cookie name', view([['Cookie', `other=${TOKEN}`]]), ['cookie'], undefined],
      ['a header when only cookie', view([['Authorization', `Bearer ${TOKEN}`]]), ['cookie'], undefined],
      [
        'two cookies of that name (two paths or domains)',
        view([['Cookie', `at=${TOKEN}; at=${TOKEN}`]]),
        ['cookie'],
        { ok: false, problem: 'duplicate' },
      ],
      [
        'a cookie and a header',
        view([
          ['Cookie', `at=${TOKEN}`],
          ['Authorization', `Bearer ${TOKEN}`],
        ]),
        ['header', 'cookie'],
        { ok: false, problem: 'duplicate' },
      ],
      ['a malformed value', view([['Cookie', 'at=a$b']]), ['cookie'], { ok: false, problem: 'malformed' }],
      ['an empty value', view([['Cookie', 'at=']]), ['cookie'], { ok: false, problem: 'malformed' }],
    ] as [string, RequestView, BearerParamType[], unknown][])('%s', (_name, request, types, expected) => {
      expect(findBearerToken(request, types, 'at')).toEqual(expected);
    });
  });

  it('counts duplicate Authorization headers even where the header is the only type', () => {
    const request = view([
      ['Authorization', `Bearer ${TOKEN}`],
      ['Authorization', 'Bearer other'],
    ]);
    expect(findBearerToken(request, ['header'])).toEqual({ ok: false, problem: 'duplicate' });
  });

  it.each([
    ['empty query parameter', view([], '?access_token=')],
    ['spaces inside', view([], '?access_token=a%20b')],
    ['non-base64 characters', view([['Authorization', 'Bearer ey$.ey%.x!']])],
    ['unicode', view([], `?access_token=${encodeURIComponent('ünï.cø.dé')}`)],
    ['a quote', view([['Authorization', 'Bearer "abc"']])],
    ['a comma (two tokens)', view([['Authorization', 'Bearer a, Bearer b']])],
    ['CR/LF', view([], '?access_token=a%0D%0Ab')],
    ['padding in the middle', view([['Authorization', 'Bearer ab=cd']])],
    ['over the size limit', view([['Authorization', `Bearer ${'a'.repeat(MAX_TOKEN_LENGTH + 1)}`]])],
  ])('refuses %s as malformed', (_name, request) => {
    expect(findBearerToken(request, ALL)).toEqual({ ok: false, problem: 'malformed' });
  });

  it('accepts a token exactly at the size limit', () => {
    const token = 'a'.repeat(MAX_TOKEN_LENGTH);
    expect(findBearerToken(view([['Authorization', `Bearer ${token}`]]), ALL)).toMatchObject({ ok: true });
  });

  it('accepts the RFC 6750 b64token alphabet with trailing padding', () => {
    const token = 'Az09-._~+/==';
    expect(findBearerToken(view([['Authorization', `Bearer ${token}`]]), ALL)).toMatchObject({
      ok: true,
      value: token,
    });
  });
});

describe('findPair', () => {
  const names = ['client_id', 'client_secret'] as const;

  it.each([
    ['no credentials', view(), ALL, undefined],
    [
      'Basic',
      view([['Authorization', basic('app:s3cret')]]),
      ALL,
      { ok: true, value: { id: 'app', secret: 's3cret' }, location: { in: 'header', name: 'authorization' } },
    ],
    [
      'Basic, password with colons',
      view([['Authorization', basic('app:a:b:c')]]),
      ALL,
      { ok: true, value: { id: 'app', secret: 'a:b:c' }, location: { in: 'header', name: 'authorization' } },
    ],
    [
      'Basic scheme in any case',
      view([['Authorization', basic('app:s').replace('Basic', 'BASIC')]]),
      ALL,
      { ok: true, value: { id: 'app', secret: 's' }, location: { in: 'header', name: 'authorization' } },
    ],
    [
      'query',
      view([], '?client_id=app&client_secret=s'),
      ALL,
      {
        ok: true,
        value: { id: 'app', secret: 's' },
        location: { in: 'query', names: ['client_id', 'client_secret'] },
      },
    ],
    [
      'body',
      view([], '', 'client_id=app&client_secret=s'),
      ALL,
      {
        ok: true,
        value: { id: 'app', secret: 's' },
        location: { in: 'body', names: ['client_id', 'client_secret'] },
      },
    ],
    ['Bearer is not a pair', view([['Authorization', `Bearer ${TOKEN}`]]), ALL, undefined],
    ['header when only query', view([['Authorization', basic('app:s')]]), ['query'], undefined],
    ['query when only body', view([], '?client_id=app&client_secret=s'), ['body'], undefined],
    ['body when only header', view([], '', 'client_id=app&client_secret=s'), ['header'], undefined],
  ] as [string, RequestView, ParamType[], unknown][])('%s', (_name, request, types, expected) => {
    expect(findPair(request, types, names)).toEqual(expected);
  });

  it.each([
    ['Basic without a colon', view([['Authorization', basic('appsecret')]])],
    ['Basic with an empty user', view([['Authorization', basic(':secret')]])],
    ['Basic with an empty password', view([['Authorization', basic('app:')]])],
    ['Basic that is not base64', view([['Authorization', 'Basic !!!']])],
    ['Basic over the size limit', view([['Authorization', `Basic ${'QUFB'.repeat(MAX_TOKEN_LENGTH)}`]])],
    ['id without secret', view([], '?client_id=app')],
    ['secret without id', view([], '?client_secret=s')],
    ['two ids', view([], '?client_id=a&client_id=b&client_secret=s')],
    ['two secrets', view([], '', 'client_id=a&client_secret=s&client_secret=t')],
    ['empty id', view([], '?client_id=&client_secret=s')],
  ])('refuses %s as malformed', (_name, request) => {
    expect(findPair(request, ALL, names)).toEqual({ ok: false, problem: 'malformed' });
  });

  it('refuses duplicate Authorization headers', () => {
    const request = view([
      ['Authorization', basic('a:b')],
      ['Authorization', basic('c:d')],
    ]);
    expect(findPair(request, ALL, names)).toEqual({ ok: false, problem: 'duplicate' });
  });

  it('uses the names it is given (password grant)', () => {
    const request = view([], '', 'username=alice&password=pw');
    expect(findPair(request, ALL, ['username', 'password'])).toMatchObject({
      ok: true,
      value: { id: 'alice', secret: 'pw' },
    });
    expect(findPair(request, ALL, names)).toBeUndefined();
  });
});

describe('findNamedToken (refresh_token_param_name)', () => {
  const RT = 'rt-0123456789abcdef';

  it.each([
    [
      'the header, `_` read as `-` (Kong, nginx)',
      view([['Refresh-Token', RT]]),
      { in: 'header', name: 'refresh-token' },
    ],
    [
      'the header with a Bearer prefix dropped',
      view([['refresh-token', `Bearer ${RT}`]]),
      { in: 'header', name: 'refresh-token' },
    ],
    ['the query', view([], `?refresh_token=${RT}`), { in: 'query', names: ['refresh_token'] }],
    ['a form body', view([], '', `refresh_token=${RT}`), { in: 'body', names: ['refresh_token'] }],
  ])('finds it in %s', (_name, request, location) => {
    expect(findNamedToken(request, ALL, 'refresh_token')).toEqual({ ok: true, value: RT, location });
  });

  it('looks only where the types say', () => {
    expect(findNamedToken(view([['Refresh-Token', RT]]), ['query', 'body'], 'refresh_token')).toBeUndefined();
    expect(findNamedToken(view([], `?refresh_token=${RT}`), ['header'], 'refresh_token')).toBeUndefined();
  });

  it('does not take the underscore header nginx would drop, nor an Authorization header', () => {
    expect(findNamedToken(view([['refresh_token', RT]]), ALL, 'refresh_token')).toBeUndefined();
    expect(findNamedToken(view([['Authorization', `Bearer ${RT}`]]), ALL, 'refresh_token')).toBeUndefined();
  });

  it.each([
    [
      'two headers',
      view([
        ['Refresh-Token', RT],
        ['refresh-token', RT],
      ]),
    ],
    ['two query values', view([], `?refresh_token=${RT}&refresh_token=x`)],
    ['a header and the query', view([['Refresh-Token', RT]], `?refresh_token=${RT}`)],
  ])('refuses %s as a duplicate', (_name, request) => {
    expect(findNamedToken(request, ALL, 'refresh_token')).toEqual({ ok: false, problem: 'duplicate' });
  });

  it.each([
    ['empty', view([], '?refresh_token=')],
    ['outside the b64token alphabet', view([], '?refresh_token=a%20b')],
    ['over the size limit', view([], `?refresh_token=${'a'.repeat(MAX_TOKEN_LENGTH + 1)}`)],
  ])('refuses one %s as malformed', (_name, request) => {
    expect(findNamedToken(request, ALL, 'refresh_token')).toEqual({ ok: false, problem: 'malformed' });
  });
});
