import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import type { ExecSession, ExecSessionStatus } from '../api/types.js';
import type { Api } from './client.js';
import type { CliContext } from './context.js';
import { ApiError, CliError } from './errors.js';
import { main } from './main.js';

const NOW = new Date('2026-11-22T08:00:00Z');
type Handler = (method: string, path: string, body: unknown) => unknown;

function session(name: string, status?: ExecSessionStatus): ExecSession {
  return {
    apiVersion: 'execsession.dev/v1alpha1', kind: 'ExecSession',
    metadata: { name, namespace: 'team', creationTimestamp: '2026-11-22T07:58:00Z' as unknown as Date },
    spec: { podName: 'target', user: 'alice', requester: { username: 'alice' } }, ...(status ? { status } : {}),
  };
}

/** Runs the CLI against a fake API; returns exit code, output, and the requests made. */
async function cli(args: string[], handler: Handler = () => assert.fail('no request expected')): Promise<{ code: number; out: string; err: string; calls: [string, string, unknown][]; quiet: boolean[] }> {
  const calls: [string, string, unknown][] = [];
  const quiet: boolean[] = [];
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const api: Api = {
    namespace: 'team', server: 'https://k',
    request: async <T>(method: string, path: string, body?: unknown, opts?: { quietWarnings?: boolean }) => {
      calls.push([method, path, body]);
      quiet.push(opts?.quietWarnings === true);
      return handler(method, path, body) as T;
    },
    httpsOptions: async () => ({}), debug: () => undefined,
  };
  const ctx: CliContext = {
    io: { stdin: new PassThrough(), stdout, stderr, proc: Object.assign(new EventEmitter(), { exit: () => undefined }) },
    connect: async (g) => {
      if (g.context === 'nope') throw new CliError('context "nope" is not in the kubeconfig');
      return api;
    },
    now: () => NOW,
  };
  const code = await main(args, ctx);
  return { code, out: String(stdout.read() ?? ''), err: String(stderr.read() ?? ''), calls, quiet };
}

const ID = 'uid=1000(alice) gid=1000(alice) groups=1000(alice),2000(ops)\n';

/** Creates on POST, then answers GETs with the given phases in turn. */
function lifecycle(...statuses: ExecSessionStatus[]): Handler {
  let i = 0;
  return (method) => (method === 'POST' ? session('target-abc12') : session('target-abc12', statuses[Math.min(i++, statuses.length - 1)]));
}

