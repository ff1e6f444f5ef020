// The reconcile-level tier, in the style of kubernetes/sample-controller's
// controller_test.go: the Reconciler is built from fakes (a fake API server, a
// fake helper pod, the real Authorizer and policy over the fake, a clock the test
// moves), and each test drives reconcile('shop/dbg') phase by phase, asserting the
// writes it made (in order) and the requeue it asked for. No cluster, no timers.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sealProblem } from '../signing/seal.js';
import { KEY, NS, HELPER, SESSION, RETENTION_MS, POLICY, MIN, at, targetPod, Scenario, PATCH, FINALIZE, CREATE_HELPER, DELETE_HELPER, helperExpiry } from '../../test/support/reconcile-scenario.js';

describe('reconcile: a new session starts', () => {
  it('adds the finalizer, records its lifetime (sealed), then creates the helper from it, and looks again in 500ms', async () => {
    const t = new Scenario({ now: at('2026-11-22T10:00:01.300Z') });
    const out = await t.reconcile();
    assert.deepEqual(t.writes(), [FINALIZE, PATCH, CREATE_HELPER, 'create events Normal Starting']);
    assert.deepEqual(out, { requeueAfterMs: 500 });
    const st = t.session.status;
    assert.equal(st?.phase, 'Starting');
    // No spec.ttl: the policy's ttl.default (5m), counted from the start rounded up to a whole second.
    assert.deepEqual([st?.startedAt, st?.expiresAt, st?.extendableUntil], ['2026-11-22T10:00:02Z', '2026-11-22T10:05:02Z', '2026-11-22T10:10:02Z']);
    assert.equal(sealProblem(KEY, t.session), undefined);
    assert.equal(helperExpiry(t.helper), String(Date.parse('2026-11-22T10:05:02Z') / 1000), 'the helper ends the session at the recorded expiry');
    // The kubelet deadline covers the furthest extension (10:10:02) plus its backstop grace (10s).
    assert.equal(t.helper?.spec?.activeDeadlineSeconds, 601 + 10);
  });

  it("takes the session's own ttl over the policy's default", async () => {
    const t = new Scenario({ spec: { ttl: '8m' }, now: at('2026-11-22T10:00:01Z') });
    await t.reconcile();
    assert.deepEqual([t.session.status?.startedAt, t.session.status?.expiresAt], ['2026-11-22T10:00:01Z', '2026-11-22T10:08:01Z']);
  });

  it('under a policy without ttl.default, takes the one fallback (15m), or ttl.max when shorter', async () => {
    const fallback = new Scenario({ policy: { ttl: { max: '1h' } } });
    await fallback.reconcile();
    assert.equal(fallback.session.status?.expiresAt, '2026-11-22T10:15:01Z');
    const capped = new Scenario({ policy: { ttl: { max: '10m' } } });
    await capped.reconcile();
    assert.equal(capped.session.status?.expiresAt, '2026-11-22T10:10:01Z');
  });

  it('denies a session whose ttl is above ttl.max before anything runs, naming the limit', async () => {
    const t = new Scenario({ spec: { ttl: '20m' } });
    const out = await t.reconcile();
    assert.deepEqual(t.writes(), [FINALIZE, PATCH, 'create events Warning TtlTooLong']);
    assert.equal(t.session.status?.phase, 'Denied');
    assert.match(t.session.status?.message ?? '', /at most 10m \(ttl\.max\), and this one asks for 20m/);
    assert.equal(t.session.status?.expiresAt, undefined);
    assert.deepEqual(out, { requeueAfterMs: 0 });
    assert.deepEqual(await t.reconcile(), { requeueAfterMs: RETENTION_MS }, 'nothing to clean up; kept for the retention');
  });
});

