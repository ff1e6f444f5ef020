import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeCluster } from '../../test/support/fake-kube.js';
import type { ExecSession } from '../api/types.js';
import type { HelperClient } from '../exec/helper-client.js';
import type { PolicyEntry } from '../policy/types.js';
import { sealedPatch, sealOf } from '../signing/seal.js';
import { Authorizer } from '../authz/authorizer.js';
import { Extender } from './lifetime.js';
import { ApiError, type ActionContext } from './types.js';

/** extend, built as the aggregated API builds it: the real Authorizer over the fake cluster, the given helpers. */
const extend = (ctx: ActionContext, helpers: Pick<HelperClient, 'setDeadline'>): Promise<ExecSession> =>
  new Extender({ authorizer: new Authorizer(ctx.kube), helpers }).extend(ctx);

const NS = 'shop';
const KEY = Buffer.from('k');
const NOW = new Date('2026-11-22T10:10:00Z');
const alice = { username: 'alice', groups: ['developers'], extra: {} };

const policy = (max: string): PolicyEntry => ({
  kind: 'ExecPolicy',
  policy: {
    apiVersion: 'execsession.dev/v1alpha1', kind: 'ExecPolicy', metadata: { name: 'dev', namespace: NS },
    spec: { subjects: [{ kind: 'Group', name: 'developers' }], users: { allowedNames: ['*'] }, ttl: { max } },
  },
});

/** A Ready session that started at 10:00:00 and expires at 10:50:01, as in the report of finding 9. */
function setup(max = '168h', recorded: Partial<ExecSession['status']> = {}, specExtra: Partial<ExecSession['spec']> = {}): { ctx: (body: Record<string, unknown>) => ActionContext; deadlines: Date[] } {
  const c = new FakeCluster();
  c.addPod(NS, 'db');
  c.pods.set('execsession-system/h', { metadata: { name: 'h', namespace: 'execsession-system' }, spec: { containers: [{ name: 'helper' }], activeDeadlineSeconds: 200 * 3600 }, status: { startTime: new Date('2026-11-22T10:00:00Z') } });
  c.policies = [policy(max)];
  const session: ExecSession = {
    apiVersion: 'execsession.dev/v1alpha1', kind: 'ExecSession',
    metadata: { name: 'dbg', namespace: NS, uid: 'u1' },
    spec: { podName: 'db', user: 'alice', ttl: '50m1s', requester: { username: 'alice', groups: ['developers'], stampedAt: '2026-11-22T10:00:00Z', signature: 'x' }, ...specExtra },
    status: { phase: 'Ready', startedAt: '2026-11-22T10:00:00Z', expiresAt: '2026-11-22T10:50:01Z', helperPod: { namespace: 'execsession-system', name: 'h' }, user: { uid: 1000, gid: 1000, groups: [1000], name: 'alice', home: '/home/alice', root: false, rootGroup: false }, ...recorded },
  };
  // The operator sealed this status when it started the session (finding 5).
  session.status = { ...session.status, seal: sealOf(KEY, session, session.status ?? {}) };
  c.addSession(session);
  const deadlines: Date[] = [];
  const helpers = { setDeadline: async (_h: unknown, d: Date) => void deadlines.push(d) } as unknown as HelperClient;
  return {
    deadlines,
    ctx: (body) => ({ kube: c.kube(), caller: alice, namespace: NS, name: 'dbg', body, stampKey: KEY, now: NOW, helpers } as ActionContext & { helpers: HelperClient }),
  };
}

async function refusal(ctx: ActionContext): Promise<ApiError> {
  const helpers = (ctx as ActionContext & { helpers: HelperClient }).helpers;
  try {
    await extend(ctx, helpers);
  } catch (e) {
    if (e instanceof ApiError) return e;
    throw e;
  }
  assert.fail('extend did not refuse');
}

