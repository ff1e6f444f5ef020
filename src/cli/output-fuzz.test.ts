// The CLI's terminal output never passes a control character that someone else
// wrote through raw (issue 17, item 2): sessions whose name, user, requester,
// reason, status message, approvals and result carry hostile strings from the
// fuzz generator (test/support/fuzz.ts), and servers whose error reasons and
// messages do, through every command that prints them. Seeded: the seed is in the
// test's name, and EXECSESSION_FUZZ_SEED reproduces a run.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { Rng, fuzzSeed, hostileString } from '../../test/support/fuzz.js';
import type { ExecSession } from '../api/types.js';
import type { Api, RequestOpts } from './client.js';
import type { CliContext } from './context.js';
import { ApiError } from './errors.js';
import { main } from './main.js';
import type { Table } from './printers.js';

// What a terminal acts on or hides: C0 but tab and line feed, DEL, C1, bidi embeddings/overrides/isolates, line
// separators. Tab and line feed stay where printable() keeps them (multi-line text, YAML): they only move the
// cursor on, and cannot rewrite what is on screen; one-line cells escape them too (printableInline).
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\u2028\u2029]/;
const NOW = new Date('2026-11-22T08:00:00Z');

/** A session in which every string others write is hostile. */
function hostileSession(r: Rng): ExecSession {
  const h = (): string => hostileString(r).slice(0, 2000);
  const phase = r.pick(['Ready', 'Failed', 'WaitingForApproval', 'Succeeded', 'Denied'] as const);
  return {
    apiVersion: 'execsession.dev/v1alpha1', kind: 'ExecSession',
    metadata: { name: 'dbg', namespace: 'team', creationTimestamp: '2026-11-22T07:58:00Z' as unknown as Date, annotations: { note: h() }, labels: { l: h() } },
    spec: { podName: h(), container: h(), user: h(), reason: h(), command: [h(), h()], notAfter: h(), requester: { username: h(), groups: [h()] }, onBehalfOf: { username: h(), groups: [h()] } },
    status: {
      phase, message: h(), container: h(), expiresAt: '2026-11-22T08:15:00Z', startedAt: '2026-11-22T07:59:00Z',
      conditions: [{ type: 'Ready', status: 'False', reason: h(), message: h(), lastTransitionTime: '2026-11-22T07:59:00Z' }],
      approvals: [{ decision: 'Approved', username: h(), groups: [h()], at: '2026-11-22T07:59:00Z', reason: h(), signature: 'x' }],
      result: { exitCode: 3, stdout: h(), stderr: h() },
      attach: { url: h(), command: h() },
    },
  };
}

/** The Table kube-apiserver would print for the session (the CRD's columns, the wide ones too). */
function tableOf(s: ExecSession): Table {
  const cols: [string, unknown, number?][] = [
    ['Name', s.metadata.name], ['Pod', s.spec.podName], ['Container', s.status?.container], ['User', s.spec.user], ['Requester', s.spec.requester?.username],
    ['Phase', s.status?.phase], ['Expires', s.status?.expiresAt], ['Age', '5m'], ['For', s.spec.onBehalfOf?.username, 1], ['Node', s.status?.node, 1], ['Reason', s.spec.reason, 1],
  ];
  return {
    kind: 'Table', columnDefinitions: cols.map(([name, , priority]) => ({ name, type: 'string', ...(priority ? { priority } : {}) })),
    rows: [{ cells: cols.map(([, v]) => v), object: { metadata: { name: s.metadata.name, namespace: s.metadata.namespace } } }],
  };
}

/** Runs one CLI command against a fake API that answers with `session`, or fails with `error`. */
async function run(args: string[], session: ExecSession, error?: ApiError): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const api: Api = {
    namespace: 'team', server: 'https://k',
    request: async <T>(method: string, path: string, _body?: unknown, opts?: RequestOpts) => {
      if (error) throw error;
      // kube-apiserver's Table holds the object's strings as they were written.
      if (opts?.accept?.includes('as=Table')) return tableOf(session) as T;
      return (method === 'GET' && /\/execsessions(\?|$)/.test(path) ? { items: [session] } : session) as T;
    },
    watch: async () => assert.fail('no watch here'),
    stream: async () => assert.fail('no recordings here'), httpsOptions: async () => ({}), debug: () => undefined,
  };
  const ctx: CliContext = {
    io: { stdin: new PassThrough(), stdout, stderr, proc: Object.assign(new EventEmitter(), { exit: () => undefined }) },
    connect: async () => api,
    now: () => NOW,
  };
  const code = await main(args, ctx);
  return { code, out: String(stdout.read() ?? ''), err: String(stderr.read() ?? '') };
}

const COMMANDS: string[][] = [
  ['get', 'dbg'], ['get', 'dbg', '-o', 'wide'], ['get', 'dbg', '-o', 'yaml'], ['get', 'dbg', '-o', 'json'], ['list'], ['list', '-A', '-o', 'wide'],
  ['get', 'dbg', '-o', 'name'], ['get', 'dbg', '-o', 'jsonpath={.spec.reason} {.status.message} {.metadata}'], ['list', '-o', 'custom-columns=R:.spec.reason,U:.spec.user'],
  ['approve', 'dbg'], ['deny', 'dbg', '--reason', 'r'], ['revoke', 'dbg'], ['extend', 'dbg', '--by', '5m'],
  ['wait', 'dbg', '--for', 'end', '--timeout', '1s'], ['create', 'web', '-u', 'alice', '--name', 'dbg', '--dry-run=server'],
];

describe('CLI output under hostile strings (fuzz)', () => {
  const seed = fuzzSeed();
  it(`escapes every control character others wrote, in every command's output and errors (EXECSESSION_FUZZ_SEED=${seed})`, async () => {
    const r = new Rng(seed);
    const leaks: string[] = [];
    let printed = 0;
    for (let i = 0; i < 120; i++) {
      const session = hostileSession(r);
      const args = r.pick(COMMANDS);
      const error = r.chance(0.25) ? new ApiError(r.pick([400, 403, 404, 409, 422]), hostileString(r).slice(0, 500), hostileString(r).slice(0, 2000)) : undefined;
      const { out, err } = await run(args, session, error);
      printed += out.length + err.length;
      for (const [stream, text] of [['stdout', out], ['stderr', err]] as const) {
        const m = RAW_CONTROL.exec(text);
        if (m) leaks.push(`case ${i} (${args.join(' ')}${error ? ', server error' : ''}) ${stream}: raw U+${m[0].charCodeAt(0).toString(16).padStart(4, '0')} in ${JSON.stringify(text.slice(Math.max(0, m.index - 40), m.index + 40))}`);
      }
    }
    assert.ok(printed > 10_000, `the commands printed too little (${printed} characters) to tell`);
    assert.deepEqual(leaks.slice(0, 10), [], `seed ${seed}: ${leaks.length} outputs carried a raw control character`);
  });
});
