/**
 * `npm run bench:scale`: the operator at scale, side by side with plain pods
 * shaped like the helper, in one run (issue 15). Prints figures and ratios,
 * asserts nothing. Scenarios (--only to pick some):
 *
 *   single   create → Ready one at a time, against a plain pod (--single-runs, 5)
 *   batch    N at once (--n, 60) against N plain pods at once; RSS and CPU with N live;
 *            delete-all until the last helper pod is gone, against deleting N plain pods
 *   waiting  M sessions waiting for approval (--waiting, 1000): lag from each create to
 *            its WaitingForApproval, RSS, CPU over --idle-seconds (60) with nothing changing
 *   expiry   --expiring (50) sessions sharing one expiresAt: how late each is Expired,
 *            when the last helper is gone
 *   kill     the same expiry with the operator SIGKILLed and restarted 8 s before it;
 *            delete-all of N live sessions with a SIGKILL 1 s in
 *
 * The operator runs as a host process, bundled as the image runs it
 * (--operator tsx: through the run-time compiler, as `npm start` did before).
 * Progress goes to stderr; figures to stdout. Starts the local cluster if none
 * runs, and stops it again.
 */
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { down, isRunning, up } from '../tools/cluster/cluster.js';
import { IMAGES, NODE_NAME } from '../tools/cluster/config.js';
import { grant, kubeConfig, kubectl, kubectlOk, tempNamespace, userKubeconfig } from '../tools/support/cluster.js';
import { OPERATOR_NAMESPACE, OperatorProcess, installCrds } from '../tools/support/operator.js';
import { runTargetPod } from '../tools/support/pods.js';
import { PhaseWatch, cpuOver, fmt, helperCount, pool, progress, ratio, rssMiB, summary, untilNone } from './scale-probe.js';
import { fail } from './fixture.js';

const { values: flags } = parseArgs({
  options: {
    n: { type: 'string', default: '60' },
    waiting: { type: 'string', default: '1000' },
    expiring: { type: 'string', default: '50' },
    'single-runs': { type: 'string', default: '5' },
    'idle-seconds': { type: 'string', default: '60' },
    'live-idle-seconds': { type: 'string', default: '30' },
    only: { type: 'string', default: 'single,batch,waiting,expiry,kill' },
    operator: { type: 'string', default: 'bundle' },
  },
});
const N = Number(flags.n);
const WAITING = Number(flags.waiting);
const EXPIRING = Number(flags.expiring);
const SINGLE_RUNS = Number(flags['single-runs']);
const IDLE_S = Number(flags['idle-seconds']);
const LIVE_IDLE_S = Number(flags['live-idle-seconds']);
const ONLY = new Set(flags.only.split(','));
/** Creates in flight at once, as a busy team or a GitOps sync would send them. */
const CREATE_PARALLEL = 16;

const GROUP = { group: 'execsession.dev', version: 'v1alpha1', plural: 'execsessions' };

interface Ctx {
  ns: string;
  kc: KubeConfig;
  alice: KubeConfig;
  watch: PhaseWatch;
  operator: OperatorProcess;
}

/** Prints one figure line on stdout. */
function out(line: string): void {
  console.log(line);
}

function plainPod(name: string): object {
  return {
    metadata: { name, labels: { bench: 'plain' } },
    spec: {
      nodeName: NODE_NAME, hostPID: true, automountServiceAccountToken: false, terminationGracePeriodSeconds: 1,
      containers: [{ name: 'c', image: IMAGES.helper, imagePullPolicy: 'Never', command: ['sleep', '3600'], securityContext: { privileged: true } }],
    },
  };
}

/** Creates plain pods, all at once; the milliseconds from each create until its container was ready. */
async function plainPodsReady(c: Ctx, names: string[]): Promise<number[]> {
  const core = c.kc.makeApiClient(CoreV1Api);
  const started = new Map<string, number>();
  const ready = new Map<string, number>();
  await pool(names, CREATE_PARALLEL, async (name) => {
    started.set(name, Date.now());
    await core.createNamespacedPod({ namespace: c.ns, body: plainPod(name) });
  });
  for (let last = Date.now(); ready.size < names.length; await sleep(100)) {
    const pods = await core.listNamespacedPod({ namespace: c.ns, labelSelector: 'bench=plain' });
    for (const p of pods.items) if (p.status?.containerStatuses?.[0]?.ready && !ready.has(p.metadata?.name ?? '')) ready.set(p.metadata?.name ?? '', Date.now());
    if (Date.now() - last > 10_000) {
      progress(`plain pods: ${ready.size}/${names.length} ready`);
      last = Date.now();
    }
  }
  return names.map((n) => (ready.get(n) ?? Number.NaN) - (started.get(n) ?? Number.NaN));
}

