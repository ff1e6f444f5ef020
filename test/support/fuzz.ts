/**
 * A seeded generator of hostile input: everything a user can write to execsession
 * (ExecSession specs and names, ExecPolicy and ClusterExecPolicy specs, the bodies
 * of approve, deny, revoke and extend). Pure: the same seed gives the same cases,
 * so a failure found by test/e2e/fuzz.test.ts is reproduced with
 * EXECSESSION_FUZZ_SEED=<seed>. Each case starts from a valid object and makes one
 * to three fields hostile, and records their paths (`fields`), so that a refusal
 * can be checked to name one of them.
 */

/** mulberry32: small, fast, and the same on every platform. */
export class Rng {
  private state: number;

  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [0, max). */
  int(max: number): number {
    return Math.floor(this.next() * max);
  }

  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)] as T;
  }

  chance(p: number): boolean {
    return this.next() < p;
  }
}

/** The seed of a run: EXECSESSION_FUZZ_SEED when set, else a fresh one. */
export function fuzzSeed(env: NodeJS.ProcessEnv = process.env): number {
  const given = env.EXECSESSION_FUZZ_SEED;
  if (given !== undefined && given !== '') {
    const n = Number(given);
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new Error(`EXECSESSION_FUZZ_SEED must be an integer from 0 to 4294967295, got "${given}"`);
    return n;
  }
  return Math.floor(Math.random() * 0x100000000);
}

// What terminals act on or hide: C0, DEL, C1, the bidi overrides and isolates, line separators.
const CONTROLS = ['\x00', '\x07', '\x08', '\t', '\n', '\r', '\x1b', '\x1b[2J', '\x1b]0;pwned\x07', '\x1b[31m', '\x7f', '\x85', '\x9b', '\x9b2J', '\u202e', '\u2066', '\u2028', '\u2029'];
const UNICODE = ['ålice', 'Zoë', '東京', '🙂', 'e\u0301', '\u200b', '\ufeff', 'ｓｈ', '\ud800', 'Ⅻ', 'İ', 'ß'];
const SHELL = ['$(id)', '`id`', ';id', '|id', '&&id', '>x', '../../etc/passwd', '/', '*', '~root', '%s%n', '{{7*7}}', "'", '"', '\\'];
const NUMBERS = ['0', '-1', '4294967295', '4294967296', '2147483648', '99999999999999999999', '1e9', '0x10', '1.5', 'NaN', 'Infinity'];

/** One hostile string: empty, control characters, unicode, shell syntax, numbers, or long. */
export function hostileString(r: Rng): string {
  switch (r.int(9)) {
    case 0:
      return r.pick(['', ' ', '  ', '.', '..', '-', '_', ':', '::', 'a:b:c']);
    case 1:
      return `${r.pick(['alice', 'INC-1', 'x'])}${r.pick(CONTROLS)}${r.pick(['', 'evil', r.pick(CONTROLS)])}`;
    case 2:
      return r.pick(UNICODE) + (r.chance(0.5) ? r.pick(UNICODE) : '');
    case 3:
      return r.pick(SHELL);
    case 4:
      return r.pick(NUMBERS);
    case 5:
      return 'a'.repeat(r.pick([32, 33, 63, 64, 65, 253, 254, 1024, 1025, 8192, 8193]));
    case 6:
      // Huge, within what kube-apiserver reads (3 MiB a request): some of it control characters.
      return Array.from({ length: r.pick([100, 1000, 20_000]) }, () => r.pick(['x', 'é', '\x1b', '\u202e', ' '])).join('');
    case 7:
      return r.pick(['root', 'alice', 'bob', 'nobody', 'www-data', 'daemon', 'postgres', 'alice$', 'system:masters', 'system:admin']);
    default:
      return `${r.pick(['A', 'a', '0', '-'])}${r.pick(CONTROLS)}${r.pick(UNICODE)}${r.pick(SHELL)}`;
  }
}

/** A hostile value of any JSON type, for fields whose type a user may get wrong. */
function hostileValue(r: Rng): unknown {
  switch (r.int(8)) {
    case 0: return null;
    case 1: return r.pick([0, -1, 1.5, 2 ** 53, -(2 ** 63), 1e308]);
    case 2: return r.pick([true, false]);
    case 3: return [hostileString(r)];
    case 4: return { [hostileString(r) || 'k']: hostileString(r) };
    default: return hostileString(r);
  }
}

/** A hostile duration: malformed, zero, negative, huge, or at the limits. */
export function hostileDuration(r: Rng): unknown {
  if (r.chance(0.15)) return hostileValue(r);
  return r.pick(['', '0s', '0', '15', '-1m', '1m', '30s', '1h', '24h', '24h1s', '25h', '168h', '168h1ms', '169h', '1e9h', '10000000000000000000h',
    '1.5.5m', '1h1h', '1d', '5 m', ' 5m', '5m\n', '5m\x00', '∞', '1ms', '0.1ms', '9'.repeat(40) + 's', 'm', 'h1', '1H', '１m']);
}

