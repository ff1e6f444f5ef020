/**
 * The kubectl plugin, run through real kubectl (bin/ on PATH, so kubectl's
 * plugin lookup is exercised) as alice: a one-off command prints its output and
 * passes its exit code through; refusals print the server's message; get, list,
 * wait, attach, extend and revoke against the real operator and its aggregated
 * API; approve and deny refused by RBAC and by the operator.
 */
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ExecSession } from '../../src/api/types.js';
import { REPO_ROOT } from '../../tools/cluster/config.js';
import { ADMIN_KUBECONFIG, eventually, grant, kubectl, kubectlOk, requireCluster, tempNamespace, userKubeconfig, type KubectlResult } from '../../tools/support/cluster.js';
import { suiteOperator } from '../../tools/support/installed.js';
import { grantSubresources, installCrds, waitForApi, type SuiteOperator } from '../../tools/support/operator.js';
import { runTargetPod } from '../../tools/support/pods.js';
import { getSession } from '../support/sessions.js';

const ID = 'uid=1000(alice) gid=1000(alice) groups=1000(alice),2000(ops)';

/** `kubectl execsession ARGS` as the kubeconfig's user; never throws. */
function plugin(kubeconfig: string, args: string[], input = ''): Promise<KubectlResult> {
  return new Promise((resolve) => {
    const env = { ...process.env, KUBECONFIG: kubeconfig, PATH: `${join(REPO_ROOT, 'bin')}:${process.env.PATH ?? ''}` };
    const child = execFile('kubectl', ['execsession', ...args], { env, timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
    child.stdin?.end(input);
  });
}

/**
 * A shell line run in a fresh pseudo-terminal (util-linux script), as the
 * kubeconfig's user; stdin stays open until it ends, as a user's terminal would.
 */
function inTerminal(kubeconfig: string, line: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const env = { ...process.env, KUBECONFIG: kubeconfig, PATH: `${join(REPO_ROOT, 'bin')}:${process.env.PATH ?? ''}` };
    const child = spawn('script', ['-qec', line, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.on('data', (b: Buffer) => void (output += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe('kubectl execsession', () => {
  let ns: Awaited<ReturnType<typeof tempNamespace>>;
  let operator: SuiteOperator;
  let alice: string;
  let bob: string;
  let carol: string;
  const as = (who: () => string, args: string[], input?: string): Promise<KubectlResult> => plugin(who(), ['-n', ns.name, ...args], input);

  before(async () => {
    requireCluster();
    await installCrds();
    ns = await tempNamespace('cli');
    await runTargetPod('target', ns.name, { runAsUser: 1001, runAsGroup: 1001 });
    await grant(ns.name, 'sessions', ['create', 'get', 'list', 'watch'], 'execsessions.execsession.dev', ['alice', 'bob', 'carol']);
    await grant(ns.name, 'exec', ['create', 'get'], 'pods/exec', ['alice', 'carol']);
    await grantSubresources(ns.name, 'cli-attach', ['attach'], ['create', 'get'], ['alice', 'bob']);
    await grantSubresources(ns.name, 'cli-lifetime', ['revoke', 'extend'], ['create'], ['alice']);
    await grantSubresources(ns.name, 'cli-approvers', ['approve', 'deny'], ['create'], ['bob']);
    await kubectlOk(['apply', '-f', '-'], { input: JSON.stringify({
      apiVersion: 'execsession.dev/v1alpha1', kind: 'ClusterExecPolicy', metadata: { name: `cli-${ns.name}` },
      spec: { subjects: [{ kind: 'Group', name: 'developers' }], targets: { namespaces: [ns.name] }, users: { allowedNames: ['*'] }, ttl: { default: '15m', max: '1h' } },
    }) });
    await kubectlOk(['apply', '-f', '-'], { input: JSON.stringify({
      apiVersion: 'execsession.dev/v1alpha1', kind: 'ExecPolicy', metadata: { name: 'gated', namespace: ns.name },
      spec: { subjects: [{ kind: 'Group', name: 'contractors' }], users: { allowedNames: ['*'] }, approval: { required: 1, approvers: [{ kind: 'User', name: 'bob' }], timeout: '10m' } },
    }) });
    alice = await userKubeconfig('alice', ['developers']);
    bob = await userKubeconfig('bob', ['developers']);
    // carol is no developer: only the ExecPolicy "gated" covers her, and it wants bob's approval.
    carol = await userKubeconfig('carol', ['contractors']);
    operator = suiteOperator();
    await operator.start();
    await waitForApi();
  });

  after(async () => {
    await ns?.remove();
    await operator?.stop();
    await kubectl(['delete', 'clusterexecpolicy', `cli-${ns.name}`]);
  });

  it('runs a command as alice, prints its output and exits 0', async () => {
    const r = await as(() => alice, ['create', 'target', '-u', 'alice', '--ttl', '5m', '--', 'id']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${ID}\n`);
  });

  it("exits with the command's exit code, its stderr on stderr", async () => {
    const r = await as(() => alice, ['create', 'target', '-u', 'alice', '--ttl', '5m', '--', 'sh', '-c', 'echo oops >&2; exit 3']);
    assert.equal(r.code, 3, r.stderr);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, 'oops\n');
  });

  it('acts as the user named with --as and --as-group: the admin gets alice\'s decision (impersonation reaches kube-apiserver)', async () => {
    const refused = await as(() => ADMIN_KUBECONFIG, ['--as', 'alice', '--as-group', 'developers', 'create', 'target', '-u', 'root', '--', 'id']);
    assert.equal(refused.code, 1, 'the admin alone may become root; alice may not');
    assert.match(refused.stderr, /^Error from server \(Forbidden\): .*RootUserDenied: ClusterExecPolicy "cli-/);
    const ok = await as(() => ADMIN_KUBECONFIG, ['--as', 'alice', '--as-group', 'developers', 'create', 'target', '-u', 'alice', '--name', 'impersonated', '--', 'id']);
    assert.deepEqual([ok.code, ok.stdout], [0, `${ID}\n`], ok.stderr);
    const s = await kubectlOk(['-n', ns.name, 'get', 'execsession', 'impersonated', '-o', 'jsonpath={.spec.requester.username} {.spec.requester.groups}']);
    assert.match(s, /^alice \[.*"developers".*\]$/, 'stamped with the impersonated user and groups');
  });

  it('create --dry-run=server prints the webhook\'s decision and creates nothing; --dry-run=client prints the object', async () => {
    const ok = await as(() => alice, ['create', 'target', '-u', 'alice', '--name', 'dry-ok', '--dry-run=server']);
    assert.deepEqual([ok.code, ok.stdout], [0, 'execsession.execsession.dev/dry-ok created (server dry run)\n'], ok.stderr);
    assert.match(ok.stderr, /^Warning: allowed by ClusterExecPolicy cli-/m);
    const no = await as(() => alice, ['create', 'target', '-u', 'root', '--name', 'dry-root', '--dry-run=server']);
    assert.equal(no.code, 1);
    assert.match(no.stderr, /RootUserDenied/);
    for (const name of ['dry-ok', 'dry-root']) assert.notEqual((await kubectl(['-n', ns.name, 'get', 'execsession', name])).code, 0, `${name} was not created`);
    const client = await as(() => alice, ['create', 'target', '-u', 'alice', '--name', 'dry-client', '--dry-run=client', '-o', 'yaml']);
    assert.equal(client.code, 0, client.stderr);
    assert.match(client.stdout, /^kind: ExecSession$/m);
    assert.match(client.stdout, /^ {2}podName: target$/m);
  });

  it("prints the admission webhook's refusal and exits 1", async () => {
    const r = await as(() => alice, ['create', 'target', '-u', 'root', '--', 'id']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^Error from server \(Forbidden\): .*RootUserDenied: ClusterExecPolicy "cli-/);
  });

  it('exits 1 on usage errors, as kubectl does, through kubectl', async () => {
    const r = await as(() => alice, ['create', 'target', '--', 'id']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /required option '-u, --user <user>' not specified/);
  });

  it('creates a session to attach later, waits for Ready, and shows it with get and list', async () => {
    const c = await as(() => alice, ['create', 'target', '-u', 'alice', '--name', 'shell', '--reason', 'INC-1', '--wait']);
    assert.equal(c.code, 0, c.stderr);
    // No --ttl: the operator decided it (the policy's ttl.default, 15m) and create shows the expiry.
    assert.match(c.stdout, new RegExp(`^execsession\\.execsession\\.dev/shell created\\nready until \\S+Z \\(in 1[45] minutes\\)\\nattach with: kubectl execsession attach shell -n ${ns.name}\\n$`));
    const w = await as(() => alice, ['wait', 'shell', '--for', 'ready', '--timeout', '30s']);
    assert.deepEqual([w.code, w.stdout], [0, `execsession ${ns.name}/shell is Ready\n`]);
    const table = await as(() => alice, ['get', 'shell']);
    assert.equal(table.code, 0, table.stderr);
    const [header, row] = table.stdout.split('\n');
    // The server's Table: the CRD's printer columns, as kubectl get execsessions prints them.
    assert.match(header!, /^NAME\s+POD\s+CONTAINER\s+USER\s+REQUESTER\s+PHASE\s+EXPIRES\s+AGE$/);
    assert.match(row!, /^shell\s+target\s+\S+\s+alice\s+alice\s+Ready\s+\d{4}-\d\d-\d\dT\S+Z\s+\d+s$/);
    const kubectlHeader = (await kubectlOk(['-n', ns.name, 'get', 'execsession', 'shell'])).split('\n')[0];
    assert.equal(header!.split(/\s+/).join(' '), kubectlHeader!.split(/\s+/).join(' '), 'the same columns as kubectl get');
    const wide = await as(() => alice, ['get', 'shell', '-o', 'wide']);
    assert.match(wide.stdout.split('\n')[0]!, /\sAGE\s+FOR\s+NOT-AFTER\s+NODE\s+BACKEND\s+UID\s+GID\s+REASON$/);
    assert.match(wide.stdout.split('\n')[1]!, /\s<none>\s+\S+\s+(runtime|nsenter)\s+1000\s+1000\s+INC-1$/);
    const json = JSON.parse((await as(() => alice, ['get', 'shell', '-o', 'json'])).stdout) as ExecSession;
    assert.equal(json.status?.phase, 'Ready');
    assert.match((await as(() => alice, ['get', 'shell', '-o', 'yaml'])).stdout, /^apiVersion: execsession\.dev\/v1alpha1\nkind: ExecSession\n/m);
    const list = await as(() => alice, ['list']);
    assert.match(list.stdout, /\nshell\s+target\s/);
    assert.match(list.stdout, /\ntarget-[a-z0-9]{5}\s+target\s+\S+\s+alice\s+alice\s+Succeeded\s/);
  });

  it('prints like kubectl: -o name, -o jsonpath, -o custom-columns, --sort-by, -l and --no-headers', async () => {
    const name = await as(() => alice, ['get', 'shell', '-o', 'name']);
    assert.deepEqual([name.code, name.stdout], [0, 'execsession.execsession.dev/shell\n'], name.stderr);
    const jp = await as(() => alice, ['get', 'shell', '-o', 'jsonpath={.status.phase} {.status.user.uid}:{.status.user.gid} {.spec.requester.username}']);
    assert.deepEqual([jp.code, jp.stdout], [0, 'Ready 1000:1000 alice'], jp.stderr);
    const range = await as(() => alice, ['list', '--sort-by', '.metadata.name', '-o', 'jsonpath={range .items[*]}{.metadata.name}{"\\t"}{.status.phase}{"\\n"}{end}']);
    assert.equal(range.code, 0, range.stderr);
    const rows = range.stdout.trimEnd().split('\n').map((l) => l.split('\t'));
    assert.ok(rows.some(([n, p]) => n === 'shell' && p === 'Ready'), range.stdout);
    const names = rows.map(([n]) => n!);
    assert.deepEqual(names, [...names].sort(), 'sorted by name');
    // The same template through kubectl itself prints the same.
    const same = await kubectlOk(['-n', ns.name, 'get', 'execsessions', '--sort-by', '.metadata.name', '-o', 'jsonpath={range .items[*]}{.metadata.name}{"\\t"}{.status.phase}{"\\n"}{end}'], { kubeconfig: alice });
    assert.equal(range.stdout, same);
    const cols = await as(() => alice, ['get', 'shell', '-o', 'custom-columns=SESSION:.metadata.name,UID:.status.user.uid,MISSING:.spec.nope']);
    assert.deepEqual(cols.stdout.split('\n').map((l) => l.split(/\s+/)), [['SESSION', 'UID', 'MISSING'], ['shell', '1000', '<none>'], ['']]);
    await kubectlOk(['-n', ns.name, 'label', 'execsession', 'shell', 'team=shop']);
    const selected = await as(() => alice, ['list', '-l', 'team=shop', '--no-headers']);
    assert.equal(selected.code, 0, selected.stderr);
    assert.match(selected.stdout, /^shell\s+target\s.*\n$/, 'only the labelled session, no header');
    const nothing = await as(() => alice, ['list', '-l', 'team=none']);
    assert.deepEqual([nothing.code, nothing.stdout, nothing.stderr], [0, '', `No resources found in ${ns.name} namespace.\n`]);
    const bad = await as(() => alice, ['list', '-o', 'jsonpath={.items']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /^error: -o jsonpath: unclosed "\{"/);
  });

  it('-w prints the session, then its change when it ends', async () => {
    assert.equal((await as(() => alice, ['create', 'target', '-u', 'alice', '--name', 'watched', '--wait'])).code, 0);
    const env = { ...process.env, KUBECONFIG: alice, PATH: `${join(REPO_ROOT, 'bin')}:${process.env.PATH ?? ''}` };
    const child = spawn('kubectl', ['execsession', '-n', ns.name, 'get', 'watched', '-w', '-o', 'jsonpath={.metadata.name} {.status.phase}{"\\n"}'], { env });
    let out = '';
    child.stdout.on('data', (b: Buffer) => void (out += b.toString()));
    try {
      await eventually('the watch to print watched Ready', async () => out.includes('watched Ready\n') || undefined, 30_000);
      assert.equal((await as(() => alice, ['revoke', 'watched'])).code, 0);
      await eventually(`the watch to print watched Terminated (so far: ${JSON.stringify(out)})`, async () => /watched Terminated\n/.test(out) || undefined, 30_000);
      assert.match(out, /^watched Ready\n(watched \w+\n)*watched Terminated\n/);
    } finally {
      child.kill('SIGINT');
    }
  });

  it('version: the plugin\'s, the operator\'s (from its discovery) and the server\'s, as alice', async () => {
    const v = await as(() => alice, ['version']);
    assert.equal(v.code, 0, v.stderr);
    assert.match(v.stdout, /^Plugin Version: 0\.1\.0\nOperator Version: 0\.1\.0\nServer Version: v1\.\d+\.\d+\S*\n$/);
    const client = await as(() => alice, ['version', '--client', '-o', 'json']);
    assert.deepEqual(JSON.parse(client.stdout), { pluginVersion: '0.1.0' });
  });

  it("prints kube-apiserver's RBAC refusal for list -A", async () => {
    const r = await plugin(alice, ['list', '-A']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^Error from server \(Forbidden\): .*User "alice" cannot list resource "execsessions" in API group "execsession\.dev" at the cluster scope/);
  });

  it('refuses approve and deny: RBAC for alice, the operator for a session that is not waiting', async () => {
    const rbac = await as(() => alice, ['approve', 'shell']);
    assert.equal(rbac.code, 1);
    assert.match(rbac.stderr, /^Error from server \(Forbidden\): .*User "alice" cannot create resource "execsessions\/approve" in API group "subresources\.execsession\.dev"/);
    for (const action of ['approve', 'deny']) {
      const r = await as(() => bob, [action, 'shell', '--reason', 'looks fine']);
      assert.equal(r.code, 1, action);
      assert.match(r.stderr, new RegExp(`^Error from server \\(NotWaitingForApproval\\): execsession ${ns.name}/shell is Ready, not WaitingForApproval`));
    }
  });

  it('approve: the admission warning names the command; bob approves, carol gets Ready', async () => {
    const c = await as(() => carol, ['create', 'target', '-u', 'alice', '--name', 'gated']);
    assert.equal(c.code, 0, c.stderr);
    assert.match(c.stderr, new RegExp(`^Warning: .*once 1 approval.*approve with: kubectl execsession approve gated -n ${ns.name}`, 'm'));
    const early = await as(() => carol, ['wait', 'gated', '--timeout', '3s']);
    assert.equal(early.code, 1);
    assert.match(early.stderr, new RegExp(`^WaitingForApproval.*\\n(.*\\n)*error: timed out after 3s waiting for execsession ${ns.name}/gated to be Ready \\(now WaitingForApproval`));
    const ok = await as(() => bob, ['approve', 'gated', '--reason', 'INC-1 checked']);
    assert.deepEqual([ok.code, ok.stdout], [0, `execsession ${ns.name}/gated approved by bob\n`], ok.stderr);
    const ready = await as(() => carol, ['wait', 'gated']);
    assert.deepEqual([ready.code, ready.stdout], [0, `execsession ${ns.name}/gated is Ready\n`], ready.stderr);
  });

  it('deny: bob denies, carol sees Denied with the reason and exits 1', async () => {
    assert.equal((await as(() => carol, ['create', 'target', '-u', 'alice', '--name', 'gated-no'])).code, 0);
    const no = await as(() => bob, ['deny', 'gated-no', '--reason', 'not today']);
    assert.deepEqual([no.code, no.stdout], [0, `execsession ${ns.name}/gated-no denied by bob\n`], no.stderr);
    const w = await as(() => carol, ['wait', 'gated-no']);
    assert.equal(w.code, 1);
    assert.match(w.stderr, new RegExp(`error: execsession ${ns.name}/gated-no is Denied: .*bob`));
  });

  it("escapes the control characters of another user's strings: carol's reason in alice's list, bob's denial in carol's wait (finding 10)", async () => {
    // A title change, a screen clear, a colour, an 8-bit CSI and a bidi override.
    const hostile = 'INC-2\x1b]0;pwned\x07\x1b[2J\x1b[31mred\x9b2J\u202eevil';
    // eslint-disable-next-line no-control-regex -- matching control characters is the point
    const rawControl = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/;
    const escaped = 'INC-2\\x1b]0;pwned\\x07\\x1b[2J\\x1b[31mred\\x9b2J\\u202eevil';
    const c = await as(() => carol, ['create', 'target', '-u', 'alice', '--name', 'hostile', '--reason', hostile]);
    assert.equal(c.code, 0, c.stderr);
    for (const args of [['list', '-o', 'wide'], ['get', 'hostile', '-o', 'wide'], ['get', 'hostile', '-o', 'yaml'], ['get', 'hostile', '-o', 'json']]) {
      const r = await as(() => alice, args);
      assert.equal(r.code, 0, r.stderr);
      assert.doesNotMatch(r.stdout, rawControl, args.join(' '));
      if (args[2] === 'wide') assert.ok(r.stdout.includes(escaped), r.stdout);
    }
    const json = JSON.parse((await as(() => alice, ['get', 'hostile', '-o', 'json'])).stdout) as ExecSession;
    assert.equal(json.spec.reason, hostile, 'JSON still reads back as written');
    assert.equal((await as(() => carol, ['create', 'target', '-u', 'alice', '--name', 'gated-hostile'])).code, 0);
    assert.equal((await as(() => bob, ['deny', 'gated-hostile', '--reason', hostile])).code, 0);
    const w = await as(() => carol, ['wait', 'gated-hostile']);
    assert.equal(w.code, 1);
    // The operator quotes the reason as JSON (ESC is \u001b there); the CLI escapes what JSON leaves raw.
    assert.doesNotMatch(w.stderr, rawControl);
    assert.match(w.stderr, /denied by user "bob" \(reason: "INC-2\\u001b\]0;pwned\\u0007\\u001b\[2J\\u001b\[31mred\\x9b2J\\u202eevil"\)/);
  });

  it('attaches without a terminal: stdin, stdout and the exit code pass through', async () => {
    const id = await as(() => alice, ['attach', 'shell', '-T', '--', 'id']);
    assert.deepEqual([id.code, id.stdout], [0, `${ID}\n`], id.stderr);
    const read = await as(() => alice, ['attach', 'shell', '-T', '--', 'sh', '-c', 'read line; echo "got $line"'], 'through stdin\n');
    assert.deepEqual([read.code, read.stdout], [0, 'got through stdin\n'], read.stderr);
    const three = await as(() => alice, ['attach', 'shell', '-T', '--', 'sh', '-c', 'echo oops >&2; exit 3']);
    assert.deepEqual([three.code, three.stdout, three.stderr], [3, '', 'oops\n']);
  });

  it('passes the end of stdin on without a terminal (v5.channel.k8s.io): cat prints a file, wc -c counts it', async () => {
    const file = 'line one\nline two\n'.repeat(500);
    const cat = await as(() => alice, ['attach', 'shell', '-T', '--', 'cat'], file);
    assert.deepEqual([cat.code, cat.stdout.length, cat.stdout === file], [0, file.length, true], cat.stderr);
    const wc = await as(() => alice, ['create', 'target', '-u', 'alice', '--ttl', '5m', '-i', '--', 'wc', '-c'], file);
    assert.deepEqual([wc.code, wc.stdout.trim()], [0, String(Buffer.byteLength(file))], wc.stderr);
  });

  it("refuses an attach with kube-apiserver's RBAC message (carol) or the operator's (bob, not the subject)", async () => {
    const rbac = await as(() => carol, ['attach', 'shell', '-T', '--', 'id']);
    assert.equal(rbac.code, 1);
    assert.match(rbac.stderr, /^Error from server \(Forbidden\): .*User "carol" cannot get resource "execsessions\/attach" in API group "subresources\.execsession\.dev"/);
    const subject = await as(() => bob, ['attach', 'shell', '-T', '--', 'id']);
    assert.equal(subject.code, 1);
    assert.match(subject.stderr, new RegExp(`^Error from server \\(NotSubject\\): only alice may attach to execsession ${ns.name}/shell`));
  });

  it('attaches with a terminal: its size, the exit code, and the terminal restored after', async () => {
    // The process starts with the terminal's size (the CLI sends it first; the operator waits for it).
    const remote = 'stty size; exit 3';
    const line = `stty -g; stty cols 91 rows 27; kubectl execsession -n ${ns.name} attach shell -- sh -c '${remote}'; echo "rc=$?"; stty -g`;
    const r = await inTerminal(alice, line);
    const lines = r.output.split(/\r?\n/).filter((l) => l.trim() !== '');
    assert.equal(r.code, 0, r.output);
    assert.equal(lines.length, 4, r.output);
    const [before, size, rc, after] = lines;
    assert.equal(size?.trim(), '27 91');
    assert.equal(rc, 'rc=3');
    assert.equal(after, before, 'stty settings differ after the attach: the terminal was left raw');
  });

  it('extends, then revokes; wait --for end sees it end', async () => {
    const before = await getSession(ns.name, 'shell');
    const e = await as(() => alice, ['extend', 'shell', '--by', '10m']);
    assert.equal(e.code, 0, e.stderr);
    const expiresAt = new Date(Date.parse(before.status?.expiresAt ?? '') + 600_000).toISOString().replace('.000Z', 'Z');
    assert.match(e.stdout, new RegExp(`^execsession ${ns.name}/shell extended by 10m: expires at ${expiresAt} \\(in \\d+ minutes\\)\\n$`));
    const r = await as(() => alice, ['revoke', 'shell', '--reason', 'done']);
    assert.deepEqual([r.code, r.stdout], [0, `execsession ${ns.name}/shell revoked by alice\n`], r.stderr);
    const w = await as(() => alice, ['wait', 'shell', '--for', 'end', '--timeout', '30s']);
    assert.equal(w.code, 0, w.stderr);
    assert.match(w.stdout, new RegExp(`^execsession ${ns.name}/shell is Terminated`));
  });

  it('takes --kubeconfig after the plugin name, and names a missing context', async () => {
    const r = await plugin('/nonexistent', ['--kubeconfig', alice, 'get', 'shell', '-n', ns.name, '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    const bad = await plugin(alice, ['list', '--context', 'nope']);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /context "nope" is not in the kubeconfig/);
  });
});
