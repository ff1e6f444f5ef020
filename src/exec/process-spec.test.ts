import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { type OciProcess, type SessionProcess, sessionProcess } from './process-spec.js';
import type { ContainerUser } from '../api/types.js';

function container(): OciProcess {
  return {
    terminal: false,
    user: { uid: 0, gid: 0, additionalGids: [0, 1, 2, 3, 4, 6, 10, 11, 20, 26, 27], umask: 0o022 },
    args: ['/usr/sbin/nginx', '-g', 'daemon off;'],
    env: [
      'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      'HOSTNAME=web-0',
      'HOME=/root',
      'USER=root',
      'LOGNAME=root',
      'SHELL=/bin/bash',
      'TERM=dumb',
      'NGINX_VERSION=1.25.3',
      'KUBERNETES_SERVICE_HOST=10.96.0.1',
      'EMPTY=',
      'HOMEDIR=/srv',
    ],
    cwd: '/srv/www',
    capabilities: {
      bounding: ['CAP_CHOWN', 'CAP_NET_BIND_SERVICE'],
      effective: ['CAP_CHOWN', 'CAP_NET_BIND_SERVICE'],
      permitted: ['CAP_CHOWN', 'CAP_NET_BIND_SERVICE'],
    },
    noNewPrivileges: true,
    apparmorProfile: 'cri-containerd.apparmor.d',
    selinuxLabel: 'system_u:system_r:container_t:s0:c1,c2',
    rlimits: [{ type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 }],
    oomScoreAdj: 936,
  };
}

const alice: ContainerUser = { uid: 1000, gid: 1000, groups: [1000, 2000, 3000], name: 'alice', home: '/home/alice', shell: '/bin/zsh', root: false, rootGroup: false };
const bare: ContainerUser = { uid: 4242, gid: 4242, groups: [4242], home: '/', root: false, rootGroup: false };

function session(over: Partial<SessionProcess> = {}): SessionProcess {
  return { user: alice, command: ['/bin/zsh', '-l'], tty: true, ...over };
}

/** The env as a map; fails the test when a name appears twice. */
function envMap(env: string[] | undefined): Map<string, string> {
  const m = new Map<string, string>();
  for (const e of env ?? []) {
    const i = e.indexOf('=');
    const name = e.slice(0, i);
    assert.ok(!m.has(name), `${name} is set twice in ${JSON.stringify(env)}`);
    m.set(name, e.slice(i + 1));
  }
  return m;
}

describe('sessionProcess keeps the container confinement', () => {
  const out = sessionProcess(container(), session());
  const fields = ['capabilities', 'noNewPrivileges', 'apparmorProfile', 'selinuxLabel', 'rlimits', 'cwd', 'oomScoreAdj'] as const;
  for (const f of fields) {
    it(f, () => assert.deepEqual(out[f], container()[f]));
  }

  it('keeps fields it does not know', () => {
    const c = { ...container(), ioPriority: { class: 'IOPRIO_CLASS_IDLE' }, scheduler: { policy: 'SCHED_OTHER' } };
    const o = sessionProcess(c, session());
    assert.deepEqual(o.ioPriority, { class: 'IOPRIO_CLASS_IDLE' });
    assert.deepEqual(o.scheduler, { policy: 'SCHED_OTHER' });
  });

  it('does not add confinement fields the container lacks', () => {
    const o = sessionProcess({ user: { uid: 0, gid: 0 }, args: ['sh'], cwd: '/' }, session());
    for (const f of fields.filter((x) => x !== 'cwd')) assert.equal(o[f], undefined, f);
    assert.equal(o.cwd, '/');
  });
});

describe('sessionProcess user', () => {
  const cases: [string, ContainerUser, OciProcess['user']][] = [
    ['named user with groups', alice, { uid: 1000, gid: 1000, additionalGids: [1000, 2000, 3000] }],
    ['uid without passwd entry', bare, { uid: 4242, gid: 4242, additionalGids: [4242] }],
    ['root', { uid: 0, gid: 0, groups: [0], name: 'root', home: '/root', shell: '/bin/sh', root: true, rootGroup: true },
      { uid: 0, gid: 0, additionalGids: [0] }],
    ['no groups at all', { ...bare, groups: [] }, { uid: 4242, gid: 4242, additionalGids: [] }],
  ];
  for (const [name, user, want] of cases) {
    it(`${name}: exactly the user's ids, no container groups, no umask`, () => {
      assert.deepEqual(sessionProcess(container(), session({ user })).user, want);
    });
  }

  it('copies the groups array', () => {
    const user = { ...alice, groups: [1000, 2000] };
    const o = sessionProcess(container(), session({ user }));
    user.groups.push(0);
    assert.deepEqual(o.user.additionalGids, [1000, 2000]);
  });
});

