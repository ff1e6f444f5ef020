/** `list` and `get`: kubectl-like tables, or the objects as JSON or YAML. */
import { Scalar, stringify } from 'yaml';
import type { ExecSession } from '../api/types.js';
import type { GlobalOptions } from './client.js';
import { printErr, type CliContext } from './context.js';
import { UsageError } from './errors.js';
import { sessionTable } from './format.js';
import { hasUnsafe, printableJson, printableYaml } from './printable.js';
import { getSession, listSessions } from './sessions.js';

/** Output formats of -o. */
export const OUTPUTS = ['json', 'yaml', 'wide'] as const;

/** `list`/`get` flags. */
export interface GetFlags {
  output?: string;
  allNamespaces?: boolean;
}

/** The value with every string holding a control character as a double-quoted YAML scalar. */
function yamlSafe(v: unknown): unknown {
  if (typeof v === 'string' && hasUnsafe(v)) return Object.assign(new Scalar(v), { type: Scalar.QUOTE_DOUBLE });
  if (Array.isArray(v)) return v.map(yamlSafe);
  if (v !== null && typeof v === 'object' && !(v instanceof Date)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, yamlSafe(x)]));
  return v;
}

/** Renders sessions: a table (wide or not), or JSON/YAML (one object for one name, else a List). */
export function render(sessions: ExecSession[], single: boolean, output: string | undefined, now: Date, allNamespaces = false): string {
  if (output === 'json' || output === 'yaml') {
    const value = single ? sessions[0] : { apiVersion: 'v1', kind: 'List', items: sessions, metadata: { resourceVersion: '' } };
    // Others' strings reach a terminal here too: every control character is escaped (finding 10).
    return output === 'json' ? `${printableJson(JSON.stringify(value, null, 4))}\n` : printableYaml(stringify(yamlSafe(value)));
  }
  return sessionTable(sessions, now, { wide: output === 'wide', namespaces: allNamespaces });
}

/** Runs `list`, or `get` with names; resolves with the exit code. */
export async function runGet(ctx: CliContext, globals: GlobalOptions, names: string[], flags: GetFlags): Promise<number> {
  if (flags.output !== undefined && !(OUTPUTS as readonly string[]).includes(flags.output)) {
    throw new UsageError(`-o ${flags.output}: use -o json, -o yaml or -o wide`);
  }
  if (flags.allNamespaces && names.length > 0) throw new UsageError('-A lists every namespace: give no names with it, or use -n NAMESPACE');
  const api = await ctx.connect(globals);
  const sessions = names.length > 0
    ? await Promise.all(names.map((n) => getSession(api, api.namespace, n)))
    : await listSessions(api, flags.allNamespaces ? undefined : api.namespace);
  if (sessions.length === 0 && (flags.output === undefined || flags.output === 'wide')) {
    printErr(ctx, flags.allNamespaces ? 'No resources found' : `No resources found in ${api.namespace} namespace.`);
    return 0;
  }
  ctx.io.stdout.write(render(sessions, names.length === 1, flags.output, ctx.now(), flags.allNamespaces));
  return 0;
}
