/**
 * kubectl's JSONPath templates (`-o jsonpath=...`, `custom-columns`, `--sort-by`),
 * as k8s.io/client-go/util/jsonpath reads them: literal text with `{...}`
 * expressions; `{.a.b[*].c}` prints each result, a space between them;
 * `{range PATH}...{end}` repeats its body for each result, `.` then being that
 * result; `{"\n"}` is a literal; a missing key prints nothing (kubectl's
 * --allow-missing-template-keys=true); a string prints as it is, anything else
 * as compact JSON. Paths are evaluated by jsonpath-plus; this file only parses
 * kubectl's template and its path spelling (`\.` in a key, `..`, `@`).
 */
import { JSONPath } from 'jsonpath-plus';
import { UsageError } from './errors.js';

type Node =
  | { kind: 'text'; text: string }
  | { kind: 'path'; path: string }
  | { kind: 'range'; path: string; body: Node[] };

/** A parsed template, ready to run against objects. */
export interface Template {
  readonly source: string;
  readonly nodes: Node[];
}

const QUOTED_ESCAPES: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', "'": "'" };

/** The index of the `}` closing the expression opened at `open`, skipping quoted text and brackets. */
function closingBrace(source: string, open: number): number {
  let depth = 0;
  let quote: string | undefined;
  for (let i = open + 1; i < source.length; i++) {
    const c = source[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '[' || c === '(') depth++;
    else if (c === ']' || c === ')') depth--;
    else if (c === '}' && depth <= 0) return i;
  }
  return -1;
}

/** Parses a kubectl JSONPath template; a malformed one is a usage error naming what is wrong. */
export function parseTemplate(source: string, flag = '-o jsonpath'): Template {
  const root: Node[] = [];
  const stack: Node[][] = [root];
  let i = 0;
  while (i < source.length) {
    const open = source.indexOf('{', i);
    if (open < 0) {
      stack.at(-1)!.push({ kind: 'text', text: source.slice(i) });
      break;
    }
    if (open > i) stack.at(-1)!.push({ kind: 'text', text: source.slice(i, open) });
    const close = closingBrace(source, open);
    if (close < 0) throw new UsageError(`${flag}: unclosed "{" at position ${open + 1} of ${JSON.stringify(source)}`);
    const expr = source.slice(open + 1, close).trim();
    i = close + 1;
    const quoted = /^"((?:[^"\\]|\\.)*)"$/.exec(expr) ?? /^'((?:[^'\\]|\\.)*)'$/.exec(expr);
    if (quoted) {
      stack.at(-1)!.push({ kind: 'text', text: quoted[1]!.replace(/\\(.)/g, (_, c: string) => QUOTED_ESCAPES[c] ?? c) });
    } else if (expr === 'end') {
      if (stack.length === 1) throw new UsageError(`${flag}: {end} without {range} in ${JSON.stringify(source)}`);
      stack.pop();
    } else if (/^range\s/.test(expr)) {
      const body: Node[] = [];
      stack.at(-1)!.push({ kind: 'range', path: toJsonPathPlus(expr.slice(5).trim(), flag), body });
      stack.push(body);
    } else {
      stack.at(-1)!.push({ kind: 'path', path: toJsonPathPlus(expr, flag) });
    }
  }
  if (stack.length > 1) throw new UsageError(`${flag}: {range} without {end} in ${JSON.stringify(source)}`);
  return { source, nodes: root };
}

/**
 * kubectl's path spelling to jsonpath-plus's: `.metadata.labels.app\.kubernetes\.io/name`
 * becomes `$['metadata']['labels']['app.kubernetes.io/name']`; `[...]` parts, `..` and `*` stay.
 */
export function toJsonPathPlus(path: string, flag = '-o jsonpath'): string {
  let p = path.trim();
  if (p.startsWith('$') || p.startsWith('@')) p = p.slice(1);
  let out = '$';
  let i = 0;
  while (i < p.length) {
    const c = p[i]!;
    if (c === '[') {
      const close = closingBracket(p, i);
      if (close < 0) throw new UsageError(`${flag}: unclosed "[" in ${JSON.stringify(path)}`);
      out += p.slice(i, close + 1);
      i = close + 1;
    } else if (c === '.') {
      if (p[i + 1] === '.') {
        out += '..';
        i += 2;
      } else i++;
      const { key, end } = readKey(p, i);
      i = end;
      if (key === '*') out += '[*]';
      else if (key !== '') out += `['${key.replace(/'/g, "\\'")}']`;
    } else {
      throw new UsageError(`${flag}: unexpected ${JSON.stringify(c)} in ${JSON.stringify(path)}; paths look like {.metadata.name} or {.items[*].spec.user}`);
    }
  }
  return out;
}

/** A key up to the next unescaped `.` or `[`; `\.` is a dot within it. */
function readKey(p: string, start: number): { key: string; end: number } {
  let key = '';
  let i = start;
  while (i < p.length && p[i] !== '.' && p[i] !== '[') {
    if (p[i] === '\\' && i + 1 < p.length) {
      key += p[i + 1];
      i += 2;
    } else key += p[i++];
  }
  return { key, end: i };
}

function closingBracket(p: string, open: number): number {
  let depth = 0;
  let quote: string | undefined;
  for (let i = open; i < p.length; i++) {
    const c = p[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '[') depth++;
    else if (c === ']' && --depth === 0) return i;
  }
  return -1;
}

/** The values a jsonpath-plus path finds in `data` (none for a missing key). */
export function find(path: string, data: unknown): unknown[] {
  if (path === '$') return [data];
  try {
    return JSONPath({ path, json: data as object, wrap: true }) as unknown[];
  } catch (e) {
    throw new UsageError(`cannot evaluate ${path}: ${(e as Error).message}`);
  }
}

/** A value as kubectl prints it: a string as it is, anything else as compact JSON. */
export function text(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function run(nodes: Node[], current: unknown): string {
  let out = '';
  for (const n of nodes) {
    if (n.kind === 'text') out += n.text;
    else if (n.kind === 'path') out += find(n.path, current).map(text).join(' ');
    else for (const item of find(n.path, current)) out += run(n.body, item);
  }
  return out;
}

/** Runs a template against one object (or a List). */
export function execute(template: Template, data: unknown): string {
  return run(template.nodes, data);
}

/** The first value a kubectl path (braces optional) finds, for --sort-by and custom-columns. */
export function firstValue(template: Template, data: unknown): unknown {
  const path = template.nodes.find((n) => n.kind === 'path');
  return path && path.kind === 'path' ? find(path.path, data)[0] : undefined;
}

/** Parses a path given with or without braces (`.spec.user` or `{.spec.user}`), as --sort-by and custom-columns take it. */
export function parsePath(source: string, flag: string): Template {
  const s = source.trim();
  const t = parseTemplate(s.startsWith('{') ? s : `{${s}}`, flag);
  if (t.nodes.length !== 1 || t.nodes[0]!.kind !== 'path') throw new UsageError(`${flag}: ${JSON.stringify(source)} is not one path; use e.g. .metadata.name`);
  return t;
}
