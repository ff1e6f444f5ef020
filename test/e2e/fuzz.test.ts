/**
 * Hostile input through the real API server (issue 17, item 2): at least 500
 * generated cases a run (test/support/fuzz.ts), seeded, the seed printed
 * (EXECSESSION_FUZZ_SEED=<seed> reproduces a run). Most are dry-run creates
 * (`dryRun=All`, `fieldValidation=Strict`, as kubectl sends): the CRD schema and
 * both admission webhooks judge them and nothing is stored. Each must be accepted
 * (a session then carries the webhook's stamp) or refused with a message naming
 * one of its hostile fields; none may fail with a 5xx or hang. A few accepted
 * sessions are created for real and deleted, approve, deny, extend and revoke
 * get hostile bodies against a live session, and attach gets hostile query
 * parameters (docs/api.md: accepted and ended, or refused naming the parameter; no
 * process of them left in the container). Afterwards the operator's process is
 * alive and answers, and no helper pod of these sessions is left.
 */
import assert from 'node:assert/strict';
import { request, type RequestOptions } from 'node:https';
import { after, before, describe, it } from 'node:test';
import { ADMIN_KUBECONFIG, eventually, kubeConfig, kubectlOk, requireCluster, tempNamespace } from '../../tools/support/cluster.js';
import { API_GROUP_VERSION, OPERATOR_NAMESPACE, OperatorProcess, installCrds, waitForApi } from '../../tools/support/operator.js';
import { runTargetPod } from '../../tools/support/pods.js';
import { PolicyReason, Reason } from '../../src/api/conditions.js';
import { Rng, actionCase, attachQueryCase, fuzzSeed, policyCase, sessionCase, validSession, type AttachQueryCase, type FuzzCase } from '../support/fuzz.js';
import { AttachRefused, attach } from '../support/attach.js';
import { ATTACH_PARAMETERS } from '../../src/apiserver/attach-process.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { containerProcesses, createSession, getSession, waitForPhase } from '../support/sessions.js';

const SESSION_CASES = 440;
const POLICY_CASES = 60;
const ACTION_CASES = 40;
const ATTACH_CASES = 40;
/** How long an accepted attach may take to end by itself (its programs end at once; a shell is told to exit). */
const ATTACH_END_MS = 15_000;
/** Accepted session cases also created for real (and deleted). */
const REAL_SESSIONS = 8;
const REQUEST_TIMEOUT_MS = 15_000;

interface Answer {
  code: number;
  message: string;
  object?: { spec?: { requester?: { signature?: string; groups?: string[] } }; metadata?: { uid?: string } };
}

/** A request through kube-apiserver as the admin; `body` is sent as it is. Never throws for an HTTP answer; a timeout is code 0. */
async function call(method: string, path: string, body: string): Promise<Answer> {
  const kc = kubeConfig(ADMIN_KUBECONFIG);
  const url = new URL(`${kc.getCurrentCluster()?.server ?? ''}${path}`);
  const opts: RequestOptions = { method, host: url.hostname, port: url.port, path: `${url.pathname}${url.search}`, headers: { 'Content-Type': 'application/json' }, timeout: REQUEST_TIMEOUT_MS };
  await kc.applyToHTTPSOptions(opts);
  return new Promise((resolve) => {
    const req = request(opts, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        let parsed: { message?: string } & Answer['object'] = {};
        try {
          parsed = JSON.parse(text) as typeof parsed;
        } catch {
          // Not JSON: kube-apiserver's plain-text answers (413, 404 page not found).
        }
        resolve({ code: res.statusCode ?? 0, message: parsed.message ?? text, object: parsed });
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve({ code: 0, message: `no answer: ${e.message}` }));
    req.end(body);
  });
}