describe('reconcile: Starting to Ready', () => {
  it('waits for the helper without writing, then goes Ready as the resolved user', async () => {
    const t = new Scenario();
    await t.reconcile();
    t.writes();
    t.advance(1000);
    assert.deepEqual(await t.reconcile(), { requeueAfterMs: 1000 });
    assert.deepEqual(t.writes(), []);
    t.helperRuns();
    const out = await t.reconcile();
    assert.deepEqual(t.writes(), [PATCH, 'create events Normal Ready']);
    assert.deepEqual(t.helpers.calls, ['inspect execsession-u1']);
    assert.equal(t.session.status?.phase, 'Ready');
    assert.equal(t.session.status?.user?.uid, 1000);
    assert.equal(t.reason(), 'SessionReady');
    assert.deepEqual(out, { requeueAfterMs: 30_000 }, 'a live session looks again every 30s at the latest');
  });

  it('records the policy\'s recording mode in status when it goes live, sealed', async () => {
    const t = new Scenario({ policy: { recording: 'Required', recordInput: true } });
    await t.reconcile();
    t.helperRuns();
    await t.reconcile();
    assert.equal(t.session.status?.phase, 'Ready');
    assert.deepEqual(t.session.status?.recording, { mode: 'Required', input: true });
    assert.equal(sealProblem(KEY, t.session), undefined);
  });

  it('fails a helper that does not run within the start timeout, counted from its creation', async () => {
    const t = new Scenario();
    await t.reconcile();
    t.writes();
    t.advance(121_000);
    assert.deepEqual(await t.reconcile(), { requeueAfterMs: 0 }, 'the clean-up is queued behind');
    assert.equal(t.session.status?.phase, 'Failed');
    assert.equal(t.reason(), 'HelperUnschedulable');
    assert.deepEqual(t.writes(), [PATCH, 'create events Warning HelperUnschedulable']);
    await t.reconcile();
    assert.deepEqual(t.writes(), [DELETE_HELPER]);
  });
});