describe('kubectl execsession', () => {
  it('--help exits 0 and lists the commands', async () => {
    const r = await cli(['--help']);
    assert.equal(r.code, 0);
    for (const c of ['create', 'wait', 'attach', 'list', 'get', 'approve', 'deny', 'revoke', 'extend']) assert.match(r.out, new RegExp(`\\n  ${c} `));
    assert.match((await cli(['create', '--help'])).out, /kubectl execsession create web-7d4f -u alice --ttl 5m -- id/);
  });

  it('usage errors exit 1, as kubectl\'s, saying what was wrong', async () => {
    for (const [args, message] of [
      [['create', 'target'], /required option '-u, --user <user>' not specified/],
      [['create', 'target', '-u', 'alice', 'id'], /put the command to run after "--"/],
      [['frobnicate'], /unknown command 'frobnicate'/],
      [['extend', 'x'], /required option '--by <duration>'/],
      [['extend', 'x', '--by', 'forever'], /--by: invalid duration "forever"/],
      [['wait', 'x', '--for', 'lunch'], /Allowed choices are ready, end/],
      [['get', '-A', 'x'], /-A lists every namespace/],
      [[], /Usage: kubectl execsession/],
    ] as const) {
      const r = await cli([...args]);
      assert.equal(r.code, 1, args.join(' '));
      assert.match(r.err, message);
    }
  });

  it('create -- id: runs once, prints the result, exits with its code', async () => {
    const r = await cli(['create', 'target', '-u', 'alice', '--ttl', '5m', '--', 'id'],
      lifecycle({ phase: 'Pending' }, { phase: 'Running' }, { phase: 'Succeeded', result: { exitCode: 0, stdout: ID, stderr: '' } }));
    assert.deepEqual([r.code, r.out, r.err], [0, ID, '']);
    const [method, path, body] = r.calls[0]!;
    assert.deepEqual([method, path], ['POST', '/apis/execsession.dev/v1alpha1/namespaces/team/execsessions']);
    assert.match((body as ExecSession).metadata.name ?? '', /^target-[a-z0-9]{5}$/);
    assert.deepEqual((body as ExecSession).spec, { podName: 'target', user: 'alice', command: ['id'], tty: false, ttl: '5m' });
    // stderr belongs to the command: admission warnings only with -v (stderr is no terminal here).
    assert.equal(r.quiet[0], true);
    const three = await cli(['create', 'target', '-u', 'alice', '--', 'sh', '-c', 'echo no >&2; exit 3'],
      lifecycle({ phase: 'Failed', result: { exitCode: 3, stderr: 'no\n' } }));
    assert.deepEqual([three.code, three.out, three.err], [3, '', 'no\n']);
  });

  it('create on a session refused at the end: its message, exit 1', async () => {
    const r = await cli(['create', 'target', '-u', 'root', '--', 'id'], lifecycle({ phase: 'Denied', message: 'RootUserDenied: no root' }));
    assert.equal(r.code, 1);
    assert.equal(r.err, 'execsession team/target-abc12 is Denied: RootUserDenied: no root\n');
  });

  it('create without a command prints the name and how to attach; --wait waits for Ready and shows the expiry the operator decided', async () => {
    const expiresAt = new Date(Date.now() + 15 * 60_000 + 30_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const r = await cli(['create', 'target', '-u', 'alice', '--name', 'dbg', '--wait'], lifecycle({ phase: 'Starting' }, { phase: 'Ready', expiresAt }));
    assert.equal(r.code, 0);
    assert.equal(r.out, `execsession.execsession.dev/target-abc12 created\nready until ${expiresAt} (in 15 minutes)\nattach with: kubectl execsession attach target-abc12 -n team\n`);
    assert.equal((r.calls[0]![2] as ExecSession).spec.ttl, undefined, 'no ttl: the operator decides it');
    assert.deepEqual((r.calls[0]![2] as ExecSession).metadata, { name: 'dbg', namespace: 'team' });
    assert.match(r.err, /Starting/);
    assert.equal(r.quiet[0], false);
  });

  it('draws a new name when the generated one is taken', async () => {
    let posts = 0;
    const r = await cli(['create', 'target', '-u', 'alice'], (method, _path, body) => {
      if (method === 'POST' && ++posts === 1) throw new ApiError(409, 'AlreadyExists', 'exists');
      return body;
    });
    assert.equal(r.code, 0, r.err);
    assert.equal(posts, 2);
  });

  it('a refusal at admission is the server message', async () => {
    const r = await cli(['create', 'target', '-u', 'alice', '--', 'id'], () => {
      throw new ApiError(403, 'Forbidden', 'admission webhook "validate.execsession.dev" denied the request: RbacDenied: alice may not create pods/exec');
    });
    assert.equal(r.code, 1);
    assert.equal(r.err, 'Error from server (Forbidden): admission webhook "validate.execsession.dev" denied the request: RbacDenied: alice may not create pods/exec\n');
  });

  it('list and get: table, json, yaml, all namespaces', async () => {
    const items = [session('a', { phase: 'Ready', expiresAt: '2026-11-22T08:10:00Z' })];
    const list = await cli(['list'], () => ({ items }));
    assert.equal(list.out.split('\n')[1], 'a      target   <none>      alice   alice     Ready   in 10 minutes   2m');
    assert.equal(list.calls[0]![1], '/apis/execsession.dev/v1alpha1/namespaces/team/execsessions');
    const all = await cli(['list', '-A'], () => ({ items }));
    assert.match(all.out, /^NAMESPACE\s+NAME/);
    assert.equal(all.calls[0]![1], '/apis/execsession.dev/v1alpha1/execsessions');
    const json = await cli(['get', 'a', '-o', 'json'], () => items[0]);
    assert.equal((JSON.parse(json.out) as ExecSession).metadata.name, 'a');
    assert.match((await cli(['get', '-o', 'yaml'], () => ({ items }))).out, /^apiVersion: v1\nkind: List\nitems:\n {2}- apiVersion: execsession\.dev\/v1alpha1/);
    const none = await cli(['list'], () => ({ items: [] }));
    assert.deepEqual([none.code, none.out, none.err], [0, '', 'No resources found in team namespace.\n']);
  });

  it('approve posts the reason and prints who approved; a refusal is the Status message', async () => {
    const ok = await cli(['approve', 'x', '--reason', 'INC-1'], () => session('x', { phase: 'Approved', approvals: [{ decision: 'Approved', username: 'carol', at: '', signature: '' }] } as ExecSessionStatus));
    assert.deepEqual(ok.calls, [['POST', '/apis/subresources.execsession.dev/v1alpha1/namespaces/team/execsessions/x/approve', { reason: 'INC-1' }]]);
    assert.equal(ok.out, 'execsession team/x approved by carol\n');
    const no = await cli(['deny', 'x'], () => {
      throw new ApiError(409, 'Conflict', 'execsession team/x is not waiting for approval (phase Ready)');
    });
    assert.deepEqual([no.code, no.err], [1, 'Error from server (Conflict): execsession team/x is not waiting for approval (phase Ready)\n']);
  });

  it('a bad kubeconfig context is exit 1 with the fix', async () => {
    const r = await cli(['list', '--context', 'nope']);
    assert.deepEqual([r.code, r.err], [1, 'error: context "nope" is not in the kubeconfig\n']);
  });
});

describe('create --dry-run', () => {
  it('client: prints the object it would send, as YAML or JSON, and sends nothing', async () => {
    const yaml = await cli(['create', 'web', '-u', 'alice', '--ttl', '5m', '--name', 'dbg', '--dry-run=client', '-o', 'yaml']);
    assert.equal(yaml.code, 0, yaml.err);
    assert.deepEqual(yaml.calls, []);
    assert.match(yaml.out, /^apiVersion: execsession\.dev\/v1alpha1\nkind: ExecSession\nmetadata:\n {2}name: dbg\n {2}namespace: team\nspec:\n {2}podName: web\n {2}user: alice\n/);
    assert.match(yaml.out, /ttl: 5m/);
    const json = await cli(['create', 'web', '-u', 'alice', '--name', 'dbg', '--dry-run', 'client', '-o', 'json']);
    assert.equal((JSON.parse(json.out) as ExecSession).spec.podName, 'web');
  });

  it('server: the API server runs admission with dryRun=All and stores nothing; the webhook\'s warning is printed', async () => {
    const r = await cli(['create', 'web', '-u', 'alice', '--name', 'dbg', '--dry-run=server'], (method) => (method === 'POST' ? session('dbg') : assert.fail('only the POST')));
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(r.calls.map(([m, p]) => `${m} ${p}`), ['POST /apis/execsession.dev/v1alpha1/namespaces/team/execsessions?dryRun=All']);
    assert.equal(r.quiet[0], false, 'the decision (a Warning) reaches stderr');
    assert.equal(r.out, 'execsession.execsession.dev/dbg created (server dry run)\n');
  });

  it('--not-after 8h: a GitOps manifest with the absolute end as a time, 8h from now', async () => {
    const r = await cli(['create', 'web', '-u', 'alice', '--name', 'dbg', '--ttl', '1h', '--not-after', '8h', '--dry-run=client', '-o', 'yaml']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /\n {2}notAfter: "?2026-11-22T16:00:00Z"?\n/);
  });

  it('refuses an unknown strategy or output, as a usage error', async () => {
    const r = await cli(['create', 'web', '-u', 'alice', '--dry-run=maybe']);
    assert.equal(r.code, 1);
    assert.match(r.err, /Allowed choices are none, server, client/);
  });
});
