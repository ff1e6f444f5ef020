/**
 * Commands and daemons for the harness. Daemons are tracked by pid files and
 * stopped by their own pid (checked against the binary that was started, so a
 * reused pid is never signalled), never by a name pattern.
 */
import { execFile, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { paths } from './config.js';

/** Runs a command, resolves with its stdout; rejects with its stderr in the message. */
export function run(cmd: string, args: string[], opts: { input?: string; allowFail?: boolean; cwd?: string } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { maxBuffer: 64 << 20, cwd: opts.cwd }, (err, stdout, stderr) => {
      if (err && !opts.allowFail) {
        reject(new Error(`${cmd} ${args.join(' ')} failed: ${stderr.trim() || err.message}`));
        return;
      }
      resolve(stdout);
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** A daemon the harness started: its name (pid file), its binary (to verify the pid). */
export interface Daemon {
  name: string;
  pid: number;
  exe: string;
}

function pidFile(name: string): string {
  return join(paths.pids, `${name}.pid`);
}

/** The executable behind a pid, or undefined when the process is gone. */
export function exeOf(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/exe`).replace(/ \(deleted\)$/, '');
  } catch {
    return undefined;
  }
}

/** Starts a detached daemon with output to logs/NAME.log and records its pid. */
export async function startDaemon(name: string, exe: string, args: string[], netns?: string): Promise<Daemon> {
  mkdirSync(paths.logs, { recursive: true });
  mkdirSync(paths.pids, { recursive: true });
  const log = openSync(join(paths.logs, `${name}.log`), 'a');
  // nsenter execs the binary, so the pid we record is the daemon's own.
  const [cmd, argv] = netns ? ['nsenter', [`--net=/var/run/netns/${netns}`, '--', exe, ...args]] : [exe, args];
  const child = spawn(cmd, argv, { detached: true, stdio: ['ignore', log, log] });
  closeSync(log);
  child.unref();
  if (child.pid === undefined) throw new Error(`could not start ${name} (${exe})`);
  writeFileSync(pidFile(name), `${child.pid} ${exe}\n`);
  const d = { name, pid: child.pid, exe };
  // Until nsenter has exec'd the daemon, the pid still runs nsenter.
  const deadline = Date.now() + 5000;
  while (!isOurs(d)) {
    if (exeOf(d.pid) === undefined || Date.now() > deadline) throw new Error(`${name} did not start; its log ends:\n${logTail(name)}`);
    await sleep(20);
  }
  return d;
}

/** The daemons recorded in pid files, alive or not. */
export function recordedDaemons(): Array<Daemon & { alive: boolean }> {
  if (!existsSync(paths.pids)) return [];
  return readdirSync(paths.pids)
    .filter((f) => f.endsWith('.pid'))
    .map((f) => {
      const [pid, exe] = readFileSync(join(paths.pids, f), 'utf8').trim().split(' ');
      const d = { name: f.slice(0, -4), pid: Number(pid), exe: exe ?? '' };
      return { ...d, alive: isOurs(d) };
    });
}

/** True when the pid still runs the binary we started (not a reused pid). */
export function isOurs(d: Daemon): boolean {
  return exeOf(d.pid) === d.exe;
}

/** SIGTERM, then SIGKILL after the grace period; removes the pid file. */
export async function stopDaemon(d: Daemon, graceMs = 10_000): Promise<void> {
  if (isOurs(d)) {
    process.kill(d.pid, 'SIGTERM');
    const deadline = Date.now() + graceMs;
    while (isOurs(d) && Date.now() < deadline) await sleep(100);
    if (isOurs(d)) process.kill(d.pid, 'SIGKILL');
    while (isOurs(d)) await sleep(50);
  }
  rmSync(pidFile(d.name), { force: true });
}

/** Last lines of a daemon's log, for error messages. */
export function logTail(name: string, lines = 15): string {
  const file = join(paths.logs, `${name}.log`);
  if (!existsSync(file)) return '(no log)';
  return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
}

/**
 * Polls until check() returns a value, failing with what it last saw. The daemon
 * being waited on is checked too, so a crash fails at once with its log tail.
 */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, opts: { timeoutMs: number; daemon?: Daemon }): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  let last = '';
  for (;;) {
    if (opts.daemon && !isOurs(opts.daemon)) {
      throw new Error(`${opts.daemon.name} exited while waiting for ${what}; its log ends:\n${logTail(opts.daemon.name)}`);
    }
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      last = (e as Error).message;
    }
    if (Date.now() > deadline) {
      const log = opts.daemon ? `\n${opts.daemon.name} log ends:\n${logTail(opts.daemon.name)}` : '';
      throw new Error(`timed out after ${opts.timeoutMs / 1000}s waiting for ${what}${last ? ` (last error: ${last})` : ''}${log}`);
    }
    await sleep(200);
  }
}
