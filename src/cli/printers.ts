/**
 * kubectl's printers for `get`/`list`: the server's Table (the CRD's printer
 * columns; `priority: 1` ones only with -o wide), and -o json|yaml|name|
 * jsonpath=...|custom-columns=..., plus --sort-by. Every string others wrote is
 * made printable first (see printable.ts): a table cell, a name, a template's output.
 */
import { Scalar, stringify } from 'yaml';
import { KIND, GROUP, type ExecSession } from '../api/types.js';
import { UsageError } from './errors.js';
import { formatTable } from './format.js';
import { execute, firstValue, parsePath, parseTemplate, text, type Template } from './jsonpath.js';
import { hasUnsafe, printable, printableInline, printableJson, printableYaml } from './printable.js';

/** Asks kube-apiserver for a Table (server-side printing), as kubectl does; JSON if it cannot. */
export const TABLE_ACCEPT = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';

/** meta.k8s.io/v1 Table, as far as the CLI reads it. */
export interface Table {
  kind: 'Table';
  columnDefinitions: { name: string; type: string; priority?: number }[];
  rows: TableRow[];
  metadata?: { resourceVersion?: string };
}

/** One row; `object` is the PartialObjectMetadata (or the whole object with includeObject=Object). */
export interface TableRow {
  cells: unknown[];
  object?: { metadata?: { name?: string; namespace?: string } } & Record<string, unknown>;
}

/** A parsed -o. */
export type Output =
  | { kind: 'table'; wide: boolean }
  | { kind: 'json' }
  | { kind: 'yaml' }
  | { kind: 'name' }
  | { kind: 'jsonpath'; template: Template }
  | { kind: 'custom-columns'; columns: { header: string; path: Template }[] };

const OUTPUT_HELP = '-o json, yaml, wide, name, jsonpath=TEMPLATE or custom-columns=HEADER:PATH,...';

/** The -o forms `get` and `list` take. */
export const OUTPUT_FORMS = ['json', 'yaml', 'wide', 'name', 'jsonpath=...', 'custom-columns=...'];

/** Reads -o; a form it does not know is a usage error listing the ones it does. */
export function parseOutput(output: string | undefined): Output {
  if (output === undefined || output === '') return { kind: 'table', wide: false };
  if (output === 'wide') return { kind: 'table', wide: true };
  if (output === 'json' || output === 'yaml' || output === 'name') return { kind: output };
  const [form, ...rest] = output.split('=');
  const arg = rest.join('=');
  if (form === 'jsonpath') {
    if (!arg) throw new UsageError(`-o jsonpath needs a template, e.g. -o jsonpath='{.items[*].metadata.name}'`);
    return { kind: 'jsonpath', template: parseTemplate(arg) };
  }
  if (form === 'custom-columns') {
    if (!arg) throw new UsageError('-o custom-columns needs columns, e.g. -o custom-columns=NAME:.metadata.name,USER:.spec.user');
    const columns = arg.split(',').map((spec) => {
      const colon = spec.indexOf(':');
      if (colon <= 0 || colon === spec.length - 1) throw new UsageError(`-o custom-columns: ${JSON.stringify(spec)} is not HEADER:PATH, e.g. USER:.spec.user`);
      return { header: spec.slice(0, colon), path: parsePath(spec.slice(colon + 1), '-o custom-columns') };
    });
    return { kind: 'custom-columns', columns };
  }
  throw new UsageError(`-o ${output}: use ${OUTPUT_HELP}`);
}

/** Sorts objects by a kubectl path, as --sort-by: numbers by value, anything else by its text; missing values first. */
export function sortBy<T>(items: T[], path: string | undefined, objectOf: (item: T) => unknown = (x) => x): T[] {
  if (!path) return items;
  const template = parsePath(path, '--sort-by');
  const keyed = items.map((item) => ({ item, key: firstValue(template, objectOf(item)) }));
  const rank = (v: unknown): number => (v === undefined || v === null ? 0 : typeof v === 'number' ? 1 : 2);
  keyed.sort((a, b) => {
    const ra = rank(a.key);
    const rb = rank(b.key);
    if (ra !== rb) return ra - rb;
    if (ra === 1) return (a.key as number) - (b.key as number);
    const ta = text(a.key);
    const tb = text(b.key);
    return ta < tb ? -1 : ta > tb ? 1 : 0;
  });
  return keyed.map((k) => k.item);
}

/** The value with every string holding a control character as a double-quoted YAML scalar. */
function yamlSafe(v: unknown): unknown {
  if (typeof v === 'string' && hasUnsafe(v)) return Object.assign(new Scalar(v), { type: Scalar.QUOTE_DOUBLE });
  if (Array.isArray(v)) return v.map(yamlSafe);
  if (v !== null && typeof v === 'object' && !(v instanceof Date)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, yamlSafe(x)]));
  return v;
}

/** `execsession.execsession.dev/NAME`, as kubectl's -o name. */
export function resourceName(name: string | undefined): string {
  return `${KIND.toLowerCase()}.${GROUP}/${printableInline(name ?? '')}`;
}

/** Prints objects in a non-table form: one object for `single`, else a List (json, yaml, jsonpath) or one line each. */
export function printObjects(sessions: ExecSession[], single: boolean, output: Exclude<Output, { kind: 'table' }>): string {
  const value = single ? sessions[0] : { apiVersion: 'v1', kind: 'List', items: sessions, metadata: { resourceVersion: '' } };
  switch (output.kind) {
    case 'json':
      // Others' strings reach a terminal here too: every control character is escaped (finding 10).
      return `${printableJson(JSON.stringify(value, null, 4))}\n`;
    case 'yaml':
      return printableYaml(stringify(yamlSafe(value)));
    case 'name':
      return sessions.map((s) => `${resourceName(s.metadata.name)}\n`).join('');
    case 'jsonpath':
      return printable(execute(output.template, value));
    case 'custom-columns':
      return formatTable(output.columns.map((c) => c.header), sessions.map((s) => output.columns.map((c) => {
        const v = firstValue(c.path, s);
        return v === undefined || v === null ? '<none>' : text(v);
      })));
  }
}

/** A cell as kubectl prints it: `<none>` for nothing, text otherwise. */
function cellText(v: unknown): string {
  if (v === undefined || v === null || v === '') return '<none>';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

/** Table printing options: -o wide, -A (a NAMESPACE column), --no-headers. */
export interface TableOptions {
  wide: boolean;
  namespaces: boolean;
  headers: boolean;
}

/** The server's Table as kubectl prints it: upper-case headers, priority columns only when wide, cells escaped. */
export function printTable(table: Table, rows: TableRow[], opts: TableOptions): string {
  const shown = table.columnDefinitions.map((c, i) => ({ c, i })).filter(({ c }) => opts.wide || !c.priority);
  const header = [...(opts.namespaces ? ['NAMESPACE'] : []), ...shown.map(({ c }) => c.name.toUpperCase())];
  const body = rows.map((r) => [...(opts.namespaces ? [cellText(r.object?.metadata?.namespace)] : []), ...shown.map(({ i }) => cellText(r.cells[i]))]);
  if (opts.headers) return formatTable(header, body);
  // Without the header line its widths do not count, as with kubectl's --no-headers and each -w change.
  const out = formatTable(header.map(() => ''), body);
  return out.slice(out.indexOf('\n') + 1);
}