/** A time for spec.notAfter: malformed, passed, now-ish, far, or not a string. */
function hostileTime(r: Rng, now: number): unknown {
  if (r.chance(0.15)) return hostileValue(r);
  const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return r.pick(['tomorrow', '2026-13-45T00:00:00Z', '2026-02-30T00:00:00Z', '2026-01-01', '2026-01-01T00:00:00', '9999-12-31T23:59:59Z', '0000-01-01T00:00:00Z',
    iso(now - 3_600_000), iso(now - 1000), iso(now + 3_600_000), iso(now + 86_400_000 * 365), `${iso(now + 3_600_000).slice(0, -1)}+25:00`]);
}

/** What the e2e test sends, and which fields are hostile in it. */
export interface FuzzCase {
  /** session: create an ExecSession; policy: an ExecPolicy; clusterpolicy: a ClusterExecPolicy; action: POST to a subresource. */
  kind: 'session' | 'policy' | 'clusterpolicy' | 'action';
  /** A short description for the report. */
  label: string;
  /** The hostile fields' paths, as API messages name them (spec.user, spec.command, metadata.name, by, reason). */
  fields: string[];
  /** The object or body; a string for an action is sent as it is (invalid JSON included). */
  body: unknown;
  /** For actions: which subresource. */
  action?: 'approve' | 'deny' | 'revoke' | 'extend';
}

type Mutator = (r: Rng, o: { metadata: Record<string, unknown>; spec: Record<string, unknown> }, now: number) => string;

/** Each makes one field of a valid ExecSession hostile and names it. */
const SESSION_MUTATORS: Mutator[] = [
  (r, o) => { o.metadata.name = r.chance(0.8) ? hostileString(r) : hostileValue(r); return 'metadata.name'; },
  (r, o) => { o.spec.podName = r.chance(0.8) ? hostileString(r) : hostileValue(r); return 'spec.podName'; },
  (r, o) => { o.spec.container = r.chance(0.8) ? hostileString(r) : hostileValue(r); return 'spec.container'; },
  (r, o) => { o.spec.user = r.chance(0.85) ? r.pick([hostileString(r), `${hostileString(r)}:${hostileString(r)}`, r.pick(NUMBERS)]) : hostileValue(r); return 'spec.user'; },
  (r, o) => {
    o.spec.command = r.pick([
      () => [hostileString(r), hostileString(r)],
      () => [],
      () => [''],
      () => Array.from({ length: r.pick([256, 257, 1000]) }, () => 'a'),
      () => Array.from({ length: 9 }, () => 'x'.repeat(8000)),
      () => [hostileValue(r)],
      () => hostileValue(r),
    ])();
    return 'spec.command';
  },
  (r, o) => { o.spec.tty = r.pick([true, false, 'yes', 1, null, 'true']); return 'spec.tty'; },
  (r, o) => { o.spec.ttl = hostileDuration(r); return 'spec.ttl'; },
  (r, o) => { o.spec.reason = r.chance(0.85) ? hostileString(r) : hostileValue(r); return 'spec.reason'; },
  (r, o, now) => { o.spec.notAfter = hostileTime(r, now); return 'spec.notAfter'; },
  (r, o) => {
    o.spec.onBehalfOf = r.pick([
      () => ({ username: hostileString(r), groups: [hostileString(r)] }),
      () => ({ username: 'alice', groups: [r.pick(['system:masters', 'system:nodes', 'system:authenticated', hostileString(r)])] }),
      () => ({ groups: ['developers'] }),
      () => hostileValue(r),
    ])();
    return 'spec.onBehalfOf';
  },
  // A forged stamp: the webhook writes the real one over it.
  (r, o) => { o.spec.requester = { username: hostileString(r), groups: ['system:masters'], signature: hostileString(r), stampedAt: hostileString(r) }; return 'spec.requester'; },
  (r, o) => { o.spec[r.pick(['userName', 'privileged', 'hostPID', '__proto__x'])] = hostileValue(r); return 'spec'; },
];

/** A valid one-shot ExecSession as the admin would write it, named `name`. */
export function validSession(namespace: string, name: string, podName: string): { apiVersion: string; kind: string; metadata: Record<string, unknown>; spec: Record<string, unknown> } {
  return { apiVersion: 'execsession.dev/v1alpha1', kind: 'ExecSession', metadata: { name, namespace }, spec: { podName, user: 'alice', tty: false, command: ['id'], ttl: '1m', reason: 'fuzz' } };
}