/** Whether a refusal's message names one of the case's hostile fields (as the schema, the webhook or the aggregated API write them). */
function namesAField(c: FuzzCase, message: string): boolean {
  return c.fields.some((f) => {
    if (f === 'metadata.name') return /metadata\.name|\bname\b/.test(message);
    if (f === 'spec') return /\.?spec\.[A-Za-z_]|unknown field/.test(message);
    if (f === 'by') return /\bby\b|extend/.test(message);
    if (f === 'reason') return /\breason\b/.test(message);
    // A body without the one field an action needs is refused naming that field (extend: `{"by": ...}`).
    if (f === 'body') return /JSON|body|request entity too large|\{"by"/i.test(message);
    return message.includes(f);
  });
}

/**
 * A documented refusal by RBAC or policy (403, the reason first, as docs/policy.md lists them): about who
 * asks for what, not a malformed field, e.g. a session on behalf of someone no policy trusts the admin for.
 */
const DECISION = new RegExp(`denied the request: (${[...Object.values(PolicyReason), Reason.RbacDenied, Reason.OperatorNamespace].join('|')}): `);

type Verdict = 'accepted' | 'refused' | 'decided' | 'phase' | 'problem';

/** What an answer to a case means; `problem` is anything the issue forbids (a 5xx, no answer, a refusal that names no field). */
function judge(c: FuzzCase, a: Answer): Verdict {
  if (a.code >= 200 && a.code < 300) return 'accepted';
  if (c.kind === 'action' && (a.code === 409 || a.code === 410)) return 'phase';
  if (a.code === 403 && DECISION.test(a.message)) return 'decided';
  return a.code >= 400 && a.code < 500 && namesAField(c, a.message) ? 'refused' : 'problem';
}

describe('fuzz: hostile input through the real API server', () => {
  const seed = fuzzSeed();
  const r = new Rng(seed);
  let ns: Awaited<ReturnType<typeof tempNamespace>>;
  let operator: OperatorProcess;
  const problems: string[] = [];
  const uids = new Set<string>();
  const counts: Record<Verdict, number> = { accepted: 0, refused: 0, decided: 0, phase: 0, problem: 0 };

  /** Records a case that was neither accepted nor refused naming its field. */
  const problem = (c: FuzzCase, a: Answer): void => {
    problems.push(`${c.label} -> ${a.code}: ${a.message.slice(0, 300)} :: ${JSON.stringify(c.body).slice(0, 300)}`);
  };

  /** A few of the accepted cases for real: the operator runs or refuses each within a bounded time, then they are deleted. */
  async function createForReal(real: FuzzCase[]): Promise<void> {
    for (const [k, c] of real.entries()) {
      const body = c.body as { metadata: { name: string } };
      body.metadata.name = `fuzz-real-${k}`;
      const a = await call('POST', `/apis/execsession.dev/v1alpha1/namespaces/${ns.name}/execsessions?fieldValidation=Strict`, JSON.stringify(body));
      if (a.code !== 201) {
        problem(c, { ...a, message: `accepted at dry run, refused when created: ${a.message}` });
        continue;
      }
      if (a.object?.metadata?.uid) uids.add(a.object.metadata.uid);
    }
    for (let k = 0; k < real.length; k++) {
      // Each reaches some phase (one-shot commands end; interactive ones become Ready) within a bounded time.
      await eventually(`fuzz-real-${k} to be acted on`, async () => {
        const s = await getSession(ns.name, `fuzz-real-${k}`).catch(() => undefined);
        return s === undefined || (s.status?.phase !== undefined && s.status.phase !== 'Pending');
      }, 60_000, 250);
    }
  }

  before(async () => {
    requireCluster();
    // Printed first, so that even a run that dies says how to reproduce it.
    process.stdout.write(`# fuzz seed ${seed}: reproduce with EXECSESSION_FUZZ_SEED=${seed}\n`);
    await installCrds();
    ns = await tempNamespace('fuzz');
    await runTargetPod('target', ns.name, { runAsUser: 1001, runAsGroup: 1001 });
    operator = new OperatorProcess(['--retention', '1h']);
    await operator.start();
    await waitForApi();
  });

  after(async () => {
    await ns?.remove();
    await operator?.stop();
  });

  it(`judges ${SESSION_CASES} hostile ExecSessions and ${POLICY_CASES} policies at admission: accepted and stamped, or refused naming the field`, async () => {
    const now = Date.now();
    const real: FuzzCase[] = [];
    for (let i = 0; i < SESSION_CASES + POLICY_CASES; i++) {
      const c = i < SESSION_CASES ? sessionCase(r, i, ns.name, 'target', now) : policyCase(r, i, ns.name, now);
      const plural = c.kind === 'session' ? `namespaces/${ns.name}/execsessions` : c.kind === 'policy' ? `namespaces/${ns.name}/execpolicies` : 'clusterexecpolicies';
      const a = await call('POST', `/apis/execsession.dev/v1alpha1/${plural}?dryRun=All&fieldValidation=Strict`, JSON.stringify(c.body));
      const verdict = judge(c, a);
      counts[verdict]++;
      if (verdict === 'problem') problem(c, a);
      if (verdict !== 'accepted' || c.kind !== 'session') continue;
      // Accepted as documented: the mutating webhook stamped it with the admin's identity.
      if (!(a.object?.spec?.requester?.signature && a.object.spec.requester.groups?.includes('system:masters'))) problem(c, { ...a, message: 'accepted without the webhook\'s stamp' });
      if (real.length < REAL_SESSIONS) real.push(c);
    }
    await createForReal(real);
    await kubectlOk(['-n', ns.name, 'delete', 'execsessions', '--all', '--timeout=60s']);
    process.stdout.write(`# fuzz seed ${seed}: ${JSON.stringify(counts)}\n`);
    assert.deepEqual(problems.slice(0, 15), [], `seed ${seed}: ${problems.length} cases were neither accepted nor refused naming a field (EXECSESSION_FUZZ_SEED=${seed})`);
  });

  it(`answers ${ACTION_CASES} hostile approve, deny, extend and revoke bodies on a live session`, async () => {
    const live = validSession(ns.name, 'fuzz-live', 'target');
    await createSession(ns.name, 'fuzz-live', { podName: 'target', user: 'alice', ttl: '30m', reason: 'fuzz' });
    const { session } = await waitForPhase(ns.name, 'fuzz-live', ['Ready']);
    uids.add(session.metadata.uid ?? '');
    const order = ['approve', 'deny', 'extend'] as const;
    const before = problems.length;
    for (let i = 0; i < ACTION_CASES; i++) {
      // Revoke last: it ends the session, after which every action is 410.
      const action = i >= ACTION_CASES - 5 ? 'revoke' : r.pick(order);
      const c = actionCase(r, action);
      const body = typeof c.body === 'string' ? c.body : JSON.stringify(c.body);
      const a = await call('POST', `/apis/${API_GROUP_VERSION}/namespaces/${ns.name}/execsessions/${live.metadata.name as string}/${action}`, body);
      // Documented answers about the session, not the body, count apart: approve/deny of a session not waiting (409), an ended one (410).
      const verdict = judge(c, a);
      counts[verdict]++;
      if (verdict === 'problem') problem(c, a);
    }
    assert.deepEqual(problems.slice(before, before + 15), [], `seed ${seed}: action bodies neither accepted nor refused naming a field`);
  });

  /** What an attach with this query came to: accepted and ended, refused naming a parameter, or a problem (as text). */
  async function tryAttach(c: AttachQueryCase, name: string): Promise<'accepted' | 'refused' | string> {
    try {
      const a = await attach(ADMIN_KUBECONFIG, ns.name, name, { params: c.params });
      if (c.refused.length > 0) {
        a.ws.terminate();
        return `accepted, but docs/api.md refuses ${c.refused.join(', ')}`;
      }
      if (c.interactive) a.send('exit\n');
      const ended = await Promise.race([a.done.then(() => true), sleep(ATTACH_END_MS).then(() => false)]);
      if (!ended) a.ws.terminate();
      return ended ? 'accepted' : `accepted, and still open after ${ATTACH_END_MS} ms`;
    } catch (e) {
      if (!(e instanceof AttachRefused)) return `no answer: ${(e as Error).message}`;
      let message = e.body;
      try {
        message = (JSON.parse(e.body) as { message?: string }).message ?? e.body;
      } catch {
        // kube-apiserver's own plain-text answer
      }
      const named = c.refused.some((p) => (p === 'unknown' ? /^unknown query parameter /.test(message)
        : p === 'command' ? /^(query parameter command\b|command: )/.test(message)
          : new RegExp(`^query parameter ${p}\\b`).test(message)));
      return e.code === 400 && named ? 'refused' : `${e.code}: ${message.slice(0, 300)}`;
    }
  }

  it(`answers ${ATTACH_CASES} hostile attach queries through kube-apiserver: accepted and ended, or refused naming the parameter; no process left`, async () => {
    await createSession(ns.name, 'fuzz-attach', { podName: 'target', user: 'alice', ttl: '30m', reason: 'fuzz' });
    const { session } = await waitForPhase(ns.name, 'fuzz-attach', ['Ready']);
    uids.add(session.metadata.uid ?? '');
    try {
      const baseline = await containerProcesses(ns.name, 'target');
      const before = problems.length;
      const tally = { accepted: 0, refused: 0 };
      for (let i = 0; i < ATTACH_CASES; i++) {
        const c = attachQueryCase(r, session.status?.container ?? '');
        const got = await tryAttach(c, 'fuzz-attach');
        if (got === 'accepted' || got === 'refused') tally[got]++;
        else problems.push(`attach ${c.label} -> ${got} :: ${JSON.stringify(c.params).slice(0, 300)}`);
      }
      process.stdout.write(`# fuzz seed ${seed}: attach queries ${JSON.stringify(tally)} (parameters ${ATTACH_PARAMETERS.join(', ')})\n`);
      assert.deepEqual(problems.slice(before, before + 15), [], `seed ${seed}: attach queries neither accepted as documented nor refused naming the parameter`);
      // Every process an attach started ended with it: none runs as the session's user (alice, uid 1000;
      // the container's own processes run as bob, uid 1001, and come and go).
      const pid = (l: string): string => l.split(/\s+/)[0] ?? '';
      const known = new Set(baseline.map(pid));
      await eventually('no process of the attaches left in the target container', async () => {
        const left = (await containerProcesses(ns.name, 'target')).filter((l) => !known.has(pid(l)) && /^\d+\s+(alice|1000)\s/.test(l));
        return left.length === 0 ? true : (() => { throw new Error(left.join(' | ')); })();
      }, 20_000, 500);
    } finally {
      await kubectlOk(['-n', ns.name, 'delete', 'execsession', 'fuzz-attach', '--timeout=60s']);
    }
  });

  it('leaves the operator alive and answering, and no helper pod of these sessions', async () => {
    assert.ok(operator.pid !== undefined, 'the operator runs');
    assert.doesNotThrow(() => process.kill(operator.pid ?? 0, 0), `the operator's process is alive:\n${operator.log()}`);
    const valid = validSession(ns.name, 'fuzz-after', 'target');
    const a = await call('POST', `/apis/execsession.dev/v1alpha1/namespaces/${ns.name}/execsessions?dryRun=All`, JSON.stringify(valid));
    assert.equal(a.code, 201, `the webhook still admits a valid session: ${a.message}`);
    assert.equal((await call('GET', `/apis/${API_GROUP_VERSION}`, '')).code, 200, 'the aggregated API still answers');
    await eventually('no helper pod of the fuzzed sessions', async () => {
      const out = await kubectlOk(['-n', OPERATOR_NAMESPACE, 'get', 'pods', '-l', 'app.kubernetes.io/component=execsession-helper', '-o', 'jsonpath={range .items[*]}{.metadata.labels.execsession\\.dev/session-uid}{"\\n"}{end}']);
      return !out.split('\n').some((uid) => uids.has(uid));
    }, 60_000, 500);
    process.stdout.write(`# fuzz seed ${seed}: ${SESSION_CASES + POLICY_CASES + ACTION_CASES + ATTACH_CASES} cases: ${JSON.stringify(counts)} and ${ATTACH_CASES} attach queries\n`);
  });
});
