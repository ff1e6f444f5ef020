import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ContainerUser } from '../api/types.js';
import { loginShell, resolveUser, ResolveUserError, type UserDbFiles } from './resolve-user.js';
import { UserSpecError } from '../api/user-spec.js';

// Same users and groups as the project's test image.
const PASSWD = [
  'root:x:0:0:root:/root:/bin/sh',
  'alice:x:1000:1000::/home/alice:/bin/sh',
  'bob:x:1001:1001::/home/bob:/bin/ash',
  'nohome:x:1002:1002::/nonexistent:/bin/sh',
  'nobody:x:65534:65534::/:/bin/false',
].join('\n') + '\n';
const GROUP = [
  'root:x:0:',
  'alice:x:1000:',
  'bob:x:1001:',
  'nohome:x:1002:',
  'ops:x:2000:alice,bob',
  'nogroup:x:65534:',
].join('\n') + '\n';
const FILES: UserDbFiles = { passwd: PASSWD, group: GROUP };

type Want = Omit<ContainerUser, 'root' | 'rootGroup'>;
const ALICE = { name: 'alice', home: '/home/alice', shell: '/bin/sh' };
const BOB = { name: 'bob', home: '/home/bob', shell: '/bin/ash' };
const ROOT = { name: 'root', home: '/root', shell: '/bin/sh' };

/** Expected result, with root/rootGroup derived the way the contract defines them. */
function want(w: Want): ContainerUser {
  return { ...w, root: w.uid === 0, rootGroup: w.gid === 0 || w.groups.includes(0) };
}

describe('resolveUser against the test image', () => {
  const cases: [string, Want][] = [
    // Name or uid that matches an entry, no group: entry's gid + groups listing the name.
    ['alice', { uid: 1000, gid: 1000, groups: [1000, 2000], ...ALICE }],
    ['bob', { uid: 1001, gid: 1001, groups: [1001, 2000], ...BOB }],
    ['1001', { uid: 1001, gid: 1001, groups: [1001, 2000], ...BOB }],
    ['1000', { uid: 1000, gid: 1000, groups: [1000, 2000], ...ALICE }],
    ['root', { uid: 0, gid: 0, groups: [0], ...ROOT }],
    ['0', { uid: 0, gid: 0, groups: [0], ...ROOT }],
    ['nohome', { uid: 1002, gid: 1002, groups: [1002], name: 'nohome', home: '/nonexistent', shell: '/bin/sh' }],
    ['nobody', { uid: 65534, gid: 65534, groups: [65534], name: 'nobody', home: '/', shell: '/bin/false' }],
    // Explicit group: that gid only, no supplementary groups.
    ['alice:ops', { uid: 1000, gid: 2000, groups: [2000], ...ALICE }],
    ['1000:2000', { uid: 1000, gid: 2000, groups: [2000], ...ALICE }],
    ['alice:0', { uid: 1000, gid: 0, groups: [0], ...ALICE }],
    ['alice:root', { uid: 1000, gid: 0, groups: [0], ...ALICE }],
    ['bob:alice', { uid: 1001, gid: 1000, groups: [1000], ...BOB }],
    // Numeric gid absent from /etc/group is used as is.
    ['alice:9999', { uid: 1000, gid: 9999, groups: [9999], ...ALICE }],
    // Numeric uid absent from /etc/passwd: docker's defaults gid 0, HOME "/".
    ['4242', { uid: 4242, gid: 0, groups: [0], home: '/' }],
    ['4242:4242', { uid: 4242, gid: 4242, groups: [4242], home: '/' }],
    ['4242:ops', { uid: 4242, gid: 2000, groups: [2000], home: '/' }],
    ['2147483647', { uid: 2147483647, gid: 0, groups: [0], home: '/' }],
  ];
  for (const [spec, w] of cases) {
    it(spec, () => assert.deepEqual(resolveUser(spec, FILES), want(w)));
  }

  it('flags root and the root group', () => {
    assert.deepEqual(pick(resolveUser('root', FILES)), { root: true, rootGroup: true });
    assert.deepEqual(pick(resolveUser('alice', FILES)), { root: false, rootGroup: false });
    assert.deepEqual(pick(resolveUser('alice:0', FILES)), { root: false, rootGroup: true });
    assert.deepEqual(pick(resolveUser('4242', FILES)), { root: false, rootGroup: true });
    assert.deepEqual(pick(resolveUser('0:1000', FILES)), { root: true, rootGroup: false });
  });
});

function pick(u: ContainerUser): { root: boolean; rootGroup: boolean } {
  return { root: u.root, rootGroup: u.rootGroup };
}

/** Asserts resolveUser throws a ResolveUserError with this reason, subject and message. */
function assertFails(spec: string, files: UserDbFiles, reason: string, subject: string, message: RegExp): void {
  assert.throws(() => resolveUser(spec, files), (err: unknown) => {
    assert.ok(err instanceof ResolveUserError);
    assert.equal(err.name, 'ResolveUserError');
    assert.equal(err.reason, reason);
    assert.equal(err.subject, subject);
    assert.match(err.message, message);
    return true;
  });
}

