import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import type { ExecSession, ExecSessionStatus } from '../api/types.js';
import type { Api, RequestOpts } from './client.js';
import type { CliContext } from './context.js';
import { ApiError, CliError } from './errors.js';
import { main } from './main.js';

const NOW = new Date('2026-11-22T08:00:00Z');
type Handler = (method: string, path: string, body: unknown, accept?: string) => unknown;

function session(name: string, status?: ExecSessionStatus): ExecSession {
  return {
    apiVersion: 'execsession.dev/v1alpha1', kind: 'ExecSession',
    metadata: { name, namespace: 'team', creationTimestamp: '2026-11-22T07:58:00Z' as unknown as Date },
    spec: { podName: 'target', user: 'alice', requester: { username: 'alice' } }, ...(status ? { status } : {}),
  };
}

/** Runs the CLI against a fake API; returns exit code, output, and the requests made. */
async function cli(args: string[], handler: Handler = () => assert.fail('no request expected'), events: [string, unknown][] = []): Promise<{ code: number; out: string; err: string; calls: [string, string, unknown][]; quiet: boolean[]; accepts: (string | undefined)[] }> {
  const accepts: (string | undefined)[] = [];
  const calls: [string, string, unknown][] = [];
  const quiet: boolean[] = [];
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const api: Api = {
    namespace: 'team', server: 'https://k',
    request: async <T>(method: string, path: string, body?: unknown, opts?: RequestOpts) => {
      calls.push([method, path, body]);
      quiet.push(opts?.quietWarnings === true);
      accepts.push(opts?.accept);
      const answer = handler(method, path, body, opts?.accept) as T;
      opts?.onHeaders?.({ 'execsession-version': '0.1.0' });
      return answer;
    },
    watch: async (path: string, accept: string, onEvent: (type: string, object: unknown) => void) => {
      calls.push(['WATCH', path, undefined]);
      accepts.push(accept);
      for (const [type, object] of events) onEvent(type, object);
    },
    stream: async () => assert.fail('no recordings here'), httpsOptions: async () => ({}), debug: () => undefined,
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
  return { code, out: String(stdout.read() ?? ''), err: String(stderr.read() ?? ''), calls, quiet, accepts };
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
    for (const c of ['create', 'wait', 'attach', 'list', 'get', 'approve', 'deny', 'revoke', 'extend', 'version', 'completion']) assert.match(r.out, new RegExp(`\\n  ${c} `));
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

  /** The Table kube-apiserver prints for the CRD's columns (a few of them), rows for the given sessions. */
  const COLUMNS = [
    { name: 'Name', type: 'string' }, { name: 'Pod', type: 'string' }, { name: 'User', type: 'string' }, { name: 'Phase', type: 'string' },
    { name: 'Age', type: 'date' }, { name: 'Node', type: 'string', priority: 1 },
  ];
  const tableOf = (...sessions: ExecSession[]): unknown => ({
    kind: 'Table', apiVersion: 'meta.k8s.io/v1', metadata: { resourceVersion: '41' }, columnDefinitions: COLUMNS,
    rows: sessions.map((x) => ({ cells: [x.metadata.name, x.spec.podName, x.spec.user, x.status?.phase, '2m', x.status?.node], object: x })),
  });
  const items = [session('b', { phase: 'Ready', node: 'n1' }), session('a', { phase: 'Pending' })];
  const serve = (method: string, path: string, _body: unknown, accept?: string): unknown => {
    const one = /execsessions\/([a-z]+)/.exec(path)?.[1];
    const chosen = one ? items.filter((x) => x.metadata.name === one) : items;
    if (accept?.includes('as=Table')) return tableOf(...chosen);
    return one ? chosen[0] : { items: chosen, metadata: { resourceVersion: '41' } };
  };

  it('list and get print the server\'s Table: its columns upper-cased, priority ones only with -o wide', async () => {
    const list = await cli(['list'], serve);
    assert.equal(list.out, 'NAME   POD      USER    PHASE     AGE\nb      target   alice   Ready     2m\na      target   alice   Pending   2m\n');
    assert.equal(list.calls[0]![1], '/apis/execsession.dev/v1alpha1/namespaces/team/execsessions');
    assert.match(list.accepts[0] ?? '', /^application\/json;as=Table;v=v1;g=meta\.k8s\.io,/);
    const wide = await cli(['get', 'b', '-o', 'wide'], serve);
    assert.equal(wide.out, 'NAME   POD      USER    PHASE   AGE   NODE\nb      target   alice   Ready   2m    n1\n');
    // A Ready session's table is followed, on stderr, by how to open its terminal.
    assert.match(wide.err, /^attach: kubectl execsession attach b -n team\nin a browser: kubectl execsession web b -n team\n {2}or with kubectl proxy running: http:\/\/127\.0\.0\.1:8001\/apis\/subresources\.execsession\.dev\/v1alpha1\/namespaces\/team\/execsessions\/b\/terminal\n$/);
    assert.equal((await cli(['get', 'a'], serve)).err, '', 'a Pending session: nothing to open yet');
    assert.equal(wide.calls[0]![1], '/apis/execsession.dev/v1alpha1/namespaces/team/execsessions/b');
    const all = await cli(['list', '-A', '--no-headers'], serve);
    assert.equal(all.out, 'team   b   target   alice   Ready     2m\nteam   a   target   alice   Pending   2m\n');
    assert.equal(all.calls[0]![1], '/apis/execsession.dev/v1alpha1/execsessions');
    const none = await cli(['list'], () => tableOf());
    assert.deepEqual([none.code, none.out, none.err], [0, '', 'No resources found in team namespace.\n']);
  });

  it('-o json, yaml, name, jsonpath and custom-columns print the objects; -l and --sort-by reach the request and the order', async () => {
    const json = await cli(['get', 'a', '-o', 'json'], serve);
    assert.equal((JSON.parse(json.out) as ExecSession).metadata.name, 'a');
    assert.match((await cli(['get', '-o', 'yaml'], serve)).out, /^apiVersion: v1\nkind: List\nitems:\n {2}- apiVersion: execsession\.dev\/v1alpha1/);
    assert.equal((await cli(['list', '-o', 'name'], serve)).out, 'execsession.execsession.dev/b\nexecsession.execsession.dev/a\n');
    assert.equal((await cli(['get', 'b', '-o', 'jsonpath={.status.phase} {.spec.user}'], serve)).out, 'Ready alice');
    assert.equal((await cli(['list', '-o', 'jsonpath={range .items[*]}{.metadata.name}{"\\n"}{end}', '--sort-by', '.metadata.name'], serve)).out, 'a\nb\n');
    assert.equal((await cli(['list', '-o', 'custom-columns=SESSION:.metadata.name,NODE:.status.node', '--sort-by', '{.metadata.name}'], serve)).out, 'SESSION   NODE\na         <none>\nb         n1\n');
    const selected = await cli(['list', '-l', 'team=shop,tier!=db', '-o', 'name'], serve);
    assert.equal(selected.calls[0]![1], '/apis/execsession.dev/v1alpha1/namespaces/team/execsessions?labelSelector=team%3Dshop%2Ctier%21%3Ddb');
    const sorted = await cli(['list', '--sort-by', '.metadata.name'], serve);
    assert.equal(sorted.calls[0]![1], '/apis/execsession.dev/v1alpha1/namespaces/team/execsessions?includeObject=Object');
    assert.deepEqual(sorted.out.split('\n').slice(1, 3).map((l) => l.split(/\s+/)[0]), ['a', 'b']);
  });

  it('-w prints what is there, then a row per change from the listed resourceVersion', async () => {
    const changed = session('a', { phase: 'Ready' });
    const table = await cli(['list', '-w'], serve, [['MODIFIED', tableOf(changed)], ['DELETED', tableOf(changed)]]);
    assert.equal(table.out, 'NAME   POD      USER    PHASE     AGE\nb      target   alice   Ready     2m\na      target   alice   Pending   2m\na   target   alice   Ready   2m\na   target   alice   Ready   2m\n');
    assert.deepEqual(table.calls[1], ['WATCH', '/apis/execsession.dev/v1alpha1/namespaces/team/execsessions?watch=1&resourceVersion=41&allowWatchBookmarks=false', undefined]);
    const one = await cli(['get', 'a', '-w', '-o', 'jsonpath={.status.phase}{"\\n"}'], serve, [['MODIFIED', changed]]);
    assert.equal(one.out, 'Pending\nReady\n');
    assert.match(one.calls[1]![1], /fieldSelector=metadata\.name%3Da/);
    assert.equal(one.accepts[1], 'application/json');
  });

  it('version: the plugin\'s offline with --client; the operator\'s from its discovery header and the server\'s from /version', async () => {
    const client = await cli(['version', '--client']);
    assert.deepEqual([client.code, client.out, client.calls], [0, 'Plugin Version: 0.1.0\n', []]);
    const serve = (_m: string, path: string): unknown => (path === '/version' ? { gitVersion: 'v1.37.0' } : { kind: 'APIResourceList' });
    const all = await cli(['version'], serve);
    assert.deepEqual([all.code, all.out], [0, 'Plugin Version: 0.1.0\nOperator Version: 0.1.0\nServer Version: v1.37.0\n']);
    assert.deepEqual(all.calls.map((c) => c[1]).sort(), ['/apis/subresources.execsession.dev/v1alpha1', '/version']);
    assert.deepEqual(JSON.parse((await cli(['version', '-o', 'json'], serve)).out), { pluginVersion: '0.1.0', operatorVersion: '0.1.0', serverVersion: 'v1.37.0' });
    const down = await cli(['version'], (_m, path) => {
      if (path === '/version') return { gitVersion: 'v1.37.0' };
      throw new ApiError(503, 'ServiceUnavailable', 'the server is currently unable to handle the request');
    });
    assert.equal(down.code, 1);
    assert.equal(down.out, 'Plugin Version: 0.1.0\nServer Version: v1.37.0\n');
    assert.match(down.err, /^error: cannot read the operator's version: the aggregated API subresources\.execsession\.dev\/v1alpha1 is not served \(HTTP 503\): is the operator installed and running\? kubectl get apiservice v1alpha1\.subresources\.execsession\.dev\n$/);
  });

  it('refuses outputs and flag mixes it does not know, naming the ones it does', async () => {
    const bad = await cli(['list', '-o', 'go-template={{.x}}']);
    assert.deepEqual([bad.code, bad.err.split('\n')[0]], [1, 'error: -o go-template={{.x}}: use -o json, yaml, wide, name, jsonpath=TEMPLATE or custom-columns=HEADER:PATH,...']);
    assert.match((await cli(['list', '-o', 'jsonpath={.items'])).err, /^error: -o jsonpath: unclosed "\{" at position 1/);
    assert.match((await cli(['list', '-o', 'custom-columns=NAME'])).err, /^error: -o custom-columns: "NAME" is not HEADER:PATH/);
    assert.match((await cli(['get', 'a', 'b', '-w'])).err, /^error: -w watches one session or all/);
    assert.match((await cli(['get', 'a', '-l', 'x=y'])).err, /^error: -l selects among all sessions/);
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