describe('extend (finding 9: every bad extension is a 400 naming the field and the limit)', () => {
  it('refuses an extension past 168h from the start with 400, naming by, the limit and what is left', async () => {
    const e = await refusal(setup().ctx({ by: '168h' }));
    assert.equal(e.code, 400);
    assert.equal(e.reason, 'BadRequest');
    assert.equal(e.message, 'by: extending execsession shop/dbg by 168h would make it last 168h50m1s from its start, and a session lasts at most 168h (7 days); extend by at most 167h9m59s');
  });

  it('says when a session cannot be extended at all', async () => {
    const c = setup();
    // A session that already lasts 168h, as the operator sealed it.
    const { kube } = c.ctx({});
    const current = await kube.getSession(NS, 'dbg');
    await kube.patchSessionStatus(NS, 'dbg', sealedPatch(KEY, current!, { expiresAt: '2026-11-29T10:00:00Z' }));
    const e = await refusal(c.ctx({ by: '1s' }));
    assert.equal(e.code, 400);
    assert.match(e.message, /it cannot be extended further; create a new session$/);
  });

  const malformed: [string, unknown, RegExp][] = [
    ['more than 168h at once', '169h', /^by: invalid duration "169h": must be at most 168h/],
    ['zero', '0s', /^by: invalid duration "0s": must be more than zero/],
    ['no unit', '15', /^by: invalid duration "15": use a number with a unit/],
    ['a negative duration', '-5m', /^by: invalid duration "-5m"/],
    ['a number', 900, /^extend needs \{"by": DURATION\}/],
    ['nothing', undefined, /^extend needs \{"by": DURATION\}/],
  ];
  for (const [name, by, message] of malformed) {
    it(`refuses ${name} with 400`, async () => {
      const e = await refusal(setup().ctx(by === undefined ? {} : { by }));
      assert.equal(e.code, 400);
      assert.match(e.message, message);
    });
  }

  it('leaves what 168h allows to the policy: beyond its ttl.max is 403', async () => {
    const e = await refusal(setup('1h').ctx({ by: '1h' }));
    assert.equal(e.code, 403);
    assert.equal(e.reason, 'TtlTooLong');
  });

  it('extends within both', async () => {
    const { ctx, deadlines } = setup();
    const c = ctx({ by: '15m' });
    const s = await extend(c, (c as ActionContext & { helpers: HelperClient }).helpers);
    assert.equal(s.status?.expiresAt, '2026-11-22T11:05:01Z');
    assert.deepEqual(deadlines, [new Date('2026-11-22T11:05:01Z')]);
  });

  it('stops at status.extendableUntil, recorded at the start, without asking the helper pod', async () => {
    const { ctx, deadlines } = setup('168h', { extendableUntil: '2026-11-22T11:00:00Z' });
    const beyond = await refusal(ctx({ by: '15m' }));
    assert.equal(beyond.code, 403);
    assert.equal(beyond.reason, 'BeyondHelperDeadline');
    assert.match(beyond.message, /^cannot extend execsession shop\/dbg past 2026-11-22T11:00:00Z, the longest its policy allowed when it started/);
    const c = ctx({ by: '5m' });
    const s = await extend(c, (c as ActionContext & { helpers: HelperClient }).helpers);
    assert.equal(s.status?.expiresAt, '2026-11-22T10:55:01Z');
    assert.equal(s.status?.extendableUntil, '2026-11-22T11:00:00Z', 'extend moves expiresAt only');
    assert.deepEqual(deadlines, [new Date('2026-11-22T10:55:01Z')]);
  });

  it('never moves expiresAt past spec.notAfter, even within ttl.max: 403 BeyondNotAfter naming it', async () => {
    const { ctx, deadlines } = setup('168h', { extendableUntil: '2026-11-22T12:00:00Z' }, { notAfter: '2026-11-22T11:00:00Z' });
    const beyond = await refusal(ctx({ by: '10m' }));
    assert.equal(beyond.code, 403);
    assert.equal(beyond.reason, 'BeyondNotAfter');
    assert.match(beyond.message, /^cannot extend execsession shop\/dbg past 2026-11-22T11:00:00Z, its spec\.notAfter \(the absolute end it was created with\)/);
    assert.deepEqual(deadlines, [], 'the helper\'s deadline is not moved');
    const c = ctx({ by: '9m59s' });
    const s = await extend(c, (c as ActionContext & { helpers: HelperClient }).helpers);
    assert.equal(s.status?.expiresAt, '2026-11-22T11:00:00Z');
  });
});