describe('resolveUser errors', () => {
  it('names an unknown user and the file it was looked up in', () => {
    assertFails('unknown', FILES, 'UserNotFound', 'unknown', /^user "unknown" not found: it is not in the container's \/etc\/passwd$/);
  });
  it('names an unknown group and the file it was looked up in', () => {
    assertFails('alice:nosuchgroup', FILES, 'GroupNotFound', 'nosuchgroup',
      /^group "nosuchgroup" not found: it is not in the container's \/etc\/group$/);
  });
  it('checks the user before the group', () => {
    assertFails('unknown:nosuchgroup', FILES, 'UserNotFound', 'unknown', /user "unknown"/);
  });
  it('matches names case-sensitively', () => {
    assertFails('Alice', FILES, 'UserNotFound', 'Alice', /user "Alice"/);
  });
  it('passes spec errors through as UserSpecError', () => {
    assert.throws(() => resolveUser('alice:ops:x', FILES), UserSpecError);
    assert.throws(() => resolveUser('-1', FILES), UserSpecError);
  });
  it('refuses out-of-range ids read from the files instead of wrapping them', () => {
    const passwd = 'big:x:4294967296:1000::/home/big:/bin/sh\nneg:x:1003:-1::/:/bin/sh\n';
    assertFails('big', { passwd, group: GROUP }, 'IdOutOfRange', '4294967296', /outside 0-2147483647/);
    assertFails('neg', { passwd, group: GROUP }, 'IdOutOfRange', '-1', /id -1/);
    assertFails('alice', { passwd: PASSWD, group: 'huge:x:3000000000:alice\n' }, 'IdOutOfRange', '3000000000', /id 3000000000/);
  });
});

describe('resolveUser without /etc/passwd or /etc/group', () => {
  const none: UserDbFiles = { passwd: undefined, group: undefined };
  it('accepts numeric ids, with gid 0 and HOME "/" by default', () => {
    assert.deepEqual(resolveUser('1000', none), want({ uid: 1000, gid: 0, groups: [0], home: '/' }));
    assert.deepEqual(resolveUser('1000:2000', none), want({ uid: 1000, gid: 2000, groups: [2000], home: '/' }));
    assert.deepEqual(resolveUser('0', none), want({ uid: 0, gid: 0, groups: [0], home: '/' }));
  });
  it('rejects a user name and says the file is missing', () => {
    assertFails('alice', none, 'UserNotFound', 'alice', /^user "alice" not found: the container has no \/etc\/passwd \(only numeric uids/);
  });
  it('rejects a group name and says the file is missing', () => {
    assertFails('alice:ops', { passwd: PASSWD, group: undefined }, 'GroupNotFound', 'ops',
      /^group "ops" not found: the container has no \/etc\/group \(only numeric gids/);
  });
  it('resolves a named user without supplementary groups when /etc/group is missing', () => {
    assert.deepEqual(resolveUser('alice', { passwd: PASSWD, group: undefined }),
      want({ uid: 1000, gid: 1000, groups: [1000], ...ALICE }));
    assert.deepEqual(resolveUser('alice:3000', { passwd: PASSWD, group: undefined }),
      want({ uid: 1000, gid: 3000, groups: [3000], ...ALICE }));
  });
  it('treats empty files like files without entries', () => {
    assert.deepEqual(resolveUser('1000', { passwd: '', group: '' }), want({ uid: 1000, gid: 0, groups: [0], home: '/' }));
    assertFails('alice', { passwd: '', group: '' }, 'UserNotFound', 'alice', /not in the container's \/etc\/passwd/);
  });
});

describe('resolveUser file parsing (moby/sys rules)', () => {
  it('skips blank lines, trims lines and accepts CRLF', () => {
    const passwd = '\n  \r\n  alice:x:1000:1000::/home/alice:/bin/sh  \r\n\n';
    const group = '\r\n\tops:x:2000:alice\r\n';
    assert.deepEqual(resolveUser('alice', { passwd, group }), want({ uid: 1000, gid: 1000, groups: [1000, 2000], ...ALICE }));
  });
  it('skips "#" comment lines in /etc/group', () => {
    const group = '#ops:x:3000:alice\n  # wheel:x:10:alice\nops:x:2000:alice\n';
    assert.deepEqual(resolveUser('alice', { passwd: PASSWD, group }).groups, [1000, 2000]);
    // A comment line's name could never be asked for: "#ops" is not a user spec at all.
    assert.throws(() => resolveUser('alice:#ops', { passwd: PASSWD, group }), /the group name "#ops" contains "#"/);
  });
  it('does not match comment or malformed passwd lines by ordinary names', () => {
    const passwd = `# alice:x:0:0::/root:/bin/sh\ngarbage\nalice\n${PASSWD}`;
    assert.deepEqual(resolveUser('bob', { passwd, group: GROUP }), want({ uid: 1001, gid: 1001, groups: [1001, 2000], ...BOB }));
  });
  it('like docker, does not skip "#" lines in /etc/passwd: their uid field parses as 0', () => {
    // moby/sys only skips comments in /etc/group; "# comment" is a user named
    // "# comment" with uid 0 (Atoi errors ignored), and `-u 0` takes the first uid-0 line.
    const passwd = `# comment\n${PASSWD}`;
    assert.deepEqual(resolveUser('0', { passwd, group: GROUP }),
      want({ uid: 0, gid: 0, groups: [0], name: '# comment', home: '/' }));
    assert.deepEqual(resolveUser('root', { passwd, group: GROUP }),
      want({ uid: 0, gid: 0, groups: [0], ...ROOT, home: '/' }), 'HOME comes from the first uid-0 line');
  });
  it('like docker, gives a short line uid 0 / gid 0 when matched by name', () => {
    assert.deepEqual(resolveUser('svc', { passwd: `svc\n${PASSWD}`, group: GROUP }),
      want({ uid: 0, gid: 0, groups: [0], name: 'svc', home: '/' }));
    assert.deepEqual(resolveUser('svc', { passwd: `svc:x:abc:1000\n${PASSWD}`, group: GROUP }),
      want({ uid: 0, gid: 1000, groups: [1000], name: 'svc', home: '/' }));
  });
  it('matches a numeric spec by uid only, never by a numeric user name', () => {
    const passwd = `1000:x:5000:5000::/home/n:/bin/sh\n${PASSWD}`;
    assert.deepEqual(resolveUser('1000', { passwd, group: GROUP }), want({ uid: 1000, gid: 1000, groups: [1000, 2000], ...ALICE }));
    assert.deepEqual(resolveUser('5000', { passwd, group: GROUP }),
      want({ uid: 5000, gid: 5000, groups: [5000], name: '1000', home: '/home/n', shell: '/bin/sh' }));
  });
  it('matches a numeric group by gid only, never by a numeric group name', () => {
    const group = `2000:x:7000:\n${GROUP}`;
    assert.deepEqual(resolveUser('alice:2000', { passwd: PASSWD, group }).gid, 2000);
  });
  it('takes the first matching passwd and group line', () => {
    const passwd = `${PASSWD}alice:x:1500:1500::/home/alice2:/bin/bash\n`;
    assert.equal(resolveUser('alice', { passwd, group: GROUP }).uid, 1000);
    const group = `${GROUP}ops:x:2500:\n`;
    assert.equal(resolveUser('alice:ops', { passwd: PASSWD, group }).gid, 2000);
  });
  it('takes HOME from the first entry with the resolved uid, as runc does', () => {
    const passwd = `${PASSWD}toor:x:0:0::/var/toor:/bin/csh\n`;
    assert.deepEqual(resolveUser('toor', { passwd, group: GROUP }),
      want({ uid: 0, gid: 0, groups: [0], name: 'toor', home: '/root', shell: '/bin/csh' }));
  });
  it('uses "/" for an empty home field and omits an empty shell', () => {
    const r = resolveUser('svc', { passwd: 'svc:x:1234:1234:::\n', group: '' });
    assert.deepEqual(r, want({ uid: 1234, gid: 1234, groups: [1234], name: 'svc', home: '/' }));
  });
  it('collects every group listing the user, exact member names only, deduplicated', () => {
    const group = [
      'alice:x:1000:alice', // the primary group listed again: still once
      'ops:x:2000:alice,bob',
      'dev:x:3000:bob, alice', // " alice" is not "alice"
      'adm:x:4:alicex,alice',
      'dup:x:2000:alice',
    ].join('\n');
    assert.deepEqual(resolveUser('alice', { passwd: PASSWD, group }).groups, [4, 1000, 2000]);
  });
  it('looks up supplementary groups for a uid matched to a named entry', () => {
    assert.deepEqual(resolveUser('1000', { passwd: PASSWD, group: 'wheel:x:10:alice\n' }).groups, [10, 1000]);
  });
  it('gives root supplementary group 0 and others when listed', () => {
    const group = `${GROUP}wheel:x:10:root\n`;
    assert.deepEqual(resolveUser('0', { passwd: PASSWD, group }).groups, [0, 10]);
  });
});

describe('loginShell', () => {
  it('returns the passwd shell', () => {
    assert.equal(loginShell(resolveUser('bob', FILES)), '/bin/ash');
    assert.equal(loginShell(resolveUser('nobody', FILES)), '/bin/false');
  });
  it('falls back to /bin/sh without an entry or with an empty shell', () => {
    assert.equal(loginShell(resolveUser('4242', FILES)), '/bin/sh');
    assert.equal(loginShell(resolveUser('svc', { passwd: 'svc:x:1234:1234::/home/svc:\n', group: undefined })), '/bin/sh');
  });
});
