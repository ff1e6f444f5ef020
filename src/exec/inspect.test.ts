import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { InspectError, hostId, interpretInspection } from './inspect.js';
import type { Sections } from './sections.js';

const CONFIG = JSON.stringify({
  ociVersion: '1.0.2-dev',
  process: { user: { uid: 0, gid: 0 }, args: ['nginx'], cwd: '/', env: ['PATH=/bin'], noNewPrivileges: true },
  root: { path: 'rootfs' },
});
const STATUS = 'CapBnd:\t00000000a80425fb\nCapEff:\t00000000a80425fb\nNoNewPrivs:\t1\nSeccomp:\t2\n';
const PASSWD = 'root:x:0:0:root:/root:/bin/sh\nnginx:x:101:101:nginx:/var/cache/nginx:/sbin/nologin\n';
const GROUP = 'root:x:0:\nnginx:x:101:\n';

function sections(entries: Record<string, string | undefined>): Sections {
  const s: Sections = new Map();
  for (const [k, v] of Object.entries(entries)) if (v !== undefined) s.set(k, Buffer.from(v, 'utf8'));
  return s;
}

/** A full inspect output of a running containerd container, with overrides (undefined removes a section). */
function full(over: Record<string, string | undefined> = {}): Sections {
  return sections({
    config: CONFIG,
    state: '{"ociVersion":"1.0.2","id":"abc","pid":4242,"status":"running"}',
    pid: '4242',
    passwd: PASSWD,
    group: GROUP,
    userns: 'user:[4026531837] user:[4026531837]',
    cgroup: '0::/kubepods/burstable/podx/abc\n',
    uid_map: '         0          0 4294967295\n',
    gid_map: '         0          0 4294967295\n',
    status: STATUS,
    cgroupfs: 'v2',
    ...over,
  });
}

function throwsInspect(s: Sections, message: RegExp): void {
  assert.throws(() => interpretInspection(s), (e: unknown) => {
    assert.ok(e instanceof InspectError, `not an InspectError: ${String(e)}`);
    assert.match(e.message, message);
    return true;
  });
}

