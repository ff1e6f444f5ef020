/**
 * `list` and `get`, as `kubectl get execsessions` prints them: the server's
 * Table (the CRD's printer columns) or the objects (-o json|yaml|name|jsonpath|
 * custom-columns), with -l, --sort-by, -A, --no-headers and -w.
 */
import type { ExecSession } from '../api/types.js';
import type { Api, GlobalOptions } from './client.js';
import { printErr, type CliContext } from './context.js';
import { ApiError, CliError, UsageError } from './errors.js';
import { parseOutput, printObjects, printTable, sortBy, TABLE_ACCEPT, type Output, type Table, type TableOptions, type TableRow } from './printers.js';
import { sessionPath } from './sessions.js';
import { subresourcePath } from '../api/subresources.js';

/** `list`/`get` flags. */
export interface GetFlags {
  output?: string;
  allNamespaces?: boolean;
  selector?: string;
  sortBy?: string;
  watch?: boolean;
  headers?: boolean;
}

function query(params: Record<string, string | undefined>): string {
  const q = new URLSearchParams(Object.entries(params).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== ''));
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** A 404 for a named session says how to find the right name. */
async function named<T>(namespace: string, name: string, p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    if (e instanceof ApiError && e.code === 404) {
      throw new CliError(`execsession ${namespace}/${name} not found: "kubectl execsession list -n ${namespace}" shows the sessions there`);
    }
    throw e;
  }
}

/** What was read: a Table (with its rows' objects when sorting) or the objects; and where a watch starts. */
type Read = { table: Table; rows: TableRow[]; resourceVersion?: string } | { sessions: ExecSession[]; resourceVersion?: string };

async function read(api: Api, namespace: string | undefined, names: string[], output: Output, flags: GetFlags): Promise<Read> {
  const selector = flags.selector;
  if (output.kind === 'table') {
    const include = flags.sortBy ? 'Object' : undefined;
    const tables = names.length > 0
      ? await Promise.all(names.map((n) => named(namespace!, n, api.request<Table>('GET', `${sessionPath(namespace, n)}${query({ includeObject: include })}`, undefined, { accept: TABLE_ACCEPT }))))
      : [await api.request<Table>('GET', `${sessionPath(namespace)}${query({ labelSelector: selector, includeObject: include })}`, undefined, { accept: TABLE_ACCEPT })];
    for (const t of tables) {
      if (t.kind !== 'Table') throw new CliError('the API server did not answer with a Table (server-side printing); use -o yaml or -o json');
    }
    const rows = sortBy(tables.flatMap((t) => t.rows ?? []), flags.sortBy, (r) => r.object);
    return { table: tables[0]!, rows, resourceVersion: tables[0]!.metadata?.resourceVersion };
  }
  if (names.length > 0) {
    const sessions = await Promise.all(names.map((n) => named(namespace!, n, api.request<ExecSession>('GET', sessionPath(namespace, n)))));
    return { sessions: sortBy(sessions, flags.sortBy), resourceVersion: sessions[0]?.metadata.resourceVersion };
  }
  const list = await api.request<{ items?: ExecSession[]; metadata?: { resourceVersion?: string } }>('GET', `${sessionPath(namespace)}${query({ labelSelector: selector })}`);
  return { sessions: sortBy(list.items ?? [], flags.sortBy), resourceVersion: list.metadata?.resourceVersion };
}

/** What was read, printed: the Table, or the objects (one by one when watching, as kubectl prints each change). */
function printRead(got: Read, output: Output, tableOpts: TableOptions, single: boolean, watching: boolean): string {
  if ('table' in got) return got.rows.length === 0 ? '' : printTable(got.table, got.rows, tableOpts);
  const o = output as Exclude<Output, { kind: 'table' }>;
  if (watching) return got.sessions.map((s) => printObjects([s], true, o)).join('');
  return printObjects(got.sessions, single, o);
}

/**
 * Under the table of one Ready session (on stderr, so stdout stays the table): how to
 * open its terminal, in this terminal, or in a browser (docs/browser.md); '' otherwise.
 */
export function howToOpen(table: Table, row: TableRow | undefined, namespace: string, name: string): string {
  const phaseAt = table.columnDefinitions.findIndex((c) => c.name === 'Phase');
  if (phaseAt < 0 || row?.cells[phaseAt] !== 'Ready') return '';
  const n = `${name} -n ${namespace}`;
  return [
    `attach: kubectl execsession attach ${n}`,
    `in a browser: kubectl execsession web ${n}`,
    `  or with kubectl proxy running: http://127.0.0.1:8001${subresourcePath(namespace, name, 'terminal')}`,
  ].join('\n');
}

function printHint(ctx: CliContext, got: Read, namespace: string, names: string[]): void {
  const hint = names.length === 1 && 'table' in got ? howToOpen(got.table, got.rows[0], namespace, names[0]!) : '';
  if (hint) printErr(ctx, hint);
}

/** Runs `list`, or `get` with names; resolves with the exit code (with -w: when the server ends the watch). */
export async function runGet(ctx: CliContext, globals: GlobalOptions, names: string[], flags: GetFlags): Promise<number> {
  const output = parseOutput(flags.output);
  if (flags.allNamespaces && names.length > 0) throw new UsageError('-A lists every namespace: give no names with it, or use -n NAMESPACE');
  if (flags.selector !== undefined && names.length > 0) throw new UsageError('-l selects among all sessions: give no names with it');
  if (flags.watch && names.length > 1) throw new UsageError('-w watches one session or all: give one name or none');
  const api = await ctx.connect(globals);
  const namespace = flags.allNamespaces ? undefined : api.namespace;
  const got = await read(api, namespace, names, output, flags);
  const tableOpts = { wide: output.kind === 'table' && output.wide, namespaces: flags.allNamespaces === true, headers: flags.headers !== false };
  const empty = 'table' in got ? got.rows.length === 0 : got.sessions.length === 0;
  if (empty && (output.kind === 'table' || output.kind === 'name') && !flags.watch) {
    printErr(ctx, flags.allNamespaces ? 'No resources found' : `No resources found in ${api.namespace} namespace.`);
    return 0;
  }
  ctx.io.stdout.write(printRead(got, output, tableOpts, names.length === 1, flags.watch === true));
  if (!flags.watch) {
    printHint(ctx, got, api.namespace, names);
    return 0;
  }

  // -w: the changes from what was printed on, as kubectl get -w prints them (a row, or the object, per change).
  const params = {
    watch: '1', resourceVersion: got.resourceVersion, allowWatchBookmarks: 'false',
    labelSelector: flags.selector, fieldSelector: names[0] ? `metadata.name=${names[0]}` : undefined,
  };
  let headerShown = 'table' in got && !empty;
  await api.watch(`${sessionPath(namespace)}${query(params)}`, output.kind === 'table' ? TABLE_ACCEPT : 'application/json', (type, object) => {
    if (type === 'BOOKMARK') return;
    if (output.kind === 'table') {
      const t = object as Table;
      ctx.io.stdout.write(printTable(t, t.rows ?? [], { ...tableOpts, headers: tableOpts.headers && !headerShown }));
      headerShown = true;
    } else {
      ctx.io.stdout.write(printObjects([object as ExecSession], true, output));
    }
  });
  return 0;
}
