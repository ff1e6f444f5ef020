/**
 * kubectl spells boolean flags `--tty=false`; commander knows `--tty` and
 * `--no-tty`. This rewrites the former into the latter before parsing, only in
 * front of `--` (what follows belongs to the remote command).
 */
import { UsageError } from './errors.js';

const BOOLEAN_FLAGS = new Set(['tty', 'stdin', 'attach', 'wait']);

/** `--tty=true` → `--tty`, `--tty=false` → `--no-tty`; other arguments unchanged. */
export function normalizeArgv(args: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === '--') return [...out, ...args.slice(i)];
    const m = /^--([a-z]+)=(.*)$/.exec(arg);
    if (!m || !BOOLEAN_FLAGS.has(m[1]!)) {
      out.push(arg);
      continue;
    }
    const [, flag, value] = m;
    if (value !== 'true' && value !== 'false') throw new UsageError(`--${flag}=${value}: use --${flag}=true or --${flag}=false`);
    out.push(value === 'true' ? `--${flag}` : `--no-${flag}`);
  }
  return out;
}

/** Remote commands must follow `--`, so a typo is never run as a command. */
export function requireDashDash(args: string[], command: string[]): void {
  if (command.length > 0 && !args.includes('--')) {
    throw new UsageError(`unexpected argument ${JSON.stringify(command[0])}: put the command to run after "--", e.g. "-- ${command.join(' ')}"`);
  }
}