/** An ExecSession with one to three hostile fields. */
export function sessionCase(r: Rng, i: number, namespace: string, podName: string, now: number): FuzzCase {
  const o = validSession(namespace, `fuzz-${i}`, podName);
  const fields = new Set<string>();
  for (let k = 1 + r.int(3); k > 0; k--) fields.add(r.pick(SESSION_MUTATORS)(r, o, now));
  return { kind: 'session', label: `session ${[...fields].join(', ')}`, fields: [...fields], body: o };
}

/** Each makes one field of a valid policy hostile and names it. */
const POLICY_MUTATORS: Mutator[] = [
  (r, o) => { o.metadata.name = hostileString(r); return 'metadata.name'; },
  (r, o) => { o.spec.subjects = r.pick([[], [{ kind: hostileString(r), name: 'x' }], [{ kind: 'Group', name: hostileString(r) }], [{ kind: 'User' }], hostileValue(r)]); return 'spec.subjects'; },
  (r, o) => { o.spec.users = r.pick([{ allowedNames: [hostileString(r)] }, { allowedNames: hostileValue(r) }, { allowedUIDs: [{ min: r.pick([-1, 0, 2 ** 40]), max: r.pick([-5, 1e20, 0]) }] }, { allowRoot: hostileValue(r) }, hostileValue(r)]); return 'spec.users'; },
  (r, o) => { o.spec.ttl = r.pick([{ max: hostileDuration(r) }, { default: hostileDuration(r), max: hostileDuration(r) }, hostileValue(r)]); return 'spec.ttl'; },
  (r, o) => { o.spec.approval = r.pick([{ required: r.pick([-1, 0, 1e9, 1.5]) }, { required: 1, approvers: [{ kind: hostileString(r), name: hostileString(r) }] }, { required: 1, timeout: hostileDuration(r) }, hostileValue(r)]); return 'spec.approval'; },
  (r, o) => { o.spec.commands = r.pick([[[hostileString(r)]], [[]], [hostileString(r)], hostileValue(r)]); return 'spec.commands'; },
  (r, o) => { o.spec.interactive = hostileValue(r); return 'spec.interactive'; },
  (r, o) => { o.spec.targets = r.pick([{ namespaces: [hostileString(r)] }, { namespaceSelector: { matchLabels: { [hostileString(r) || 'k']: hostileString(r) } } }, { namespaceSelector: { matchExpressions: [{ key: 'a', operator: hostileString(r) }] } }, hostileValue(r)]); return 'spec.targets'; },
  (r, o) => { o.spec.delegation = r.pick([{ trustedCreators: [{ kind: hostileString(r), name: hostileString(r) }] }, hostileValue(r)]); return 'spec.delegation'; },
];

/** An ExecPolicy (in `namespace`) or ClusterExecPolicy with one to three hostile fields. */
export function policyCase(r: Rng, i: number, namespace: string, now: number): FuzzCase {
  const cluster = r.chance(0.5);
  const o = {
    apiVersion: 'execsession.dev/v1alpha1', kind: cluster ? 'ClusterExecPolicy' : 'ExecPolicy',
    metadata: { name: `fuzz-${i}`, ...(cluster ? {} : { namespace }) } as Record<string, unknown>,
    spec: { subjects: [{ kind: 'Group', name: 'fuzzers' }], users: { allowedNames: ['alice'] }, ttl: { max: '1h' } } as Record<string, unknown>,
  };
  const fields = new Set<string>();
  for (let k = 1 + r.int(3); k > 0; k--) fields.add(r.pick(POLICY_MUTATORS)(r, o, now));
  return { kind: cluster ? 'clusterpolicy' : 'policy', label: `${o.kind} ${[...fields].join(', ')}`, fields: [...fields], body: o };
}

/** A body for approve, deny, revoke or extend: hostile reasons and durations, wrong types, extra fields, not JSON at all. */
export function actionCase(r: Rng, action: NonNullable<FuzzCase['action']>): FuzzCase {
  if (r.chance(0.1)) {
    return { kind: 'action', action, label: `${action} raw body`, fields: ['body'], body: r.pick(['', '{', 'null', '[]', '"x"', '{"reason":', '{"by": "1m"', 'x'.repeat(2 << 20), '\x00\x01']) };
  }
  const body: Record<string, unknown> = {};
  const fields: string[] = [];
  if (action === 'extend') {
    body.by = hostileDuration(r);
    fields.push('by');
  }
  if (action !== 'extend' || r.chance(0.3)) {
    body.reason = r.chance(0.85) ? hostileString(r) : hostileValue(r);
    fields.push('reason');
  }
  if (r.chance(0.2)) body[r.pick(['username', 'user', 'groups', 'decision', 'signature', 'at'])] = hostileValue(r);
  return { kind: 'action', action, label: `${action} ${fields.join(', ')}`, fields, body };
}

