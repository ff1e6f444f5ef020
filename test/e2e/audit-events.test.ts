/**
 * The operator's own audit events (docs/audit.md, "Audit events"), end to end,
 * against the host-process operator with --audit-sink=recording over the file
 * recording store in a directory this suite creates: one full session, asked
 * for by alice under a policy that needs one approval from group approvers,
 * approved by carol, started, attached by alice with a command (recorded),
 * extended by alice, revoked by carol, ended by the operator. Its events are
 * read back from the store (NAMESPACE/NAME/UID/audit.jsonl) and from the
 * operator's log, and must say the same thing in the same order.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AUDIT_API_VERSION, dedupe, parseAuditLines, type AuditEvent } from '../../src/audit/event.js';
import { eventually, grant, kubectl, kubectlOk, requireCluster, tempNamespace, userKubeconfig } from '../../tools/support/cluster.js';
import { API_GROUP_VERSION, OperatorProcess, grantSubresources, installCrds, waitForApi } from '../../tools/support/operator.js';
import { runTargetPod } from '../../tools/support/pods.js';
import { attach } from '../support/attach.js';
import { createSession, waitForPhase } from '../support/sessions.js';

/** The audit events in the operator's log: lines with msg "audit", the event under "audit". */
function auditLines(log: string): AuditEvent[] {
  const out: AuditEvent[] = [];
  for (const line of log.split('\n')) {
    if (!line.includes('"msg":"audit"')) continue;
    try {
      const e = (JSON.parse(line) as { audit?: AuditEvent }).audit;
      if (e) out.push(e);
    } catch {
      // Not one of the operator's JSON lines.
    }
  }
  return out;
}

/** The events of one session in the operator's log. */
function fromLog(log: string, uid: string): AuditEvent[] {
  return auditLines(log).filter((e) => e.session.uid === uid);
}

type ByType = Record<string, AuditEvent | undefined>;

/** What the request, approval, start, extension, revocation and ending say. */
function stepFields(by: ByType, namespace: string): void {
  assert.equal(by.requested?.reason, 'INC-7');
  assert.equal(by.approved?.reason, 'looked at INC-7');
  assert.deepEqual([by.started?.policy, by.started?.phase, by.started?.containerUser.uid], [`ExecPolicy/${namespace}/needs-approval`, 'Ready', 1000]);
  assert.equal(by.extended?.extendedBy, '5m');
  assert.ok(Date.parse(by.extended?.expiresAt ?? '') > Date.parse(by.started?.expiresAt ?? ''), 'the extension moved the expiry');
  assert.equal(by.revoked?.reason, 'done with INC-7');
  assert.deepEqual([by.ended?.phase, by.ended?.reason, by.ended?.by], ['Terminated', 'Revoked', 'carol']);
}

/** The attach, its detach and its recording name the same attach; the command and exit code. */
function attachFields(by: ByType, recording: string): void {
  assert.deepEqual([by.attached?.command, by.detached?.command, by.detached?.exitCode], [['id', '-un'], ['id', '-un'], 0]);
  assert.equal(by.attached?.attach, by.detached?.attach, 'the attach and its detach name the same attach');
  assert.equal(by.recordingStored?.attach, by.attached?.attach);
  assert.equal(by.recordingStored?.recording, recording);
}

