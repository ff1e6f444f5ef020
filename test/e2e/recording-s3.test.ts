/**
 * Recordings in the s3 store (docs/audit.md, "Recordings"): the host-process
 * operator records to a real S3-compatible server (SeaweedFS, started by this
 * suite on loopback ports and stopped by its PID), with its credentials in
 * the environment as a Secret would give them. An attach is recorded to the
 * bucket and read back through the `recording` subresource by an auditor; the
 * credentials never appear in the operator's log; with the server down, an
 * attach that must be recorded is refused naming the store.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { text } from 'node:stream/consumers';
import { after, before, describe, it } from 'node:test';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { AUDIT_LOG } from '../../tools/cluster/components.js';
import { REPO_ROOT } from '../../tools/cluster/config.js';
import { eventually, grant, kubectl, kubectlOk, requireCluster, tempNamespace, userKubeconfig, type KubectlResult } from '../../tools/support/cluster.js';
import { OperatorProcess, grantSubresources, installCrds, waitForApi } from '../../tools/support/operator.js';
import { runTargetPod } from '../../tools/support/pods.js';
import { SeaweedS3 } from '../../tools/support/seaweedfs.js';
import { AttachRefused, attach } from '../support/attach.js';
import { createSession, waitForPhase } from '../support/sessions.js';
import { s3ClientConfig } from '../../src/recording/s3-store.js';

/** `kubectl execsession ARGS` as the kubeconfig's user; never throws. */
function plugin(kubeconfig: string, args: string[]): Promise<KubectlResult> {
  return new Promise((resolve) => {
    execFile('kubectl', ['execsession', ...args], { env: { ...process.env, KUBECONFIG: kubeconfig, PATH: `${REPO_ROOT}/bin:${process.env.PATH ?? ''}` }, timeout: 120_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

describe('recordings in S3 (SeaweedFS)', () => {
  const s3 = new SeaweedS3();
  let ns: Awaited<ReturnType<typeof tempNamespace>>;
  let operator: OperatorProcess;
  let alice: string;
  let carol: string;
  let uid = '';

  before(async () => {
    requireCluster();
    await s3.start();
    await installCrds();
    ns = await tempNamespace('recs3');
    await runTargetPod('target', ns.name, { runAsUser: 1001, runAsGroup: 1001 });
    await grant(ns.name, 'sessions', ['create', 'get', 'list', 'watch'], 'execsessions.execsession.dev', ['alice', 'carol']);
    await grant(ns.name, 'exec', ['create', 'get'], 'pods/exec', ['alice']);
    await kubectlOk(['apply', '-f', '-'], { input: JSON.stringify({
      apiVersion: 'execsession.dev/v1alpha1', kind: 'ClusterExecPolicy', metadata: { name: `recs3-${ns.name}` },
      spec: { subjects: [{ kind: 'Group', name: 'developers' }], targets: { namespaces: [ns.name] }, users: { allowedNames: ['*'] }, ttl: { default: '15m', max: '1h' }, recording: 'Required' },
    }) });
    alice = await userKubeconfig('alice', ['developers']);
    carol = await userKubeconfig('carol', ['auditors']);
    operator = new OperatorProcess(
      ['--recording-store=s3', `--recording-s3-bucket=${s3.bucket}`, `--recording-s3-endpoint=${s3.endpoint}`, '--recording-s3-path-style=true', '--recording-s3-prefix=execsession'],
      undefined,
      { env: { AWS_ACCESS_KEY_ID: s3.accessKeyId, AWS_SECRET_ACCESS_KEY: s3.secretAccessKey } },
    );
    await operator.start();
    await waitForApi();
    await grantSubresources(ns.name, 'recs3-attach', ['attach'], ['create', 'get'], ['alice']);
    await grantSubresources(ns.name, 'recs3-read', ['recording'], ['get'], ['carol']);
  });

  after(async () => {
    await ns?.remove();
    await operator?.stop();
    await kubectl(['delete', 'clusterexecpolicy', `recs3-${ns?.name}`]);
    await s3.stop();
  });

  it('records an attach into the bucket; carol replays it through the recording subresource', async () => {
    await createSession(ns.name, 'rec', { podName: 'target', user: 'alice', ttl: '15m' }, alice);
    const { session } = await waitForPhase(ns.name, 'rec', ['Ready']);
    uid = session.metadata.uid ?? '';
    assert.deepEqual(session.status?.recording, { mode: 'Required' });
    const a = await attach(alice, ns.name, 'rec', { command: ['sh', '-c', 'echo out-$((6*7)); echo err-line >&2; exit 3'], tty: false, stdin: false });
    const { status } = await a.done;
    assert.match(a.stdout(), /out-42/);
    assert.equal(status?.details?.causes?.find((c) => c.reason === 'ExitCode')?.message, '3');

    // The object, read with the S3 API directly: the store completes it as the attach ends.
    const client = new S3Client({ ...s3ClientConfig({ bucket: s3.bucket, prefix: '', endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true }), credentials: s3.credentials });
    const key = `execsession/${ns.name}/rec/${uid}/attach-1.cast`;
    const stored = await eventually('the recording to be stored whole in the bucket', async () => {
      const body = await client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key })).then(async (r) => text(r.Body as NodeJS.ReadableStream), () => '');
      return /,"x","3"\]\n$/.test(body) ? body : undefined;
    }, 20_000);
    client.destroy();
    const [headerLine, ...events] = (stored ?? '').trimEnd().split('\n');
    const header = JSON.parse(headerLine ?? '{}') as { version: number; execsession: { subject: string; containerUser: { name?: string }; uid: string } };
    assert.equal(header.version, 2);
    assert.equal(header.execsession.subject, 'alice');
    assert.equal(header.execsession.containerUser.name, 'alice');
    assert.equal(header.execsession.uid, uid);
    const output = events.map((l) => JSON.parse(l) as [number, string, string]).filter((e) => e[1] === 'o').map((e) => e[2]).join('');
    assert.match(output, /out-42/);
    assert.match(output, /err-line/);

    const list = await plugin(carol, ['-n', ns.name, 'replay', 'rec', '--list']);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, new RegExp(`^ATTACH {2}SIZE {2}CREATED {2}UID\\n1 {2}${Buffer.byteLength(stored ?? '')} {2}\\S+ {2}${uid}\\n$`));
    const raw = await plugin(carol, ['-n', ns.name, 'replay', 'rec', '-o', 'cast']);
    assert.equal(raw.code, 0, raw.stderr);
    assert.equal(raw.stdout, stored);
    const played = await plugin(carol, ['-n', ns.name, 'replay', 'rec', '--speed', '50']);
    assert.equal(played.code, 0, played.stderr);
    assert.match(played.stdout, /out-42/);
  });

  it('logs with level words, ISO times, reconcile IDs, and the Audit-Id kube-apiserver forwarded for the read', async () => {
    const lines = (await operator.logs(2000)).split('\n').flatMap((l) => { try { return [JSON.parse(l) as Record<string, string>]; } catch { return []; } });
    assert.ok(lines.length > 0 && lines.every((l) => ['debug', 'info', 'warn', 'error', 'fatal'].includes(l.level ?? '') && /^\d{4}-\d\d-\d\dT[\d:.]+Z$/.test(l.time ?? '')), 'every line: level as a word, ISO time');
    const phase = lines.find((l) => l.msg === 'phase changed' && l.namespace === ns.name && l.name === 'rec');
    assert.match(phase?.reconcileID ?? '', /^[0-9a-f-]{36}$/, 'a reconcile\'s line carries its ID, namespace and name');
    const reads = lines.filter((l) => l.msg === 'recording read' && l.namespace === ns.name && l.name === 'rec');
    assert.ok(reads.length >= 3);
    const audited = readFileSync(AUDIT_LOG, 'utf8').split('\n').filter((l) => l.includes('"recording"') && l.includes(ns.name)).map((l) => JSON.parse(l) as { auditID: string; user: { username: string }; objectRef?: { subresource?: string } });
    const ids = new Set(audited.filter((e) => e.user.username === 'carol' && e.objectRef?.subresource === 'recording').map((e) => e.auditID));
    for (const r of reads) assert.ok(ids.has(r.auditID ?? ''), `the read's auditID ${r.auditID} is an audit event of kube-apiserver`);
  });

  it('never logs the credentials', async () => {
    const logs = await operator.logs(2000);
    assert.match(logs, /"store":"s3:\/\/recordings\/execsession\/ at http:\/\/127\.0\.0\.1:\d+","msg":"recording attaches"/);
    assert.ok(!logs.includes(s3.secretAccessKey), 'the secret key is not in the log');
    assert.ok(!logs.includes(s3.accessKeyId), 'the access key id is not in the log');
  });

  it('refuses an attach that must be recorded while the S3 server is down, naming the store', async () => {
    await s3.stop(false);
    try {
      const e = await attach(alice, ns.name, 'rec', { command: ['id'], tty: false, stdin: false }).then(() => undefined, (err: unknown) => err);
      assert.ok(e instanceof AttachRefused, String(e));
      assert.equal(e.code, 503);
      const message = (JSON.parse(e.body) as { message: string }).message;
      assert.match(message, new RegExp(`must be recorded \\(recording: Required\\) and recording store s3://recordings/execsession/ at ${s3.endpoint.replace(/[.]/g, '\\.')}: cannot write`));
    } finally {
      await s3.start();
    }
    // Back up: the next attach is recorded as number 2.
    const a = await attach(alice, ns.name, 'rec', { command: ['echo', 'again'], tty: false, stdin: false });
    await a.done;
    await eventually('the second recording', async () => {
      const r = await plugin(carol, ['-n', ns.name, 'replay', 'rec', '--attach', '2', '-o', 'cast']);
      return r.code === 0 && /"x","0"\]\n$/.test(r.stdout) ? r.stdout : undefined;
    }, 20_000);
  });
});