/** Deletes every plain pod; milliseconds until none is left. */
async function plainPodsGone(c: Ctx): Promise<number> {
  const core = c.kc.makeApiClient(CoreV1Api);
  const start = Date.now();
  await kubectlOk(['-n', c.ns, 'delete', 'pods', '-l', 'bench=plain', '--wait=false']);
  return (await untilNone(async () => (await core.listNamespacedPod({ namespace: c.ns, labelSelector: 'bench=plain' })).items.length, 'plain pods', 300_000)) - start;
}

/** Creates sessions (as the admin unless `as` says), CREATE_PARALLEL at once; when each create returned. */
async function createSessions(c: Ctx, names: string[], spec: object, as?: KubeConfig): Promise<Map<string, number>> {
  const custom = (as ?? c.kc).makeApiClient(CustomObjectsApi);
  const written = new Map<string, number>();
  await pool(names, CREATE_PARALLEL, async (name) => {
    const body = { apiVersion: 'execsession.dev/v1alpha1', kind: 'ExecSession', metadata: { name, namespace: c.ns }, spec };
    const start = Date.now();
    await custom.createNamespacedCustomObject({ ...GROUP, namespace: c.ns, body });
    written.set(name, start);
    if (written.size % 250 === 0) progress(`created ${written.size}/${names.length} sessions`);
  });
  return written;
}

/** Deletes every session of the namespace; milliseconds until the last helper pod (and session) is gone. */
async function deleteAllSessions(c: Ctx, during?: () => Promise<void>): Promise<{ helpersMs: number; sessionsMs: number }> {
  const custom = c.kc.makeApiClient(CustomObjectsApi);
  const start = Date.now();
  await kubectlOk(['-n', c.ns, 'delete', 'execsessions', '--all', '--wait=false'], { timeoutMs: 120_000 });
  await during?.();
  const helpersGone = await untilNone(() => helperCount(c.kc, OPERATOR_NAMESPACE), 'helper pods', 300_000);
  const count = async (): Promise<number> => ((await custom.listNamespacedCustomObject({ ...GROUP, namespace: c.ns })) as { items: unknown[] }).items.length;
  const sessionsGone = await untilNone(count, 'sessions', 600_000);
  return { helpersMs: helpersGone - start, sessionsMs: sessionsGone - start };
}