describe('interpretInspection errors', () => {
  const cases: [string, Record<string, string | undefined>, RegExp][] = [
    ['error section', { error: 'no process of container abc found on this node' }, /^no process of container abc found on this node$/],
    ['error section wins over everything else', { error: 'bad', pid: undefined }, /^bad$/],
    ['no pid', { pid: undefined }, /no process for the container/],
    ['empty pid', { pid: '' }, /no process for the container/],
    ['pid zero', { pid: '0' }, /no process/],
    ['negative pid', { pid: '-5' }, /no process/],
    ['non-numeric pid', { pid: '12ab' }, /no process/],
    ['fractional pid', { pid: '1.5' }, /no process/],
    ['symlink passwd', { passwd: undefined, 'passwd.error': 'symlink' }, /container's \/etc\/passwd is a symbolic link/],
    ['symlink group', { group: undefined, 'group.error': 'symlink' }, /container's \/etc\/group is a symbolic link; execsession reads only regular files/],
  ];
  for (const [name, over, message] of cases) {
    it(name, () => throwsInspect(full(over), message));
  }

  it('InspectError is an Error', () => {
    assert.ok(new InspectError('x') instanceof Error);
  });

  it('other passwd.error values do not throw', () => {
    const r = interpretInspection(full({ passwd: undefined, 'passwd.error': 'unreadable' }));
    assert.equal(r.passwd, undefined);
  });
});

describe('interpretInspection runtime state', () => {
  it('config and state give the container process', () => {
    const r = interpretInspection(full());
    assert.deepEqual(r.process, JSON.parse(CONFIG).process);
    assert.equal(r.runtimeError, undefined);
  });

  const cases: [string, Record<string, string | undefined>, RegExp][] = [
    ['config without state: runc error', { state: undefined, 'state.error': '  container "abc" does not exist\n' },
      /^runc does not know the container: container "abc" does not exist$/],
    ['config without state or its error', { state: undefined }, /^runc does not know the container: no state$/],
    ['no config', { config: undefined }, /no OCI bundle for the container under the configured runtime state directory/],
    ['no config but a state', { config: undefined, state: '{}' }, /no OCI bundle/],
    ['empty config', { config: '' }, /no OCI bundle/],
    ['config without process', { config: '{"ociVersion":"1.0.2"}' }, /^the container's OCI config has no process$/],
  ];
  for (const [name, over, message] of cases) {
    it(name, () => {
      const r = interpretInspection(full(over));
      assert.equal(r.process, undefined);
      assert.match(r.runtimeError ?? '', message);
      assert.equal(r.pid, 4242, 'the rest is still interpreted');
    });
  }
});

describe('interpretInspection fields', () => {
  it('passes pid, passwd, group and uid_map through', () => {
    const r = interpretInspection(full({ pid: '99', uid_map: '0 100000 65536\n' }));
    assert.equal(r.pid, 99);
    assert.equal(r.passwd, PASSWD);
    assert.equal(r.group, GROUP);
    assert.equal(r.uidMap, '0 100000 65536\n');
  });

  it('absent passwd, group and uid_map', () => {
    const r = interpretInspection(full({ passwd: undefined, group: undefined, uid_map: undefined }));
    assert.equal(r.passwd, undefined);
    assert.equal(r.group, undefined);
    assert.equal(r.uidMap, '');
  });

  const userns: [string, string | undefined, boolean][] = [
    ['same namespace', 'user:[4026531837] user:[4026531837]', false],
    ['own namespace', 'user:[4026532412] user:[4026531837]', true],
    ['section absent', undefined, false],
    ['target unknown', ' user:[4026531837]', false],
    ['own unknown', 'user:[4026532412] ', false],
    ['one value only', 'user:[4026532412]', false],
  ];
  for (const [name, value, want] of userns) {
    it(`user namespace: ${name}`, () => assert.equal(interpretInspection(full({ userns: value })).ownUserNamespace, want));
  }

  const cgroups: [string | undefined, 'v1' | 'v2'][] = [['v2', 'v2'], ['v1', 'v1'], [undefined, 'v1'], ['', 'v1']];
  for (const [value, want] of cgroups) {
    it(`cgroupfs ${JSON.stringify(value)} -> ${want}`, () => assert.equal(interpretInspection(full({ cgroupfs: value })).cgroupVersion, want));
  }

  const statuses: [string, string | undefined, { capBnd: string; noNewPrivs: boolean; seccomp: number }][] = [
    ['confined', STATUS, { capBnd: '00000000a80425fb', noNewPrivs: true, seccomp: 2 }],
    ['unconfined', 'CapBnd:\t000001ffffffffff\nNoNewPrivs:\t0\nSeccomp:\t0\n', { capBnd: '000001ffffffffff', noNewPrivs: false, seccomp: 0 }],
    ['spaces instead of tabs', 'CapBnd:  0000000000000000\nNoNewPrivs: 1\nSeccomp: 1\n', { capBnd: '0000000000000000', noNewPrivs: true, seccomp: 1 }],
    ['Seccomp_filters before Seccomp', 'Seccomp_filters:\t3\nSeccomp:\t2\nCapBnd:\tff\n', { capBnd: 'ff', noNewPrivs: false, seccomp: 2 }],
    ['lines of a full /proc status', 'Name:\tnginx\nCapEff:\t0000000000000000\nCapBnd:\t00000000a80425fb\nNoNewPrivs:\t1\nSeccomp:\t2\nSpeculation_Store_Bypass:\tthread vulnerable\n',
      { capBnd: '00000000a80425fb', noNewPrivs: true, seccomp: 2 }],
    ['section absent', undefined, { capBnd: '', noNewPrivs: false, seccomp: 0 }],
    ['fields absent', 'CapEff:\t0\n', { capBnd: '', noNewPrivs: false, seccomp: 0 }],
  ];
  for (const [name, value, want] of statuses) {
    it(`status: ${name}`, () => {
      const r = interpretInspection(full({ status: value }));
      assert.deepEqual({ capBnd: r.capBnd, noNewPrivs: r.noNewPrivs, seccomp: r.seccomp }, want);
    });
  }
});

describe('hostId', () => {
  const ROOTLESS = '         0     100000      65536\n';
  const IDENTITY = '         0          0 4294967295\n';
  const SPLIT = '0 1000 1\n1 100000 65535\n';
  const cases: [string, number, string, number | undefined][] = [
    ['shifted: root', 0, '0 100000 65536', 100000],
    ['shifted: 1000', 1000, '0 100000 65536', 101000],
    ['shifted: last id', 65535, '0 100000 65536', 165535],
    ['shifted: beyond the range', 65536, '0 100000 65536', undefined],
    ['shifted, padded like /proc', 1000, ROOTLESS, 101000],
    ['identity: root', 0, IDENTITY, 0],
    ['identity: 1000', 1000, IDENTITY, 1000],
    ['identity: 2^31-1', 2 ** 31 - 1, IDENTITY, 2 ** 31 - 1],
    ['split map: first line', 0, SPLIT, 1000],
    ['split map: second line start', 1, SPLIT, 100000],
    ['split map: second line', 500, SPLIT, 100499],
    ['split map: beyond', 65536, SPLIT, undefined],
    ['range not starting at zero: below', 999, '1000 5000 10', undefined],
    ['range not starting at zero: inside', 1005, '1000 5000 10', 5005],
    ['blank lines ignored', 3, '\n\n0 10 5\n\n', 13],
    ['tabs between fields', 2, '0\t200\t10', 202],
    ['empty map', 0, '', undefined],
    ['short line', 0, '0 100000', undefined],
    ['garbage', 0, 'a b c', undefined],
  ];
  for (const [name, id, map, want] of cases) {
    it(name, () => assert.equal(hostId(id, map), want));
  }
});
