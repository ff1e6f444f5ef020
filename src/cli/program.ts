/**
 * The command line: commander wiring only. Each action hands its parsed flags
 * to a run* function (cmd-*.ts) and records the exit code it resolves with.
 */
import { Command, Option } from 'commander';
import type { GlobalOptions } from './client.js';
import { runAction, type ActionFlags } from './cmd-action.js';
import { runCreate, type CreateFlags } from './cmd-create.js';
import { runCompletion } from './cmd-completion.js';
import { runGet, type GetFlags } from './cmd-get.js';
import { runAttach, runWait, type AttachFlags, type WaitFlags } from './cmd-session.js';
import { runVersion, type VersionFlags } from './cmd-version.js';
import { runReplay, type ReplayFlags } from './cmd-replay.js';
import { runWeb, type WebFlags } from './cmd-web.js';
import { durationFlag, type CliContext } from './context.js';
import { requireDashDash } from './argv.js';
import type { Action } from './outcome.js';

/** Where an action leaves its exit code for main(). */
export interface ExitBox {
  code: number;
}

const CREATE_EXAMPLES = `
Examples:
  # Run one command as alice and get its output and exit code
  kubectl execsession create web-7d4f -u alice --ttl 5m -- id

  # An interactive shell as postgres in container db, attached at once
  kubectl execsession create web-7d4f -c db -u postgres --reason INC-1234 -it

  # Create now, attach later (prints the attach command once Ready)
  kubectl execsession create web-7d4f -u 1000:1000 --name debug-web --wait`;