describe('sessionProcess args and terminal', () => {
  const cases: [string, string[], boolean][] = [
    ['login shell with tty', ['/bin/zsh', '-l'], true],
    ['command without tty', ['sh', '-c', 'echo "$HOME" && id'], false],
    ['empty-string argument kept', ['printf', '', 'x'], false],
  ];
  for (const [name, command, tty] of cases) {
    it(name, () => {
      const o = sessionProcess(container(), session({ command, tty }));
      assert.deepEqual(o.args, command);
      assert.notEqual(o.args, command, 'args is a copy');
      assert.equal(o.terminal, tty);
    });
  }
});

describe('sessionProcess environment', () => {
  it('replaces HOME, USER, LOGNAME, SHELL from the resolved user and keeps the rest', () => {
    const env = envMap(sessionProcess(container(), session({ tty: false })).env);
    assert.equal(env.get('HOME'), '/home/alice');
    assert.equal(env.get('USER'), 'alice');
    assert.equal(env.get('LOGNAME'), 'alice');
    assert.equal(env.get('SHELL'), '/bin/zsh');
    assert.equal(env.get('PATH'), '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin');
    assert.equal(env.get('HOSTNAME'), 'web-0');
    assert.equal(env.get('NGINX_VERSION'), '1.25.3');
    assert.equal(env.get('KUBERNETES_SERVICE_HOST'), '10.96.0.1');
    assert.equal(env.get('EMPTY'), '');
    assert.equal(env.get('HOMEDIR'), '/srv', 'a name that only starts with HOME is kept');
  });

  it('keeps the container env in its order, user variables after', () => {
    const env = sessionProcess(container(), session({ tty: false })).env ?? [];
    assert.deepEqual(env.slice(0, 6), ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOSTNAME=web-0', 'TERM=dumb',
      'NGINX_VERSION=1.25.3', 'KUBERNETES_SERVICE_HOST=10.96.0.1', 'EMPTY=']);
  });

  it('a user without passwd entry gets HOME and nothing of the container user', () => {
    const env = envMap(sessionProcess(container(), session({ user: bare, tty: false })).env);
    assert.equal(env.get('HOME'), '/');
    for (const name of ['USER', 'LOGNAME', 'SHELL']) assert.equal(env.has(name), false, `${name} leaked from the container`);
  });

  const term: [string, boolean, string[] | undefined, string | undefined][] = [
    ['tty replaces the container TERM', true, ['TERM=dumb', 'A=1'], 'xterm'],
    ['tty sets TERM when the container has none', true, ['A=1'], 'xterm'],
    ['tty with no container env at all', true, undefined, 'xterm'],
    ['no tty keeps the container TERM', false, ['TERM=dumb', 'A=1'], 'dumb'],
    ['no tty adds no TERM', false, ['A=1'], undefined],
    ['tty keeps TERMINFO', true, ['TERMINFO=/usr/share/terminfo'], 'xterm'],
  ];
  for (const [name, tty, cenv, want] of term) {
    it(name, () => {
      const env = envMap(sessionProcess({ ...container(), env: cenv }, session({ tty })).env);
      assert.equal(env.get('TERM'), want);
      if (cenv?.includes('TERMINFO=/usr/share/terminfo')) assert.equal(env.get('TERMINFO'), '/usr/share/terminfo');
    });
  }

  it('duplicate user variables in the container are all removed', () => {
    const c = { ...container(), env: ['HOME=/a', 'HOME=/b', 'USER=x', 'SHELL', 'PATH=/bin'] };
    const env = sessionProcess(c, session({ tty: false })).env ?? [];
    assert.deepEqual(env, ['PATH=/bin', 'HOME=/home/alice', 'USER=alice', 'LOGNAME=alice', 'SHELL=/bin/zsh']);
  });
});

describe('sessionProcess does not mutate its input', () => {
  it('container and session are unchanged', () => {
    const c = container();
    const s = session();
    const before = structuredClone({ c, s });
    const o = sessionProcess(c, s);
    assert.deepEqual({ c, s }, before);
    assert.notEqual(o, c);
    assert.notEqual(o.env, c.env);
    assert.notEqual(o.user, c.user);
    assert.notEqual(o.user.additionalGids, s.user.groups);
  });

  it('frozen input works', () => {
    const c = container();
    Object.freeze(c.env);
    Object.freeze(c.user);
    Object.freeze(c);
    assert.doesNotThrow(() => sessionProcess(c, session()));
  });
});