/** An attach query: its parameters in order (repeats allowed), and the ones the operator must refuse (docs/api.md). */
export interface AttachQueryCase {
  label: string;
  params: Array<[string, string]>;
  /** Parameters the documented rules refuse; empty: the attach must be accepted. */
  refused: string[];
  /** Whether the process reads stdin (a shell, or none given): the test then types `exit`. */
  interactive: boolean;
}

const FLAG_VALUES = ['true', 'false', '1', '0', ''];
const BAD_FLAGS = ['yes', 'TRUE', 'no', '2', ' true', 'true ', 't', 'null', '\u202etrue', '１', 'y'.repeat(5000)];
/** Programs that end by themselves, so an accepted attach ends (or one that does not exist: the runtime says so). */
const PROGRAMS = ['echo', '/bin/echo', 'true', 'id', 'printf', 'env', 'no-such-program', '$(id)', 'é'];

/** One part of an attach query: parameters to add, the ones of them the rules refuse, a label; or a command. */
interface QueryPart {
  params?: Array<[string, string]>;
  refused?: string[];
  command?: string[];
  label: string;
}

/** The parts an attach query is made of, each with what docs/api.md's rules say of it. */
const QUERY_PARTS: Array<(r: Rng, container: string) => QueryPart> = [
  (r) => {
    const command = r.pick([
      () => [r.pick(PROGRAMS), hostileString(r), hostileString(r)],
      () => [r.pick(PROGRAMS)],
      () => ['', 'x'],
      () => ['echo', 'a\x00b'],
      () => Array.from({ length: 257 }, () => 'a'),
      () => ['echo', 'x'.repeat(70_000)],
    ])();
    const bad = command[0] === '' || command.some((a) => a.includes('\x00')) || command.length > 256 || command.some((a) => a.length > 60_000);
    return { command, refused: bad ? ['command'] : [], label: `command x${command.length}` };
  },
  (r) => {
    const name = r.pick(['tty', 'stdin', 'stdout', 'stderr']);
    const bad = r.chance(0.4);
    return { params: [[name, bad ? r.pick(BAD_FLAGS) : r.pick(FLAG_VALUES)]], refused: bad ? [name] : [], label: `${name}${bad ? ' bad' : ''}` };
  },
  (r, container) => {
    const name = r.pick(['tty', 'stdin', 'stdout', 'stderr', 'container']);
    const value = (): string => (name === 'container' ? container : r.pick(FLAG_VALUES));
    return { params: [[name, value()], [name, value()]], refused: [name], label: `${name} twice` };
  },
  (r, container) => {
    const other = r.chance(0.3);
    return { params: [['container', other ? r.pick([hostileString(r) || 'x', `${container}x`, container.toUpperCase()]) : container]], refused: other ? ['container'] : [], label: `container${other ? ' other' : ''}` };
  },
  (r) => ({ params: [[r.pick(['user', 'Command', 'TTY', 'command[]', 'follow', 'attach', '', hostileString(r)]), hostileString(r)]], refused: ['unknown'], label: 'unknown' }),
  () => ({ label: 'valid' }),
];

/** One hostile attach query for a session in container `container`, judged by docs/api.md's rules. */
export function attachQueryCase(r: Rng, container: string): AttachQueryCase {
  // Commands and single flags twice as often as the rest: about a third of the queries are then accepted.
  const weighted = [...QUERY_PARTS, QUERY_PARTS[0], QUERY_PARTS[1], QUERY_PARTS[3]].filter((p) => p !== undefined);
  const parts = Array.from({ length: 1 + r.int(2) }, () => r.pick(weighted)(r, container));
  const command = parts.findLast((p) => p.command)?.command ?? [];
  const commandRefused = parts.findLast((p) => p.command)?.refused ?? [];
  const params: Array<[string, string]> = [...parts.flatMap((p) => p.params ?? []), ...command.map((a): [string, string] => ['command', a])];
  const refused = new Set([...parts.filter((p) => !p.command).flatMap((p) => p.refused ?? []), ...commandRefused]);
  // Two parts may each give the same single-valued parameter once: the query then repeats it, which the rules refuse.
  for (const name of new Set(params.map(([n]) => n))) {
    if (name !== 'command' && params.filter(([n]) => n === name).length > 1) refused.add(name);
  }
  const only = (name: string): string | undefined => {
    const values = params.filter(([n]) => n === name).map(([, v]) => v);
    return values.length === 1 ? values[0] : undefined;
  };
  const noStdin = ['false', '0'].includes(only('stdin') ?? '-');
  // A terminal without stdin for the shell is refused (docs/api.md): it would wait for input that cannot come.
  if (command.length === 0 && noStdin && ['true', '1', ''].includes(only('tty') ?? '-')) refused.add('tty');
  const interactive = command.length === 0 && !noStdin;
  return { label: parts.map((p) => p.label).join(', '), params, refused: [...refused], interactive };
}
