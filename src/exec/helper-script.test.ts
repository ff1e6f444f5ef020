import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { HELPER_SCRIPT, helperArgv } from './helper-script.js';
import { parseSections, text } from './sections.js';

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

  const subcommands = ['serve', 'inspect', 'prepare', 'start', 'run_runtime', 'wait', 'block', 'procs', 'cleanup'];
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

/** Runs the script with its state and host directories moved under `root` (as a test may: not root, no /host). */
function runMoved(root: string, args: string[]): Promise<{ code: number | null; stdout: Buffer; stderr: string }> {
  const script = HELPER_SCRIPT.replace('\nS=/tmp/execsession\n', `\nS=${join(root, 'state')}\n`).replace('\nH=/host\n', `\nH=${join(root, 'host')}\n`)
    .replace('\nTL=/dev/termination-log\n', `\nTL=${join(root, 'termination-log')}\n`)
    .replace('exec /usr/local/bin/execsession-enter ', `exec ${join(root, 'enter')} `)
    // The helper image's tools are busybox's: where a test links them (root/bin), they come first.
    .replace('\nPATH=/usr/local/sbin:', `\nPATH=${join(root, 'bin')}:/usr/local/sbin:`);
  assert.notEqual(script, HELPER_SCRIPT);
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', script, 'execsession-helper', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr: err }));
  });
}

describe('HELPER_SCRIPT run side by side (finding 7)', () => {
  let root: string;
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'execsession-helper-script-'));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('keeps the output of concurrent runs apart: each writes its scratch files in a directory of its own', async () => {
    // Job names of different lengths: each run's error section has its own length.
    const names = Array.from({ length: 20 }, (_, i) => `job-${'x'.repeat(i)}`);
    const runs = await Promise.all(names.map((n) => runMoved(root, ['wait', n, '0', '16'])));
    runs.forEach((r, i) => {
      assert.equal(r.code, 0, r.stderr);
      assert.equal(text(parseSections(r.stdout), 'error'), `job ${names[i]} was never started`);
    });
    assert.deepEqual(readdirSync(join(root, 'state')), [], 'every scratch directory is removed at exit');
  });

  it('inspects side by side without mixing the runtime\'s answers', async () => {
    const ids = ['0123456789ab', 'abcdef0123456789abcdef', '0a1b2c3d4e5f60718293a4b5c6d7e8f9'];
    for (const id of ids) {
      mkdirSync(join(root, 'host', 'run', id), { recursive: true });
      writeFileSync(join(root, 'host', 'run', id, 'config.json'), `{"id":"${id}"}`);
    }
    const runs = await Promise.all(ids.map((id) => runMoved(root, ['inspect', id, `/run/${id}/config.json`, '/run/runc'])));
    runs.forEach((r, i) => {
      assert.equal(r.code, 0, r.stderr);
      const s = parseSections(r.stdout);
      assert.equal(text(s, 'config'), `{"id":"${ids[i]}"}`);
      // No runc under the moved host: its error is reported, then no process is found.
      assert.ok(s.has('state.error'));
      assert.equal(text(s, 'error'), `no process of container ${ids[i]} found on this node`);
    });
    assert.deepEqual(readdirSync(join(root, 'state')), []);
  });
});

describe('HELPER_SCRIPT serve: ends the session at its expiry by itself (ADR 31)', () => {
  let root: string;
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'execsession-helper-serve-'));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('exits at the expiry, not before and not a second later, leaving "expired EPOCH" as its termination message', async () => {
    const epoch = Math.ceil(Date.now() / 1000) + 2;
    const r = await runMoved(root, ['serve', String(epoch)]);
    const ended = Date.now();
    assert.equal(r.code, 0, r.stderr);
    assert.ok(ended >= epoch * 1000, `ended ${epoch * 1000 - ended} ms before its expiry`);
    assert.ok(ended - epoch * 1000 < 1000, `ended ${ended - epoch * 1000} ms after its expiry`);
    assert.match(readFileSync(join(root, 'termination-log'), 'utf8'), new RegExp(`^expired ${epoch}\nkilled 0\nuptime [0-9.]+ [0-9.]+\n$`));
  });

  it('a deadline moved while it waits (an extend) moves its end', async () => {
    const epoch = Math.ceil(Date.now() / 1000) + 1;
    const serving = runMoved(root, ['serve', String(epoch)]);
    // Moved once serve has written its own deadline, as an extend comes after the start.
    while (!existsSync(join(root, 'state', 'deadline')) || readFileSync(join(root, 'state', 'deadline'), 'utf8').trim() !== String(epoch)) await sleep(20);
    const moved = await runMoved(root, ['deadline', String(epoch + 2)]);
    assert.equal(moved.code, 0, moved.stderr);
    const r = await serving;
    assert.equal(r.code, 0, r.stderr);
    assert.ok(Date.now() >= (epoch + 2) * 1000, 'not before the moved expiry');
    assert.match(readFileSync(join(root, 'termination-log'), 'utf8'), new RegExp(`^expired ${epoch + 2}\n`));
  });

  it('sleeps while the deadline is far (no polling each second), yet a moved deadline wakes it at once', async () => {
    const far = Math.ceil(Date.now() / 1000) + 120;
    const serving = runMoved(root, ['serve', String(far)]);
    while (!existsSync(join(root, 'state', 'deadline')) || readFileSync(join(root, 'state', 'deadline'), 'utf8').trim() !== String(far)) await sleep(20);
    // One sleep for the whole wait, not a new one every second (60 polling helpers took 1.5 cores, issue 15).
    const pid = readFileSync(join(root, 'state', 'serve.pid'), 'utf8').trim();
    const children = (): string => readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    await sleep(300);
    const first = children();
    await sleep(2500);
    assert.ok(first !== '' && children() === first, `serve forked again while its deadline was far (${first} then ${children()})`);
    const near = Math.ceil(Date.now() / 1000) + 2;
    assert.equal((await runMoved(root, ['deadline', String(near)])).code, 0);
    const r = await serving;
    const ended = Date.now();
    assert.equal(r.code, 0, r.stderr);
    assert.ok(ended >= near * 1000 && ended - near * 1000 < 1000, `ended ${ended - near * 1000} ms after the moved expiry`);
  });
});