describe('reconcile: a live session ends', () => {
  it('requeues at its expiry when sooner than 30s, and at expiresAt ends Expired (TtlElapsed), its helper retired; deleted after retention', async () => {
    const t = new Scenario();
    await t.ready();
    t.now = new Date(Date.parse(t.session.status?.expiresAt ?? '') - 10_000);
    assert.deepEqual(await t.reconcile(), { requeueAfterMs: 10_000 });
    assert.deepEqual(t.writes(), []);
    t.advance(10_000);
    // Status first, in one reconcile; the helper in the next (ADR 36).
    assert.deepEqual(await t.reconcile(), { requeueAfterMs: 0 });
    assert.deepEqual(t.writes(), [PATCH, 'create events Normal Expired']);
    assert.equal(t.session.status?.phase, 'Expired');
    assert.equal(t.reason(), 'TtlElapsed');
    const out = await t.reconcile();
    assert.deepEqual(t.writes(), [DELETE_HELPER]);
    assert.deepEqual(t.helpers.calls.slice(-1), ['retire execsession-u1']);
    assert.deepEqual(out, { requeueAfterMs: RETENTION_MS });
    t.advance(RETENTION_MS);
    assert.deepEqual(await t.reconcile(), {});
    assert.deepEqual(t.writes(), [`delete execsessions ${SESSION}`]);
  });

  it('expired while no operator ran: ended when its helper ended it (the kubelet\'s record), else when the operator saw it', async () => {
    for (const helperRecord of [true, false]) {
      const t = new Scenario();
      await t.ready();
      const expiresAt = t.session.status?.expiresAt ?? '';
      const message = `expired ${Date.parse(expiresAt) / 1000}\nkilled 1\n`;
      // The kubelet's report once the helper ended the session and exited at expiresAt; or the helper deleted, with no record.
      if (t.helper && helperRecord) t.helper.status = { phase: 'Succeeded', containerStatuses: [{ name: 'helper', image: 'h', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 0, message, finishedAt: new Date(expiresAt) } } }] };
      else t.c.pods.delete(HELPER);
      t.now = new Date(Date.parse(expiresAt) + 7_000);
      await t.reconcile();
      assert.equal(t.session.status?.phase, 'Expired');
      // The helper's record without its clean-up time: the last millisecond of the kubelet's whole second
      // (an end never reported earlier than it was); else when the operator saw it. Conditions keep whole seconds.
      const want = helperRecord ? new Date(Date.parse(expiresAt) + 999) : t.now;
      assert.deepEqual([t.session.status?.endedAt, t.session.status?.conditions?.find((x) => x.type === 'Expired')?.lastTransitionTime], [want.toISOString(), want.toISOString().replace(/\.\d{3}Z$/, 'Z')]);
    }
  });

  it('expired while no operator acted, its helper still shown running: waits (at most 3 s) for the kubelet to record the helper\'s own end, and reports that', async () => {
    for (const recordedAfter of [2, undefined]) {
      const t = new Scenario();
      await t.ready();
      const expiresAt = t.session.status?.expiresAt ?? '';
      const message = `expired ${Date.parse(expiresAt) / 1000}\nkilled 1\n`;
      // The operator comes back 1.5 s late; the helper exited at expiresAt, and the kubelet reports it after two looks (or never).
      t.now = new Date(Date.parse(expiresAt) + 1_500);
      t.actingSince = t.now.getTime() - 100;
      t.onPause = (x) => {
        if (recordedAfter !== undefined && x.pauses.length === recordedAfter && x.helper) {
          x.helper.status = { phase: 'Succeeded', containerStatuses: [{ name: 'helper', image: 'h', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 0, message, finishedAt: new Date(expiresAt) } } }] };
        }
      };
      await t.reconcile();
      assert.equal(t.session.status?.phase, 'Expired');
      const want = recordedAfter !== undefined ? new Date(Date.parse(expiresAt) + 999) : t.now;
      assert.equal(t.session.status?.endedAt, want.toISOString());
      // Two looks and it is there; never recorded: 12 looks of 250 ms, then the operator's own time.
      assert.deepEqual(t.pauses, Array<number>(recordedAfter ?? 12).fill(250));
    }
  });

  it('expired late behind this operator\'s own backlog (it acted since before expiresAt): ended at once, at its own time, no wait', async () => {
    const t = new Scenario();
    await t.ready();
    const expiresAt = Date.parse(t.session.status?.expiresAt ?? '');
    t.actingSince = expiresAt - 60_000;
    t.now = new Date(expiresAt + 1_500);
    await t.reconcile();
    assert.equal(t.session.status?.phase, 'Expired');
    assert.equal(t.session.status?.endedAt, t.now.toISOString());
    assert.deepEqual(t.pauses, []);
  });

  it('expired on time (within 0.5 s), its helper still running: ended at once, no wait for a record', async () => {
    const t = new Scenario();
    await t.ready();
    t.now = new Date(Date.parse(t.session.status?.expiresAt ?? '') + 400);
    await t.reconcile();
    assert.equal(t.session.status?.phase, 'Expired');
    assert.equal(t.session.status?.endedAt, t.now.toISOString());
    assert.deepEqual(t.pauses, []);
  });

  it('ends a revoked session Terminated (Revoked) at once', async () => {
    const t = new Scenario();
    await t.ready();
    await t.kube.patchSessionStatus(NS, 'dbg', { revocation: { username: 'admin', at: '2026-11-22T10:01:00Z', reason: 'INC-9' } });
    t.writes();
    await t.reconcile();
    await t.reconcile();
    assert.deepEqual(t.writes(), [PATCH, 'create events Normal Terminated', DELETE_HELPER]);
    assert.equal(t.session.status?.phase, 'Terminated');
    assert.equal(t.reason(), 'Revoked');
    assert.match(t.session.status?.message ?? '', /^revoked by admin at 2026-11-22T10:01:00Z: INC-9$/);
  });

  it('ends a session whose helper pod is gone Failed (HelperGone)', async () => {
    const t = new Scenario();
    await t.ready();
    t.c.pods.delete(HELPER);
    await t.reconcile();
    assert.deepEqual(t.writes(), [PATCH, 'create events Warning HelperGone']);
    assert.equal(t.reason(), 'HelperGone');
    assert.equal(t.session.status?.phase, 'Failed');
    assert.match(t.session.status?.message ?? '', /the helper pod is gone/);
  });

  it('ends a session whose target container restarted Terminated (TargetGone), and one whose target was deleted', async () => {
    const t = new Scenario();
    await t.ready();
    t.c.pods.set(`${NS}/web`, targetPod('def456def456'));
    await t.reconcile();
    await t.reconcile();
    assert.deepEqual(t.writes(), [PATCH, 'create events Normal Terminated', DELETE_HELPER]);
    assert.equal(t.reason(), 'TargetGone');
    assert.match(t.session.status?.message ?? '', /was restarted/);
    const gone = new Scenario();
    await gone.ready();
    gone.c.pods.delete(`${NS}/web`);
    await gone.reconcile();
    assert.match(gone.session.status?.message ?? '', /was deleted/);
  });
});