describe('audit events of one full session', () => {
  let ns: Awaited<ReturnType<typeof tempNamespace>>;
  let operator: OperatorProcess;
  let dir: string;
  let alice: string;
  let carol: string;

  const subresource = (name: string, sub: string): string => `/apis/${API_GROUP_VERSION}/namespaces/${ns.name}/execsessions/${name}/${sub}`;
  const post = (who: string, name: string, sub: string, body: object): Promise<string> =>
    kubectlOk(['create', '--raw', subresource(name, sub), '-f', '-'], { kubeconfig: who, input: JSON.stringify(body) });

  before(async () => {
    requireCluster();
    await installCrds();
    dir = await mkdtemp(join(tmpdir(), 'execsession-audit-'));
    ns = await tempNamespace('audit-events');
    await runTargetPod('target', ns.name, { runAsUser: 1001, runAsGroup: 1001 });
    await grant(ns.name, 'sessions', ['create', 'get', 'list'], 'execsessions.execsession.dev', ['alice']);
    await grant(ns.name, 'exec', ['create', 'get'], 'pods/exec', ['alice']);
    await kubectlOk(['apply', '-f', '-'], { input: JSON.stringify({
      apiVersion: 'execsession.dev/v1alpha1', kind: 'ExecPolicy', metadata: { name: 'needs-approval', namespace: ns.name },
      spec: {
        subjects: [{ kind: 'Group', name: 'developers' }], users: { allowedNames: ['*'] }, ttl: { default: '15m', max: '1h' },
        approval: { required: 1, approvers: [{ kind: 'Group', name: 'approvers' }], blockSelfApproval: true, timeout: '10m' },
      },
    }) });
    alice = await userKubeconfig('alice', ['developers']);
    carol = await userKubeconfig('carol', ['approvers']);
    // The host process, whatever EXECSESSION_E2E_OPERATOR says: this suite reads the store's directory and the log.
    operator = new OperatorProcess(['--recording-store=file', `--recording-dir=${dir}`, '--audit-sink=recording']);
    await operator.start();
    await waitForApi();
    // Created once the operator serves the API: kube-apiserver checks subresources against discovery.
    await grantSubresources(ns.name, 'audit-attach', ['attach', 'extend'], ['create', 'get'], ['alice']);
    await grantSubresources(ns.name, 'audit-approve', ['approve', 'deny', 'revoke'], ['create'], ['carol']);
  });

  after(async () => {
    await ns?.remove();
    await operator?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('requested, approved, started, attached, detached, recording stored, extended, revoked, ended: each once, by whom, in the store and the log alike', async () => {
    await createSession(ns.name, 'full', { podName: 'target', user: 'alice', ttl: '15m', reason: 'INC-7' }, alice);
    const { session } = await waitForPhase(ns.name, 'full', ['WaitingForApproval']);
    const uid = session.metadata.uid ?? '';
    const file = join(dir, ns.name, 'full', uid, 'audit.jsonl');
    const stored = async (): Promise<AuditEvent[]> => dedupe(parseAuditLines(await readFile(file, 'utf8').catch(() => '')));
    const until = (type: string): Promise<AuditEvent[] | undefined> =>
      eventually(`the audit event ${type}`, async () => ((await stored()).some((e) => e.type === type) ? stored() : undefined), 30_000, 100);

    await post(carol, 'full', 'approve', { reason: 'looked at INC-7' });
    await waitForPhase(ns.name, 'full', ['Ready']);
    const a = await attach(alice, ns.name, 'full', { command: ['id', '-un'], tty: false, stdin: false });
    const { status } = await a.done;
    assert.equal(status?.status, 'Success', JSON.stringify(status));
    assert.equal(a.stdout().trim(), 'alice');
    // Stored once the attach's recording is complete: after the detach, and before the extension that follows.
    await until('recordingStored');
    await post(alice, 'full', 'extend', { by: '5m' });
    await until('extended');
    await post(carol, 'full', 'revoke', { reason: 'done with INC-7' });
    await waitForPhase(ns.name, 'full', ['Terminated']);
    const events = (await until('ended')) ?? [];

    assert.deepEqual(events.map((e) => [e.type, e.actor.kind, e.actor.username]), [
      ['requested', 'user', 'alice'],
      ['approved', 'user', 'carol'],
      ['started', 'operator', 'execsession-operator'],
      ['attached', 'user', 'alice'],
      ['detached', 'user', 'alice'],
      ['recordingStored', 'operator', 'execsession-operator'],
      ['extended', 'user', 'alice'],
      ['revoked', 'user', 'carol'],
      ['ended', 'operator', 'execsession-operator'],
    ]);
    for (const e of events) {
      assert.deepEqual([e.apiVersion, e.kind, e.session, e.subject, e.pod, e.containerUser.spec], [AUDIT_API_VERSION, 'Event', { namespace: ns.name, name: 'full', uid }, 'alice', 'target', 'alice']);
      assert.match(e.time, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
    }
    stepFields(Object.fromEntries(events.map((e) => [e.type, e])), ns.name);
    attachFields(Object.fromEntries(events.map((e) => [e.type, e])), `file:${dir} ${ns.name}/full/${uid}/attach-1.cast`);
    assert.equal(new Set(events.map((e) => e.id)).size, events.length);

    // The log carries the same events (each once per emission; a reader drops repeats by id).
    const logged = await eventually('the ended event in the log', async () => {
      const l = dedupe(fromLog(await operator.logs(5000), uid));
      return l.some((e) => e.type === 'ended') ? l : undefined;
    }, 15_000, 100);
    assert.deepEqual(logged, events);
  });

  it('a session the webhook refuses is audited in the log as requested by alice, then denied by the operator', async () => {
    const r = await kubectl(['create', '-f', '-'], { kubeconfig: alice, input: JSON.stringify({
      apiVersion: 'execsession.dev/v1alpha1', kind: 'ExecSession', metadata: { name: 'too-long', namespace: ns.name },
      spec: { podName: 'target', user: 'alice', ttl: '2h' },
    }) });
    assert.notEqual(r.code, 0);
    const events = await eventually('the refusal in the log', async () => {
      const mine = auditLines(await operator.logs(5000)).filter((e) => e.session.name === 'too-long' && e.session.namespace === ns.name);
      return mine.length >= 2 ? dedupe(mine) : undefined;
    }, 15_000, 100);
    assert.deepEqual(events?.map((e) => [e.type, e.actor.username, e.reason, e.session.uid]), [
      ['requested', 'alice', undefined, ''],
      ['denied', 'execsession-operator', 'TtlTooLong', ''],
    ]);
    assert.equal(events?.[0]?.requestUID, events?.[1]?.requestUID);
  });
});