describe('HELPER_SCRIPT jobs: output kept whole up to KEEP, with its timing (ADR 43)', { skip: !existsSync('/bin/busybox') && 'no /bin/busybox (the helper image\'s tools)' }, () => {
  let root: string;
  before(() => {
    root = mkdtempSync(join(tmpdir(), 'execsession-helper-job-'));
    mkdirSync(join(root, 'state'), { recursive: true });
    // The session's cgroups, as prepare leaves them, and an execsession-enter that runs what follows `--`.
    writeFileSync(join(root, 'state', 'cgroups'), '/sys/fs/cgroup/none\n');
    writeFileSync(join(root, 'enter'), '#!/bin/sh\nwhile [ "$1" != -- ]; do shift; done\nshift\nexec "$@"\n', { mode: 0o755 });
    // busybox dd, as in the helper image (GNU dd stops counting bytes at a short read from a pipe).
    mkdirSync(join(root, 'bin'));
    for (const tool of ['dd', 'head', 'wc']) symlinkSync('/bin/busybox', join(root, 'bin', tool));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  it('keeps KEEP bytes of each stream, LIMIT of them in the result, counts the rest, and ticks as output grows', async () => {
    // Pauses long enough that a busy machine's late ticks still tell them apart.
    const job = 'printf abc; sleep 1.5; printf oops >&2; sleep 1.5; head -c 300 /dev/zero | tr "\\0" x; exit 3';
    const started = await runMoved(root, ['start', 'command', '100', 'nsenter', '{}', '--pid', '1', '--', '/bin/sh', '-c', job]);
    assert.equal(started.code, 0, started.stderr);
    const r = await runMoved(root, ['wait', 'command', '10', '5']);
    assert.equal(r.code, 0, r.stderr);
    const s = parseSections(r.stdout);
    assert.equal(text(s, 'rc'), '3\n');
    assert.equal(text(s, 'stdout'), 'abcxx');
    assert.equal(text(s, 'stderr'), 'oops');
    assert.equal(text(s, 'stdout.more')?.trim(), '203', 'bytes past KEEP are counted, not kept');
    const out = await runMoved(root, ['block', 'command', 'out', '0']);
    assert.equal(out.stdout.toString(), `abc${'x'.repeat(97)}`);
    assert.equal((await runMoved(root, ['block', 'command', 'out', '1'])).stdout.length, 0, 'nothing past the end');
    const ticks = (await runMoved(root, ['block', 'command', 'ticks', '0'])).stdout.toString().trim().split('\n').map((l) => l.split(' ').map(Number));
    assert.deepEqual(ticks[0]?.slice(1), [0, 0], 'the first tick is the start');
    assert.deepEqual(ticks.at(-1)?.slice(1), [100, 4], 'the last tick holds the final sizes');
    const when = (o: number, e: number): number => ticks.find((t) => (t[1] ?? 0) >= o && (t[2] ?? 0) >= e)?.[0] ?? Number.NaN;
    const [t0 = 0] = ticks[0] ?? [];
    // Seen before stderr was even written (a buffered capture would show it only at the end, 3 s in).
    assert.ok(when(3, 0) - t0 < 1.4, `abc ticked ${when(3, 0) - t0}s after the start`);
    assert.ok(when(3, 4) - when(3, 0) >= 0.5, `stderr came 1.5 s later, its tick ${when(3, 4) - when(3, 0)}s`);
    assert.ok(ticks.every((t, i) => i === 0 || (t[0] ?? 0) >= (ticks[i - 1]?.[0] ?? 0)));
  });

  it('refuses a file, block or byte limit that is not one', async () => {
    for (const args of [['block', 'command', 'spec', '0'], ['block', 'command', 'out', '-1'], ['block', '../x', 'out', '0'], ['wait', 'command', '1', 'x'], ['start', 'j', '1e3', 'nsenter', '{}']]) {
      const r = await runMoved(root, args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    }
  });
});
