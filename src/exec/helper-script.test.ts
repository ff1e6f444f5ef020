import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { HELPER_SCRIPT, helperArgv } from './helper-script.js';

describe('helperArgv', () => {
  const cases: [string, string, string[]][] = [
    ['no arguments', 'procs', []],
    ['serve', 'serve', ['1714557600', '5']],
    ['inspect', 'inspect', ['0123abcd', '/run/containerd/io.containerd.runtime.v2.task/k8s.io/0123abcd/config.json', '/run/containerd/runc/k8s.io']],
    ['arguments with shell metacharacters stay separate', 'start', ['job-1', '16384', 'runtime', '/tmp/x.json', '$(reboot)', '; rm -rf /', 'a b', '']],
  ];
  for (const [name, sub, args] of cases) {
    it(name, () => {
      const argv = helperArgv(sub, ...args);
      assert.deepEqual(argv, ['/bin/sh', '-c', HELPER_SCRIPT, 'execsession-helper', sub, ...args]);
      assert.equal(argv.length, 5 + args.length);
    });
  }

  it('the script is one fixed string, never built from arguments', () => {
    assert.equal(helperArgv('inspect', '$(id)')[2], helperArgv('procs')[2]);
  });
});

describe('HELPER_SCRIPT text', () => {
  it('was not changed by template interpolation', () => {
    // String.raw keeps backslashes; a `${` would have been interpolated away by TypeScript.
    assert.ok(HELPER_SCRIPT.includes(String.raw`s/^NSpid:.*[[:space:]]\([0-9]*\)$/\1/p`));
    assert.ok(!HELPER_SCRIPT.includes('undefined'));
  });

  const subcommands = ['serve', 'inspect', 'prepare', 'start', 'run_runtime', 'wait', 'procs', 'cleanup'];
  for (const sub of subcommands) {
    it(`dispatches ${sub}`, () => assert.match(HELPER_SCRIPT, new RegExp(`^  ${sub}\\) `, 'm')));
  }

  it('fails on an unknown sub-command', () => {
    assert.match(HELPER_SCRIPT, /^ {2}\*\) fail "unknown command \$cmd" ;;$/m);
  });
});

interface Shell {
  name: string;
  argv: string[];
}

const shells: Shell[] = [{ name: '/bin/sh', argv: ['/bin/sh'] }];
if (existsSync('/bin/busybox')) shells.push({ name: 'busybox sh', argv: ['/bin/busybox', 'sh'] });

function syntaxCheck(shell: Shell, script: string): { status: number | null; stderr: string } {
  const [cmd = '', ...pre] = shell.argv;
  const r = spawnSync(cmd, [...pre, '-n', '-c', script, 'execsession-helper', 'procs'], { encoding: 'utf8', timeout: 5_000 });
  return { status: r.status, stderr: r.stderr };
}

describe('HELPER_SCRIPT parses (sh -n)', () => {
  for (const shell of shells) {
    it(`${shell.name} accepts the script`, () => {
      const r = syntaxCheck(shell, HELPER_SCRIPT);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stderr, '');
    });

    it(`${shell.name} -n does detect a syntax error (the check is real)`, () => {
      const r = syntaxCheck(shell, `${HELPER_SCRIPT}\nif then fi (\n`);
      assert.notEqual(r.status, 0);
    });
  }
});
