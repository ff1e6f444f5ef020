/**
 * Entry of `kubectl execsession` (bin/kubectl-execsession runs it through
 * tsx): parses the arguments, runs one command, and turns every failure into a
 * message on stderr and an exit code (1 failure, 2 usage).
 */
import { CommanderError } from 'commander';
import { normalizeArgv } from './argv.js';
import { apiNames, complete, formatCompletion } from './complete.js';
import { connect } from './client.js';
import type { CliContext } from './context.js';
import { ApiError, CliError, EXIT_FAILURE, EXIT_USAGE } from './errors.js';
import { printable, printableInline } from './printable.js';
import { buildProgram } from './program.js';

/** Runs the CLI on `args` (without node and script); resolves with the exit code. */
export async function main(args: string[], ctx: CliContext): Promise<number> {
  const exit = { code: 0 };
  // kubectl's plugin completion (bin/kubectl_complete-execsession): cobra's __complete protocol.
  if (args[0] === '__complete') {
    const c = await complete(buildProgram(ctx, [], exit), args.slice(1), (globals) => apiNames(ctx.connect, globals));
    ctx.io.stdout.write(formatCompletion(c));
    return 0;
  }
  try {
    const argv = normalizeArgv(args);
    await buildProgram(ctx, argv, exit).parseAsync(argv, { from: 'user' });
    return exit.code;
  } catch (e) {
    return report(ctx, e);
  }
}

/** Prints an error the way kubectl does, and picks the exit code. */
function report(ctx: CliContext, e: unknown): number {
  if (e instanceof CommanderError) {
    // commander printed its message already; help asked for is success.
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return 0;
    return EXIT_USAGE;
  }
  if (e instanceof ApiError) {
    ctx.io.stderr.write(`Error from server (${printableInline(e.reason)}): ${printable(e.message)}\n`);
    return e.exitCode;
  }
  if (e instanceof CliError) {
    ctx.io.stderr.write(`error: ${printable(e.message)}\n`);
    return e.exitCode;
  }
  ctx.io.stderr.write(`error: ${printable((e as Error)?.stack ?? String(e))}\nThis is a bug in kubectl-execsession; please report it with the command you ran.\n`);
  return EXIT_FAILURE;
}

/** The real process: its streams, its clock, the kubeconfig. */
export function processContext(): CliContext {
  return { io: { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, proc: process }, connect, now: () => new Date() };
}

/** Runs as the process: exits with the code once stdout has been flushed. */
export async function run(): Promise<void> {
  const code = await main(process.argv.slice(2), processContext());
  await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
  process.exit(code);
}