describe('reconcile: a one-shot command and a deleted session', () => {
  it('starts the job once, waits for it without writing, and records its result', async () => {
    const t = new Scenario({ spec: { tty: false, command: ['id'] } });
    await t.reconcile();
    t.helperRuns();
    t.writes();
    assert.deepEqual(await t.reconcile(), { requeueAfterMs: 0 });
    assert.deepEqual(t.writes(), [PATCH, 'create events Normal Running']);
    assert.equal(t.session.status?.phase, 'Running');
    assert.deepEqual(await t.reconcile(), { requeueAfterMs: 0 });
    assert.deepEqual(t.writes(), []);
    t.helpers.jobResult = { exitCode: 0, stdout: 'uid=1000(alice)\n', stderr: '', truncated: false };
    await t.reconcile();
    await t.reconcile();
    assert.deepEqual(t.helpers.calls, ['inspect execsession-u1', 'startJob execsession-u1 command', 'waitJob execsession-u1 command', 'waitJob execsession-u1 command', 'retire execsession-u1']);
    assert.equal(t.session.status?.phase, 'Succeeded');
    assert.equal(t.session.status?.result?.stdout, 'uid=1000(alice)\n');
  });

  it('kubectl delete: ends a live session Terminated, retires its helper, then lets the object go', async () => {
    const t = new Scenario();
    await t.ready();
    t.session.metadata.deletionTimestamp = t.now as never;
    assert.deepEqual(await t.reconcile(), {});
    assert.deepEqual(t.writes(), [PATCH, 'create events Normal Terminated', DELETE_HELPER, `update execsessions ${SESSION} finalizers`]);
    assert.equal(t.session.status?.phase, 'Terminated');
    assert.deepEqual(t.session.metadata.finalizers, []);
  });
});

describe('reconcile: a start that runs again', () => {
  it('reuses the recorded lifetime: the helper made again expires when the first would have', async () => {
    const t = new Scenario();
    await t.reconcile();
    const first = { ...t.session.status };
    const firstExpiry = helperExpiry(t.helper);
    t.writes();
    t.c.pods.delete(HELPER);
    t.advance(2 * MIN);
    assert.deepEqual(await t.reconcile(), { requeueAfterMs: 500 });
    assert.deepEqual(t.writes(), [CREATE_HELPER, 'create events Normal Starting'], 'nothing in status changed');
    assert.deepEqual([t.session.status?.startedAt, t.session.status?.expiresAt, t.session.status?.extendableUntil], [first.startedAt, first.expiresAt, first.extendableUntil]);
    assert.equal(helperExpiry(t.helper), firstExpiry);
    assert.equal(t.helper?.spec?.activeDeadlineSeconds, 600 - 120 + 10, 'its kubelet deadline still ends at the recorded limit');
  });

  it('does not move the expiry when the policy changed since the start', async () => {
    const t = new Scenario();
    await t.reconcile();
    const expiresAt = t.session.status?.expiresAt;
    t.c.pods.delete(HELPER);
    t.c.policies = [{ kind: 'ExecPolicy', policy: { apiVersion: 'execsession.dev/v1alpha1', kind: 'ExecPolicy', metadata: { name: 'dev', namespace: NS }, spec: { ...POLICY, ttl: { default: '1m', max: '10m' } } } }];
    await t.reconcile();
    assert.equal(t.session.status?.expiresAt, expiresAt);
  });
});
