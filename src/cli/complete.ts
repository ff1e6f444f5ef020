/**
 * Shell completion through kubectl's plugin completion: for `kubectl execsession
 * ARGS<TAB>`, kubectl (1.26+) runs `kubectl_complete-execsession ARGS` (bin/) and
 * passes its answer on in cobra's `__complete` protocol: one candidate per line,
 * then `:DIRECTIVE`. Verbs and flags come from the program itself (offline);
 * session, pod and container names from the API, and an API that cannot be
 * reached completes nothing rather than failing the shell.
 */
import type { Command, Option } from 'commander';
import { API_VERSION, PLURAL } from '../api/types.js';
import type { Api, GlobalOptions } from './client.js';

/** cobra's ShellCompDirective: no file names as a fallback. */
export const NO_FILE_COMP = 4;

export interface Completion {
  items: string[];
  directive: number;
}

/** Where names come from (the API; a fake in tests). */
export interface NameSources {
  sessions(namespace: string | undefined): Promise<string[]>;
  pods(namespace: string | undefined): Promise<string[]>;
  containers(namespace: string | undefined, pod: string): Promise<string[]>;
}

/** -o of get and list (jsonpath= and custom-columns= take the rest after the =). */
const GET_OUTPUTS = ['json', 'yaml', 'wide', 'name', 'jsonpath=', 'custom-columns='];

/** Verbs whose first argument is a session's name. */
const SESSION_VERBS = new Set(['attach', 'get', 'wait', 'revoke', 'extend', 'approve', 'deny', 'replay']);

function takesValue(o: Option): boolean {
  return o.required || o.optional;
}

function findOption(options: readonly Option[], word: string): Option | undefined {
  const flag = word.split('=')[0];
  return options.find((o) => o.long === flag || o.short === flag);
}

function flagNames(options: readonly Option[]): string[] {
  return options.filter((o) => !o.hidden).flatMap((o) => [o.long, o.short]).filter((f): f is string => Boolean(f));
}

/** What the words before the one being completed say: the verb, its positionals, the namespace, a flag awaiting its value. */
interface Parsed {
  verb?: Command;
  positionals: string[];
  namespace?: string;
  /** --kubeconfig, --context and -n as given, for reading names from the API. */
  globals: GlobalOptions;
  pending?: Option;
  afterDashDash: boolean;
}

function parse(program: Command, words: string[]): Parsed {
  const p: Parsed = { positionals: [], afterDashDash: false, globals: {} };
  const global = (o: Option, value: string): void => {
    if (o.long === '--namespace') p.namespace = value;
    if (program.options.includes(o)) (p.globals as Record<string, string>)[o.attributeName()] = value;
  };
  for (let i = 0; i < words.length; i++) {
    const w = words[i] ?? '';
    if (p.afterDashDash || w === '--') {
      p.afterDashDash = true;
      continue;
    }
    const options = [...program.options, ...(p.verb?.options ?? [])];
    const opt = w.startsWith('-') ? findOption(options, w) : undefined;
    if (opt && takesValue(opt) && !w.includes('=')) {
      const value = words[i + 1];
      if (value === undefined) p.pending = opt;
      else global(opt, value);
      i++;
    } else if (opt && w.includes('=')) {
      global(opt, w.slice(w.indexOf('=') + 1));
    } else if (!w.startsWith('-')) {
      if (!p.verb) p.verb = program.commands.find((c) => c.name() === w);
      else p.positionals.push(w);
    }
  }
  return p;
}

/** The candidates for the last of `args` (the word being completed, perhaps ''). */
export async function complete(program: Command, args: string[], sources: (globals: GlobalOptions) => NameSources): Promise<Completion> {
  const toComplete = args.at(-1) ?? '';
  const p = parse(program, args.slice(0, -1));
  const names = sources(p.globals);
  const done = (items: string[]): Completion => ({ items: items.filter((i) => i.startsWith(toComplete)), directive: NO_FILE_COMP });
  if (p.afterDashDash) return { items: [], directive: NO_FILE_COMP };
  if (p.pending) {
    if (p.pending.long === '--container' && p.positionals[0]) return done(await names.containers(p.namespace, p.positionals[0]));
    if (p.pending.argChoices) return done(p.pending.argChoices);
    if (p.pending.long === '--output') return done(GET_OUTPUTS);
    return done([]);
  }
  if (toComplete.startsWith('-')) return done(flagNames([...(p.verb?.options ?? []), ...program.options]));
  if (!p.verb) return done(program.commands.map((c) => c.name()).filter((n) => n !== 'help'));
  if (p.positionals.length > 0) return done([]);
  if (p.verb.name() === 'create') return done(await names.pods(p.namespace));
  if (SESSION_VERBS.has(p.verb.name())) return done(await names.sessions(p.namespace));
  return done([]);
}

/** Names from the API, each list empty when it cannot be read. */
export function apiNames(connect: (opts: GlobalOptions) => Promise<Api>, globals: GlobalOptions): NameSources {
  /** GETs path(namespace) and picks names from the body; [] on any failure (completion never errs). */
  const read = async <T>(namespace: string | undefined, path: (ns: string) => string, pick: (body: T) => string[]): Promise<string[]> => {
    try {
      const api = await connect({ ...globals, namespace: namespace ?? globals.namespace });
      return pick(await api.request<T>('GET', path(encodeURIComponent(api.namespace)), undefined, { quietWarnings: true })).filter(Boolean);
    } catch {
      return [];
    }
  };
  type List = { items?: Array<{ metadata?: { name?: string } }> };
  const names = (body: List): string[] => (body.items ?? []).map((i) => i.metadata?.name ?? '');
  return {
    sessions: (ns) => read(ns, (n) => `/apis/${API_VERSION}/namespaces/${n}/${PLURAL}`, names),
    pods: (ns) => read(ns, (n) => `/api/v1/namespaces/${n}/pods`, names),
    containers: (ns, pod) => read(ns, (n) => `/api/v1/namespaces/${n}/pods/${encodeURIComponent(pod)}`,
      (body: { spec?: { containers?: Array<{ name: string }> } }) => (body.spec?.containers ?? []).map((c) => c.name)),
  };
}

/** The lines kubectl expects back: the candidates, then `:DIRECTIVE`. */
export function formatCompletion(c: Completion): string {
  return `${[...c.items, `:${c.directive}`].join('\n')}\n`;
}
