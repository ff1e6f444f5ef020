import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ExecSession, Phase } from '../api/types.js';
import type { Api } from './client.js';
import { ApiError } from './errors.js';
import { reached, waitForSession } from './wait.js';

const session = (phase?: Phase, message?: string): ExecSession => ({
  apiVersion: 'execsession.dev/v1alpha1', kind: 'ExecSession', metadata: { name: 'x', namespace: 'ns' }, spec: { podName: 'p', user: 'u' },
  ...(phase ? { status: { phase, ...(message ? { message } : {}) } } : {}),
});

/** An Api whose GETs answer from a script: sessions, or errors to throw. */
function scriptedApi(answers: (ExecSession | Error)[]): Api & { gets: number } {
  const api = {
    namespace: 'ns', server: 'https://k', gets: 0,
    request: async <T>(): Promise<T> => {
      const a = answers[Math.min(api.gets++, answers.length - 1)]!;
      if (a instanceof Error) throw a;
      return a as T;
    },
    watch: async () => assert.fail('wait polls; it does not watch'),
    stream: async () => assert.fail('no recordings here'), httpsOptions: async () => ({}),
    debug: () => undefined,
  };
  return api;
}

/** A fake clock that sleeping advances. */
function fakeTime(): { clock: () => number; sleep: (ms: number) => Promise<void> } {
  let t = 0;
  return { clock: () => t, sleep: async (ms: number) => void (t += ms) };
}

describe('reached', () => {
  it('ready: Ready or Running or any end; end: only the end', () => {
    const cases: [Phase | undefined, boolean, boolean][] = [
      [undefined, false, false], ['Pending', false, false], ['WaitingForApproval', false, false], ['Approved', false, false], ['Starting', false, false],
      ['Ready', true, false], ['Running', true, false], ['Succeeded', true, true], ['Failed', true, true], ['Expired', true, true],
      ['Denied', true, true], ['Terminated', true, true],
    ];
    for (const [phase, ready, end] of cases) {
      assert.equal(reached(session(phase), 'ready'), ready, `${phase} ready`);
      assert.equal(reached(session(phase), 'end'), end, `${phase} end`);
    }
  });
});

describe('waitForSession', () => {
  it('polls until Ready', async () => {
    const api = scriptedApi([session(), session('Pending'), session('Starting'), session('Ready')]);
    const s = await waitForSession(api, 'ns', 'x', 'ready', { timeoutMs: 60_000, ...fakeTime() });
    assert.equal(s.status?.phase, 'Ready');
    assert.equal(api.gets, 4);
  });

  it('rides out transient errors, not a deleted session', async () => {
    const flaky = scriptedApi([new ApiError(503, 'ServiceUnavailable', 'x'), session('Ready')]);
    assert.equal((await waitForSession(flaky, 'ns', 'x', 'ready', { timeoutMs: 60_000, ...fakeTime() })).status?.phase, 'Ready');
    const gone = scriptedApi([session('Pending'), new ApiError(404, 'NotFound', 'gone')]);
    await assert.rejects(waitForSession(gone, 'ns', 'x', 'ready', { timeoutMs: 60_000, ...fakeTime() }), /execsession ns\/x not found/);
  });

  it('times out naming the phase, the message, and how to wait longer', async () => {
    const api = scriptedApi([session('WaitingForApproval', 'needs 1 approval')]);
    await assert.rejects(waitForSession(api, 'ns', 'x', 'ready', { timeoutMs: 2_000, ...fakeTime() }),
      /timed out after 2s waiting for execsession ns\/x to be Ready \(now WaitingForApproval: needs 1 approval\); wait longer with "kubectl execsession wait x -n ns --timeout 10m"/);
  });
});