function names(prefix: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}-${i}`);
}

const LIVE = { podName: 'target', user: 'alice', ttl: '1h' };

async function single(c: Ctx): Promise<void> {
  progress(`single: ${SINGLE_RUNS} plain pods, then ${SINGLE_RUNS} sessions, one at a time`);
  const pods: number[] = [];
  const sessions: number[] = [];
  for (let i = 0; i < SINGLE_RUNS; i++) {
    pods.push(...(await plainPodsReady(c, [`single-plain-${i}`])));
    await plainPodsGone(c);
  }
  for (let i = 0; i < SINGLE_RUNS; i++) {
    const [name = ''] = names(`single-${i}`, 1);
    const written = await createSessions(c, [name], LIVE);
    await c.watch.waitAll([name], ['Ready'], 'single', 120_000);
    sessions.push((c.watch.at(name, 'Ready') ?? Number.NaN) - (written.get(name) ?? Number.NaN));
    await deleteAllSessions(c);
  }
  const p = summary(pods);
  const s = summary(sessions);
  out(`\nsingle create → Ready (median of ${SINGLE_RUNS}): ExecSession ${fmt(s.p50)}, plain pod ${fmt(p.p50)}: ${ratio(s.p50, p.p50)}`);
}

async function batch(c: Ctx): Promise<void> {
  progress(`batch: ${N} plain pods at once`);
  const plain = summary(await plainPodsReady(c, names('plain', N)));
  const plainGone = await plainPodsGone(c);
  progress(`batch: ${N} sessions at once`);
  const ns = names('batch', N);
  const written = await createSessions(c, ns, LIVE);
  await c.watch.waitAll(ns, ['Ready'], 'batch', 600_000).catch((e: Error) => progress(e.message));
  const s = summary(ns.map((n) => (c.watch.at(n, 'Ready') ?? Number.NaN) - (written.get(n) ?? Number.NaN)));
  const pid = c.operator.pid ?? 0;
  const rss = rssMiB(pid);
  const cpu = await cpuOver(pid, LIVE_IDLE_S, `${N} live`);
  progress(`batch: delete all ${N}`);
  const gone = await deleteAllSessions(c);
  out(`\n${N} at once, create → Ready (${s.n} of ${N} Ready): ExecSession p50 ${fmt(s.p50)} p95 ${fmt(s.p95)} max ${fmt(s.max)}; plain pods p50 ${fmt(plain.p50)} p95 ${fmt(plain.p95)} max ${fmt(plain.max)}: p95 ${ratio(s.p95, plain.p95)}`);
  out(`${N} live: operator RSS ${rss.toFixed(0)} MiB; CPU ${cpu.toFixed(2)} % of a core over ${LIVE_IDLE_S} s with nothing changing`);
  out(`delete all ${N} live: last helper pod gone after ${fmt(gone.helpersMs)} (sessions gone ${fmt(gone.sessionsMs)}); ${N} plain pods deleted: ${fmt(plainGone)}: ${ratio(gone.helpersMs, plainGone)}`);
}

async function waiting(c: Ctx): Promise<void> {
  progress(`waiting: creating ${WAITING} sessions that need an approval`);
  const ns = names('wait', WAITING);
  const spec = { podName: 'target', user: 'alice', ttl: '30m' };
  const t0 = Date.now();
  const written = await createSessions(c, ns, spec, c.alice);
  const createdIn = Date.now() - t0;
  await c.watch.waitAll(ns, ['WaitingForApproval'], 'waiting', 900_000);
  const lag = summary(ns.map((n) => (c.watch.at(n, 'WaitingForApproval') ?? Number.NaN) - (written.get(n) ?? Number.NaN)));
  await sleep(5000);
  const pid = c.operator.pid ?? 0;
  const rss = rssMiB(pid);
  const cpu = await cpuOver(pid, IDLE_S, `${WAITING} waiting`);
  // One write at a time while they all wait: the lag a new session sees on a loaded operator.
  const probes = names('probe', 20);
  const probeLag: number[] = [];
  for (const n of probes) {
    const w = await createSessions(c, [n], spec, c.alice);
    await c.watch.waitAll([n], ['WaitingForApproval'], 'probe', 60_000);
    probeLag.push((c.watch.at(n, 'WaitingForApproval') ?? Number.NaN) - (w.get(n) ?? Number.NaN));
  }
  const p = summary(probeLag);
  progress(`waiting: deleting ${WAITING + probes.length} sessions`);
  const gone = await deleteAllSessions(c);
  out(`\n${WAITING} waiting for approval: created in ${fmt(createdIn)} (${CREATE_PARALLEL} at a time); create → WaitingForApproval p50 ${fmt(lag.p50)} p99 ${fmt(lag.p99)} max ${fmt(lag.max)}`);
  out(`  while they wait: operator RSS ${rss.toFixed(0)} MiB; CPU ${cpu.toFixed(2)} % of a core over ${IDLE_S} s with nothing changing`);
  out(`  20 more, one at a time, while they wait: p50 ${fmt(p.p50)} p99 ${fmt(p.p99)}; deleting all: ${fmt(gone.sessionsMs)}`);
}

/** Creates EXPIRING sessions sharing one notAfter (so one expiresAt), lets `meanwhile` run, and reports lateness. */
async function expiry(c: Ctx, label: string, meanwhile?: (expiresAt: number) => Promise<void>): Promise<void> {
  // Far enough out for every helper to start first (a batch of 50 takes 30-60 s here).
  const expiresAt = (Math.ceil(Date.now() / 1000) + 30 + Math.ceil(EXPIRING * 1.2)) * 1000;
  progress(`${label}: ${EXPIRING} sessions expiring at ${new Date(expiresAt).toISOString()}`);
  const ns = names(label, EXPIRING);
  await createSessions(c, ns, { ...LIVE, notAfter: new Date(expiresAt).toISOString().replace(/\.\d{3}Z$/, 'Z') });
  await c.watch.waitAll(ns, ['Ready'], label, Math.max(10_000, expiresAt - Date.now() - 2000)).catch((e: Error) => progress(e.message));
  const ready = c.watch.count(ns, ['Ready']);
  await meanwhile?.(expiresAt);
  await c.watch.waitAll(ns, ['Expired', 'Terminated', 'Failed'], label, expiresAt - Date.now() + 120_000);
  const helpersGone = await untilNone(() => helperCount(c.kc, OPERATOR_NAMESPACE), 'helper pods', 120_000);
  const late = ns.filter((n) => c.watch.at(n, 'Expired') !== undefined).map((n) => (c.watch.at(n, 'Expired') ?? 0) - expiresAt);
  const other = ns.length - late.length;
  const l = summary(late);
  out(`\n${label}: ${EXPIRING} sessions sharing one expiresAt (${ready} Ready before it): Expired after it by p50 ${fmt(l.p50)} p99 ${fmt(l.p99)} max ${fmt(l.max)}${other ? ` (${other} ended otherwise)` : ''}; last helper pod gone ${fmt(helpersGone - expiresAt)} after it`);
  await deleteAllSessions(c);
}

async function kill(c: Ctx): Promise<void> {
  await expiry(c, 'expiry-after-sigkill', async (expiresAt) => {
    await sleep(Math.max(0, expiresAt - 8000 - Date.now()));
    progress('SIGKILL of the operator 8 s before expiresAt; a new one starts at once');
    await c.operator.kill9();
    await c.operator.start({ waitForController: false });
  });
  progress(`kill: ${N} live sessions, then delete all with a SIGKILL 1 s in`);
  const ns = names('killdel', N);
  await createSessions(c, ns, LIVE);
  await c.watch.waitAll(ns, ['Ready'], 'kill', 600_000).catch((e: Error) => progress(e.message));
  const gone = await deleteAllSessions(c, async () => {
    await sleep(1000);
    await c.operator.kill9();
    await c.operator.start({ waitForController: false });
  });
  out(`delete all ${N} live with a SIGKILL of the operator 1 s in (restarted at once): last helper pod gone after ${fmt(gone.helpersMs)}`);
}

async function bench(c: Ctx): Promise<void> {
  const pid = c.operator.pid ?? 0;
  await sleep(5000);
  out(`\nbench:scale on ${new Date().toISOString()} (operator: ${flags.operator === 'tsx' ? 'tsx, compiled at run time' : 'bundled JavaScript'}, pid ${pid})`);
  out(`operator RSS at rest (no session): ${rssMiB(pid).toFixed(0)} MiB`);
  if (ONLY.has('single')) await single(c);
  if (ONLY.has('batch')) await batch(c);
  if (ONLY.has('waiting')) await waiting(c);
  if (ONLY.has('expiry')) await expiry(c, 'expiry');
  if (ONLY.has('kill')) await kill(c);
}

/** The namespace, the target, alice's approval policy and RBAC, the operator; cleaned up whatever happens. */
async function main(): Promise<void> {
  const startedHere = !(await isRunning());
  if (startedHere) await up();
  const operator = new OperatorProcess([], undefined, { bundled: flags.operator !== 'tsx' });
  let ns: Awaited<ReturnType<typeof tempNamespace>> | undefined;
  let watch: PhaseWatch | undefined;
  try {
    await installCrds();
    ns = await tempNamespace('scale');
    await runTargetPod('target', ns.name, { runAsUser: 1001, runAsGroup: 1001 });
    await grant(ns.name, 'sessions', ['create', 'get', 'list'], 'execsessions.execsession.dev', ['alice']);
    await grant(ns.name, 'exec', ['create', 'get'], 'pods/exec', ['alice']);
    await kubectlOk(['apply', '-f', '-'], { input: JSON.stringify(approvalPolicy(ns.name)) });
    const alice = kubeConfig(await userKubeconfig('alice', ['developers']));
    await operator.start();
    const kc = kubeConfig();
    watch = new PhaseWatch(kc, ns.name);
    await watch.start();
    await bench({ ns: ns.name, kc, alice, watch, operator });
  } finally {
    watch?.stop();
    if (ns) await kubectl(['-n', ns.name, 'delete', 'execsessions', '--all', '--timeout=120s'], { timeoutMs: 150_000 });
    await operator.stop();
    await ns?.remove();
    if (startedHere) await down();
  }
}

/** alice (group developers) may enter pod `target` once one approver approved. */
function approvalPolicy(namespace: string): object {
  return {
    apiVersion: 'execsession.dev/v1alpha1', kind: 'ExecPolicy', metadata: { name: 'needs-approval', namespace },
    spec: {
      subjects: [{ kind: 'Group', name: 'developers' }], targets: { podSelector: { matchLabels: { app: 'target' } } }, users: { allowedNames: ['*'] },
      approval: { required: 1, approvers: [{ kind: 'Group', name: 'approvers' }], timeout: '2h' },
    },
  };
}

main().catch(fail);
