import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ExecSession, Phase } from '../api/types.js';
import { webhookConfigurations } from './registration.js';
import { guardUninstall, liveSessions } from './uninstall-guard.js';
import type { AdmissionRequest } from './review.js';

function session(name: string, phase: Phase | undefined, expiresAt?: string): ExecSession {
  return {
    apiVersion: 'execsession.dev/v1alpha1', kind: 'ExecSession',
    metadata: { name, namespace: 'team' },
    spec: { podName: 'target', user: 'alice' },
    ...(phase ? { status: { phase, ...(expiresAt ? { expiresAt } : {}) } } : {}),
  } as ExecSession;
}

const deleteNamespace: AdmissionRequest = {
  uid: 'u1', operation: 'DELETE', name: 'execsession-system', namespace: 'execsession-system', userInfo: { username: 'admin' },
  resource: { group: '', version: 'v1', resource: 'namespaces' },
};

describe('the uninstall guard', () => {
  it('lets the install go when no session lives (ended ones stay on record and do not count)', () => {
    const r = guardUninstall(deleteNamespace, [session('done', 'Succeeded'), session('gone', 'Expired'), session('cut', 'Terminated')]);
    assert.deepEqual(r, { uid: 'u1', allowed: true });
  });

  it('refuses while a session lives, naming it, its expiry, and how to end it', () => {
    const r = guardUninstall(deleteNamespace, [session('shell', 'Ready', '2026-12-06T04:00:00Z'), session('done', 'Succeeded')]);
    assert.equal(r.allowed, false);
    assert.equal(r.status?.code, 409);
    assert.equal(r.status?.message,
      'UninstallGuard: execsession refuses to delete namespaces execsession-system while 1 session live: team/shell (Ready, expires 2026-12-06T04:00:00Z). ' +
      'Removing the operator now would leave their processes running. End them first with `kubectl execsession revoke NAME -n NAMESPACE` ' +
      '(their record stays) or wait until they expire (`kubectl get execsessions -A` lists them), then delete again.');
  });

  it('counts a session the operator has not seen yet (no status) and one waiting for approval as live, and names five at most', () => {
    const many = [session('new', undefined), session('waiting', 'WaitingForApproval'), ...['a', 'b', 'c', 'd', 'e'].map((n) => session(n, 'Ready'))];
    assert.equal(liveSessions(many).length, 7);
    const r = guardUninstall({ ...deleteNamespace, namespace: 'execsession-system', name: 'execsession-operator', resource: { group: 'apps', version: 'v1', resource: 'deployments' } }, many);
    assert.match(r.status?.message ?? '', /^UninstallGuard: execsession refuses to delete deployments\.apps execsession-system\/execsession-operator while 7 sessions live: team\/new \(Pending\), team\/waiting \(WaitingForApproval\), team\/a \(Ready\), team\/b \(Ready\), team\/c \(Ready\) and 2 more\./);
  });

  it('is registered for DELETE only, on the install\'s labelled objects, failing open', () => {
    const { validating } = webhookConfigurations({ url: 'https://10.0.0.1:9443' }, 'CA');
    const guard = validating.webhooks?.find((w) => w.name === 'uninstall.execsession.dev');
    assert.ok(guard);
    assert.equal(guard.failurePolicy, 'Ignore');
    assert.deepEqual(guard.objectSelector, { matchLabels: { 'app.kubernetes.io/part-of': 'execsession' } });
    assert.ok(guard.rules?.every((r) => r.operations?.join() === 'DELETE'));
    assert.equal(guard.clientConfig.url, 'https://10.0.0.1:9443/uninstall');
    const resources = guard.rules?.flatMap((r) => r.resources ?? []) ?? [];
    for (const kind of ['namespaces', 'deployments', 'customresourcedefinitions', 'apiservices', 'clusterroles', 'clusterrolebindings']) assert.ok(resources.includes(kind), kind);
    // The session webhooks still fail closed.
    assert.equal(validating.webhooks?.find((w) => w.name === 'validate.execsession.dev')?.failurePolicy, 'Fail');
  });
});