/** Builds the program; `argv` are the user's arguments (for the "--" check). */
export function buildProgram(ctx: CliContext, argv: string[], exit: ExitBox): Command {
  const program = new Command('kubectl execsession')
    .description('Enter a running container as a chosen user, for a limited time (ExecSessions, execsession.dev).')
    .usage('COMMAND [flags]')
    .option('-n, --namespace <namespace>', 'namespace (default: the context\'s, else "default")')
    .option('--kubeconfig <file>', 'kubeconfig file (default: $KUBECONFIG, else ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context to use')
    .option('-v, --verbose', 'print requests and debug details on stderr')
    // kubectl's global flags, with kubectl's precedence over the kubeconfig (kubectl's --user
    // is left out: -u/--user is the container user here; pick the kubeconfig user with --context).
    .option('--cluster <name>', 'kubeconfig cluster to use')
    .option('-s, --server <url>', 'the API server URL')
    .option('--certificate-authority <file>', 'a CA file for the API server\'s certificate')
    .option('--insecure-skip-tls-verify', 'do not check the API server\'s certificate (insecure)')
    .option('--token <token>', 'a bearer token for the API server')
    .option('--as <user>', 'act as this user (impersonation)')
    .option('--as-group <group>', 'act as a member of this group; repeat for more (with --as)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--as-uid <uid>', 'act with this uid (with --as)')
    .option('--request-timeout <duration>', 'give up on one API request after this long, e.g. 30s; 0: never (default)', (v: string) => (/^\d+$/.test(v) ? Number(v) * 1000 : durationFlag('--request-timeout', v)))
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: (s) => void ctx.io.stdout.write(s), writeErr: (s) => void ctx.io.stderr.write(s) });
  const globals = (cmd: Command): GlobalOptions => cmd.optsWithGlobals<GlobalOptions>();
  const run = (p: Promise<number>): Promise<void> => p.then((code) => void (exit.code = code));

  sub(program, 'create')
    .description('create an ExecSession for POD: run one command, attach, or print how to attach')
    .argument('<pod>', 'the target pod, in the namespace (-n)')
    .argument('[command...]', 'after "--": the command to run (default: the user\'s login shell)')
    .requiredOption('-u, --user <user>', 'the user, as docker exec -u: <name|uid>[:<group|gid>]')
    .option('-c, --container <name>', 'the container (default: the pod\'s default container)')
    .option('--ttl <duration>', 'how long the session lives, e.g. 15m, 1h30m (default: decided by the operator from the policy\'s ttl.default)')
    .option('--reason <text>', 'why you need access, kept with the session')
    .option('--not-after <time>', 'the session\'s absolute end: an RFC 3339 time, or a duration from now (e.g. 8h); it can never be created again after it (for sessions kept in Git)')
    .option('--name <name>', 'the session\'s name (default: generated from the pod\'s)')
    .option('-i, --stdin', 'attach with stdin')
    .option('-t, --tty', 'use a terminal (default with --attach: when stdin is one)')
    .addOption(new Option('--no-tty', 'no terminal').hideHelp())
    .option('--attach', 'attach once the session is Ready')
    .option('--web', 'once Ready, open its terminal in a browser (as kubectl execsession web)')
    .option('--no-open', 'with --web: print the URL only')
    .option('--wait', 'wait until the session is Ready')
    .addOption(new Option('--dry-run <strategy>', 'server: the webhook decides, nothing is created; client: print the object, send nothing').choices(['none', 'server', 'client']))
    .addOption(new Option('-o, --output <format>', 'with --dry-run: print the object').choices(['yaml', 'json']))
    .option('--timeout <duration>', 'how long to wait for Ready (default 5m), or for a command\'s result (default: until the session\'s expiry and a minute)')
    .addHelpText('after', CREATE_EXAMPLES)
    .action((pod: string, command: string[], flags: CreateFlags, cmd: Command) => {
      requireDashDash(argv, command);
      return run(runCreate(ctx, globals(cmd), pod, command, flags));
    });

  sub(program, 'wait')
    .description('wait until a session is Ready (or has ended), showing its progress')
    .argument('<name>', 'the ExecSession')
    .addOption(new Option('--for <what>', 'ready: until Ready; end: until it has ended').choices(['ready', 'end']).default('ready'))
    .option('--timeout <duration>', 'give up after this long', '5m')
    .addHelpText('after', '\nExample:\n  kubectl execsession wait debug-web --for ready --timeout 2m')
    .action((name: string, flags: WaitFlags, cmd: Command) => run(runWait(ctx, globals(cmd), name, flags)));

  sub(program, 'attach')
    .description('connect your terminal to a Ready session (waits for Ready first)')
    .argument('<name>', 'the ExecSession')
    .argument('[command...]', 'after "--": the command to run (sessions without spec.command; default: the login shell)')
    .option('-T, --no-tty', 'no terminal, even when stdin is one (for pipes and scripts)')
    .addOption(new Option('-t, --tty', 'a terminal even when stdin is not one').hideHelp())
    .option('--timeout <duration>', 'how long to wait for Ready', '5m')
    .addHelpText('after', '\nExamples:\n  kubectl execsession attach debug-web\n  echo "select 1" | kubectl execsession attach debug-web -T -- psql')
    .action((name: string, command: string[], flags: AttachFlags, cmd: Command) => {
      requireDashDash(argv, command);
      return run(runAttach(ctx, globals(cmd), name, command, flags));
    });

  sub(program, 'web')
    .description('open a Ready session\'s terminal in a browser, through a proxy on 127.0.0.1 with your kubeconfig\'s credentials')
    .argument('<name>', 'the ExecSession')
    .option('--no-open', 'print the URL only; open no browser')
    .option('--timeout <duration>', 'how long to wait for Ready', '5m')
    .addHelpText('after', '\nThe URL holds a token for this run; the proxy serves only this session\'s terminal and stops when the session ends.\n\nExample:\n  kubectl execsession web debug-web')
    .action((name: string, flags: WebFlags, cmd: Command) => run(runWeb(ctx, globals(cmd), name, flags)));

  sub(program, 'list')
    .description('list ExecSessions of the namespace (-n), or of all (-A)')
    .option('-A, --all-namespaces', 'every namespace')
    .addOption(outputOption())
    .addOption(selectorOption())
    .option('--sort-by <path>', 'sort by a JSONPath, e.g. .status.expiresAt')
    .option('-w, --watch', 'after listing, print each change')
    .option('--no-headers', 'no header line (tables, custom-columns)')
    .addHelpText('after', '\nExamples:\n  kubectl execsession list -A\n  kubectl execsession list -o jsonpath=\'{range .items[*]}{.metadata.name}{"\\t"}{.status.phase}{"\\n"}{end}\'\n  kubectl execsession list -w')
    .action((flags: GetFlags, cmd: Command) => run(runGet(ctx, globals(cmd), [], flags)));

  sub(program, 'get')
    .description('show ExecSessions by name (all of the namespace without names)')
    .argument('[names...]', 'ExecSession names')
    .option('-A, --all-namespaces', 'every namespace (no names)')
    .addOption(outputOption())
    .addOption(selectorOption())
    .option('--sort-by <path>', 'sort by a JSONPath, e.g. .metadata.creationTimestamp')
    .option('-w, --watch', 'after showing, print each change (one name or none)')
    .option('--no-headers', 'no header line (tables, custom-columns)')
    .addHelpText('after', '\nExamples:\n  kubectl execsession get debug-web -o yaml\n  kubectl execsession get debug-web -o jsonpath=\'{.status.expiresAt}\'\n  kubectl execsession get -l team=shop -o name')
    .action((names: string[], flags: GetFlags, cmd: Command) => run(runGet(ctx, globals(cmd), names, flags)));

  for (const [action, what] of [['approve', 'approve a session waiting for approval'], ['deny', 'deny a session waiting for approval'],
    ['revoke', 'end a session now']] as const) {
    sub(program, action)
      .description(what)
      .argument('<name>', 'the ExecSession')
      .option('--reason <text>', 'why, kept with the session')
      .addHelpText('after', `\nExample:\n  kubectl execsession ${action} debug-web -n shop --reason "INC-1234"`)
      .action((name: string, flags: ActionFlags, cmd: Command) => run(runAction(ctx, globals(cmd), action as Action, name, flags)));
  }

  sub(program, 'extend')
    .description('give a session more time (within its policy\'s ttl.max)')
    .argument('<name>', 'the ExecSession')
    .requiredOption('--by <duration>', 'how much longer, e.g. 15m')
    .addHelpText('after', '\nExample:\n  kubectl execsession extend debug-web --by 15m')
    .action((name: string, flags: ActionFlags, cmd: Command) => run(runAction(ctx, globals(cmd), 'extend', name, flags)));

  sub(program, 'replay')
    .description('play a session\'s recording in the terminal with its timing, or write it (-o cast); needs get on execsessions/recording')
    .argument('<name>', 'the ExecSession (it may have been deleted: recordings outlive it)')
    .option('--speed <n>', 'play this many times faster, e.g. 2 or 0.5', '1')
    .option('--attach <n>', 'which recording (default: the latest; see --list)')
    .option('--idle-limit <seconds>', 'play pauses longer than this as this long')
    .option('--list', 'list the session\'s recordings')
    .option('--uid <uid>', 'an earlier session of the same name (see --list)')
    .addOption(new Option('-o, --output <format>', 'cast: write the asciicast v2 file to stdout, for asciinema').choices(['cast']))
    .addHelpText('after', '\nExamples:\n  kubectl execsession replay debug-web --speed 4\n  kubectl execsession replay debug-web --attach 2 -o cast > debug-web-2.cast && asciinema play debug-web-2.cast')
    .action((name: string, flags: ReplayFlags, cmd: Command) => run(runReplay(ctx, globals(cmd), name, flags)));

  sub(program, 'version')
    .description('print the plugin\'s, the operator\'s and the API server\'s versions')
    .option('--client', 'the plugin\'s only; no request')
    .addOption(new Option('-o, --output <format>', 'json or yaml').choices(['json', 'yaml']))
    .action((flags: VersionFlags, cmd: Command) => run(runVersion(ctx, globals(cmd), flags)));

  sub(program, 'completion')
    .description('print a completion script for bash, zsh or fish (for kubectl-execsession run directly; kubectl execsession completes through kubectl_complete-execsession)')
    .argument('<shell>', 'bash, zsh or fish')
    .addHelpText('after', `
Examples:
  # bash: this shell, then every new one
  source <(kubectl-execsession completion bash)
  kubectl-execsession completion bash > ~/.local/share/bash-completion/completions/kubectl-execsession

  # zsh (compinit loaded)
  kubectl-execsession completion zsh > "\${fpath[1]}/_kubectl-execsession"

  # fish
  kubectl-execsession completion fish > ~/.config/fish/completions/kubectl-execsession.fish`)
    .action((shell: string) => run(runCompletion(ctx, shell)));

  return program;
}

/** A subcommand that reports usage errors the same way as the program. */
function sub(program: Command, name: string): Command {
  return program.command(name).showHelpAfterError('(add --help for usage)');
}

function outputOption(): Option {
  return new Option('-o, --output <format>', 'json, yaml, wide, name, jsonpath=TEMPLATE or custom-columns=HEADER:PATH,...');
}

function selectorOption(): Option {
  return new Option('-l, --selector <selector>', 'a label selector, e.g. team=shop,tier!=db');
}
