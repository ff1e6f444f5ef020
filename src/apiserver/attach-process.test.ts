import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ExecSession } from '../api/types.js';
import { processOf } from './attach-process.js';
import { ApiError } from './types.js';

const SESSION: ExecSession = {
  apiVersion: 'execsession.dev/v1alpha1', kind: 'ExecSession',
  metadata: { name: 'dbg', namespace: 'shop' },
  spec: { podName: 'web', user: 'alice' },
  status: { phase: 'Ready', container: 'app', user: { uid: 1000, gid: 1000, name: 'alice', shell: '/bin/ash' } },
} as ExecSession;

const run = (query: string, s: ExecSession = SESSION): ReturnType<typeof processOf> => processOf(s, 'shop/dbg', new URLSearchParams(query));

describe('processOf: attach query parameters, as docs/api.md lists them', () => {
  const accepted: [string, string, { command: string[]; tty: boolean; stdin: boolean }][] = [
    ['none: the user\'s shell, a TTY, stdin', '', { command: ['/bin/ash'], tty: true, stdin: true }],
    ['a command, repeated, unicode and spaces kept', 'command=echo&command=h%C3%A9+%F0%9F%98%80&command=', { command: ['echo', 'hé 😀', ''], tty: true, stdin: true }],
    ['flags as true/false, 1/0 and empty', 'tty=0&stdin=', { command: ['/bin/ash'], tty: false, stdin: true }],
    ['no stdin: no terminal unless asked for (as kubectl), so the shell reads end-of-file and ends', 'stdin=0', { command: ['/bin/ash'], tty: false, stdin: false }],
    ['a terminal without stdin for a command', 'stdin=false&tty=true&command=ls', { command: ['ls'], tty: true, stdin: false }],
    ['kubectl exec\'s own parameters: stdout, stderr, the session\'s container', 'stdout=true&stderr=false&container=app&tty=false&stdin=false', { command: ['/bin/ash'], tty: false, stdin: false }],
  ];
  for (const [name, query, want] of accepted) {
    it(`accepts ${name}`, () => {
      const { command, tty, stdin } = run(query);
      assert.deepEqual({ command, tty, stdin }, want);
    });
  }

  const refused: [string, string, RegExp][] = [
    ['an unknown parameter, named (escaped)', 'user=root', /^unknown query parameter "user"; attach takes command, tty, stdin, stdout, stderr, container$/],
    ['an unknown parameter with control characters, escaped', 'x%1B%5B2J%C2%9B=1', /^unknown query parameter "x\\u001b\[2J\\u009b"/],
    ['a flag given twice', 'tty=true&tty=false', /^query parameter tty was given 2 times; give it once$/],
    ['a malformed flag, its value cut short', `stdin=${'y'.repeat(5000)}`, /^query parameter stdin must be true or false, got "y{64}\.\.\."$/],
    ['a malformed stdout', 'stdout=yes', /^query parameter stdout must be true or false/],
    ['a malformed stderr', 'stderr=%E2%80%A8', /^query parameter stderr must be true or false, got "\\u2028"$/],
    ['another container', 'container=sidecar', /^query parameter container is "sidecar", but execsession shop\/dbg is in container "app"; leave it out$/],
    ['the container twice', 'container=app&container=app', /^query parameter container was given 2 times/],
    ['an empty program', 'command=&command=x', /^query parameter command: its first value, the program, is empty$/],
    ['a NUL byte in an argument', 'command=echo&command=a%00b', /^query parameter command: value 2 contains a NUL byte/],
    ['a terminal without stdin for the shell, which would wait for input until the idle timeout', 'tty=1&stdin=0', /^query parameter tty: a terminal without stdin would leave \/bin\/ash waiting/],
    ['too many arguments', Array.from({ length: 300 }, () => 'command=a').join('&'), /^command: 300 arguments, the limit is 256/],
  ];
  for (const [name, query, want] of refused) {
    it(`refuses ${name} (400)`, () => {
      assert.throws(() => run(query), (e: unknown) => e instanceof ApiError && e.code === 400 && want.test(e.message));
    });
  }

  it('refuses another command on a session with spec.command, naming it', () => {
    const fixed = { ...SESSION, spec: { ...SESSION.spec, command: ['id'] } };
    assert.deepEqual(run('command=id', fixed).command, ['id']);
    assert.throws(() => run('command=sh', fixed), (e: unknown) => e instanceof ApiError && e.reason === 'CommandFixed' && /spec\.command/.test(e.message));
  });
});
