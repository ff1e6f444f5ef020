import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { numericId, parseUserSpec, UserSpecError } from './user-spec.js';

describe('parseUserSpec accepts docker specs', () => {
  const cases: [string, { user: string; group?: string }][] = [
    ['alice', { user: 'alice' }],
    ['1000', { user: '1000' }],
    ['0', { user: '0' }],
    ['alice:ops', { user: 'alice', group: 'ops' }],
    ['1000:2000', { user: '1000', group: '2000' }],
    ['alice:0', { user: 'alice', group: '0' }],
    ['2147483647:2147483647', { user: '2147483647', group: '2147483647' }],
    ['www-data', { user: 'www-data' }],
    ['svc_1.x$', { user: 'svc_1.x$' }],
    ['Alice.Smith', { user: 'Alice.Smith' }],
    ['_apt', { user: '_apt' }],
    ['.hidden', { user: '.hidden' }],
    ['a'.repeat(32), { user: 'a'.repeat(32) }],
    ['www-data:adm', { user: 'www-data', group: 'adm' }],
  ];
  for (const [spec, want] of cases) {
    it(JSON.stringify(spec.length > 20 ? `${spec.slice(0, 20)}…` : spec), () => {
      assert.deepEqual(parseUserSpec(spec), want);
    });
  }
});

describe('parseUserSpec rejects malformed specs', () => {
  const cases: [string, RegExp][] = [
    ['', /it is empty/],
    ['alice bob', /whitespace/],
    [' alice', /whitespace/],
    ['alice\t', /whitespace/],
    ['alice\u00a0', /whitespace/],
    ['al\u0000ice', /control character/],
    ['alice\u001b[0m', /control character/],
    ['alice\u007f', /control character/],
    ['alice:ops:x', /more than one ":"/],
    ['::', /more than one ":"/],
    [':ops', /the user part is empty/],
    ['alice:', /the group part is empty/],
    ['-1', /uid -1 is negative/],
    ['alice:-5', /gid -5 is negative/],
    ['+1000', /uid "\+1000" is not a plain decimal/],
    ['0x10', /uid "0x10" is not a plain decimal/],
    ['1e3', /uid "1e3" is not a plain decimal/],
    ['alice:12abc', /gid "12abc" is not a plain decimal/],
    ['2147483648', /uid 2147483648 is above the maximum 2147483647/],
    ['0:99999999999999999999', /gid 99999999999999999999 is above the maximum/],
    // Shell metacharacters, paths and other strings no user name can be.
    ['alice;id', /the user name "alice;id" contains ";"/],
    ['$(id)', /the user name "\$\(id\)" contains "\$"/],
    ['`id`', /the user name "`id`" contains "`"/],
    ['../etc/passwd', /the user name "..\/etc\/passwd" contains "\/"/],
    ['alice:ops|x', /the group name "ops\|x" contains "\|"/],
    ['alice&', /contains "&"/],
    ['al$ice', /contains "\$"/],
    ['alice$$', /contains "\$"/],
    ["o'brien", /contains "'"/],
    ['al\\ice', /contains "\\\\"/],
    ['élise', /contains "é"/],
    ['alice\u{1F600}', /contains "\u{1F600}"/u],
    ['-alice', /the user name "-alice" starts with '-'/],
    ['alice:-ops', /the group name "-ops" starts with '-'/],
    ['.', /the user name "\." is a path, not a name/],
    ['alice:..', /the group name "\.\." is a path, not a name/],
    ['a'.repeat(33), /the user name is 33 characters long, the limit is 32/],
    ['a'.repeat(257), /257 characters long, the limit is 256/],
  ];
  for (const [spec, message] of cases) {
    it(JSON.stringify(spec.length > 20 ? `${spec.slice(0, 20)}…` : spec), () => {
      assert.throws(() => parseUserSpec(spec), (err: unknown) => {
        assert.ok(err instanceof UserSpecError);
        assert.equal(err.name, 'UserSpecError');
        assert.equal(err.spec, spec);
        assert.match(err.message, message);
        assert.match(err.message, /expected <name\|uid>\[:<group\|gid>\]$/);
        return true;
      });
    });
  }

  it('escapes control characters and shortens huge specs in the message', () => {
    assert.throws(() => parseUserSpec('a\u001bb'), /invalid user spec "a\\u001bb"/);
    assert.throws(() => parseUserSpec('x'.repeat(1000)), (err: unknown) => {
      assert.ok(err instanceof UserSpecError);
      assert.ok(err.message.length < 250, err.message);
      return true;
    });
  });
});

describe('numericId', () => {
  it('is the number for decimal parts and undefined for names', () => {
    assert.equal(numericId('0'), 0);
    assert.equal(numericId('1000'), 1000);
    assert.equal(numericId('007'), 7);
    assert.equal(numericId('alice'), undefined);
    assert.equal(numericId('a1'), undefined);
  });
});
