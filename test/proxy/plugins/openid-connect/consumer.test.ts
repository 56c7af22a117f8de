import { describe, expect, it } from 'vitest';
import type { Application } from '../../../../contract/index.js';
import { ConsumerIndex, type ConsumerField } from '../../../../proxy/plugins/openid-connect/consumer.js';

function app(id: string, clientId: string): Application {
  const [namespace = 'test', name = id] = id.split('/');
  return { id, clientId, approvedServices: [], source: { kind: 'Application', namespace, name } };
}

const billing = app('billing/billing', 'app-billing');
const other = app('other/other', 'app-other');
// An Application whose id is another's client id: the field order decides.
const tricky = app('app-billing/x', '0oa123');
const index = new ConsumerIndex([billing, other, tricky]);

describe('ConsumerIndex.find', () => {
  it.each([
    ['custom_id by client id', { cid: 'app-billing' }, ['cid'], ['custom_id'], billing],
    ['username by namespace/name', { cid: 'other/other' }, ['cid'], ['username'], other],
    ['id by namespace/name', { cid: 'other/other' }, ['cid'], ['id'], other],
    ['custom_id does not match by id', { cid: 'other/other' }, ['cid'], ['custom_id'], undefined],
    ['username does not match by client id', { cid: 'app-other' }, ['cid'], ['username'], undefined],
    ['no claim', {}, ['cid'], ['username', 'custom_id'], undefined],
    ['unknown value', { cid: 'app-unknown' }, ['cid'], ['username', 'custom_id'], undefined],
    ['nested claim path', { app: { id: 'app-other' } }, ['app', 'id'], ['custom_id'], other],
    [
      'array claim: first match',
      { cid: ['nobody', 'app-other', 'app-billing'] },
      ['cid'],
      ['custom_id'],
      other,
    ],
    ['number claim', { cid: 123 }, ['cid'], ['custom_id'], undefined],
    ['object claim is never a name', { cid: { toString: 'app-billing' } }, ['cid'], ['custom_id'], undefined],
    ['boolean claim is never a name', { cid: true }, ['cid'], ['custom_id'], undefined],
    ['null claim', { cid: null }, ['cid'], ['custom_id'], undefined],
    ['case matters', { cid: 'APP-BILLING' }, ['cid'], ['custom_id'], undefined],
    // Fields are tried in the configured order: the first field that matches wins.
    ['order: username first', { cid: '0oa123' }, ['cid'], ['username', 'custom_id'], tricky],
    ['order with a value that is both', { cid: 'app-billing/x' }, ['cid'], ['custom_id', 'username'], tricky],
    ['inherited property names are not claims', {}, ['constructor'], ['username', 'custom_id'], undefined],
  ] as [string, Record<string, unknown>, string[], ConsumerField[], Application | undefined][])(
    '%s',
    (_name, claims, path, by, expected) => {
      expect(index.find(claims, path, by)).toBe(expected);
    },
  );

  it('finds numeric client ids from a numeric claim', () => {
    const numeric = new ConsumerIndex([app('n/n', '42')]);
    expect(numeric.find({ cid: 42 }, ['cid'], ['custom_id'])?.id).toBe('n/n');
  });

  it('finds nothing in an empty index', () => {
    expect(new ConsumerIndex([]).find({ cid: 'app-billing' }, ['cid'], ['id', 'username', 'custom_id'])).toBe(
      undefined,
    );
  });
});

describe('ConsumerIndex.findFirst (Kong 3.14 consumer_claims)', () => {
  it.each([
    ['the first path that names a consumer', { a: 'nobody', b: 'app-other' }, [['a'], ['b']], other],
    ['earlier paths win', { a: 'app-billing', b: 'app-other' }, [['a'], ['b']], billing],
    ['a missing claim is skipped', { b: 'app-other' }, [['a'], ['b']], other],
    ['none match', { a: 'x', b: 'y' }, [['a'], ['b']], undefined],
    ['nested paths', { org: { app: 'app-billing' } }, [['org', 'app']], billing],
  ])('%s', (_name, claims, paths, want) => {
    expect(index.findFirst(claims, paths, ['custom_id'])).toBe(want);
  });
});

describe('ConsumerIndex.byId (Kong anonymous)', () => {
  it.each([
    ['billing/billing', billing],
    ['app-billing', undefined], // a client id (custom_id) is not an id
    ['billing', undefined], // a bare name: no namespace is assumed
    ['', undefined],
  ])('%s', (id, expected) => {
    expect(index.byId(id)).toBe(expected);
  });
});
