/**
 * Brings the local cluster up and down. `up` is idempotent (a healthy cluster is
 * left alone; leftovers of a crashed run are cleaned first); `down` stops every
 * process it started by pid, unmounts, removes the network namespace and every
 * state directory, and leaves only the binary cache.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import * as components from './components.js';
import {
  APISERVER_URL, CACHE_DIR, CNI_BIN, CONTAINERD, INSTALL_BIN, KUBELET_ROOT, KUBE_VERSION, NETNS, NODE_NAME, POD_LOG_DIR, PORTS, REPO_ROOT, STATE_DIR,
  binariesIn, paths,
} from './config.js';
import { ensureImages } from './images.js';
import { ensureNetwork, netnsExists, removeNetwork, removeSandboxNetns } from './network.js';
import { ensurePki, issue, kubeconfigYaml, type ClusterPki } from './pki.js';
import { exeOf, isOurs, recordedDaemons, run, startDaemon, stopDaemon, waitFor, type Daemon } from './proc.js';

const log = (msg: string): void => {
  process.stderr.write(`cluster: ${msg}\n`);
};

/** The order daemons start in; `down` stops them in reverse. */
const ORDER = ['etcd', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'containerd', 'kubelet', 'kube-proxy'];

const REQUIRED_COMMANDS = ['ip', 'nsenter', 'openssl', 'tar', 'etcd', 'containerd', 'containerd-shim-runc-v2', 'runc', 'ctr', 'kubectl', 'findmnt', 'iptables'];

function checkPrerequisites(): void {
  if (process.getuid?.() !== 0) {
    throw new Error('the local cluster must run as root (it starts a kubelet, containerd and a network namespace); run it with sudo or as root');
  }
  const missing = REQUIRED_COMMANDS.filter((c) => {
    try {
      execFileSync('sh', ['-c', `command -v ${c}`], { stdio: 'ignore' });
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length > 0) throw new Error(`missing commands: ${missing.join(', ')}; run "npm run setup" (tools/cluster/install-system.sh installs them)`);
  if (!existsSync(join(CNI_BIN, 'bridge'))) throw new Error(`CNI plugins missing in ${CNI_BIN}; run "npm run setup"`);
  // Hybrid counts as v1 (the kubelet runs with failCgroupV1: false); a machine with neither layout cannot run it.
  if (!existsSync('/sys/fs/cgroup/memory') && !existsSync('/sys/fs/cgroup/cgroup.controllers')) {
    throw new Error('unsupported cgroup layout: /sys/fs/cgroup has neither cgroup v1 controllers nor a cgroup v2 root');
  }
}

/**
 * The installed etcd, containerd and runc must be the ones built with this Kubernetes
 * version (tools/cluster/build.sh records them in installed.env).
 */
function checkInstalledVersions(): void {
  const file = join(CACHE_DIR, 'installed.env');
  const installed = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const kube = /^KUBE_VERSION=(.*)$/m.exec(installed)?.[1];
  if (kube !== KUBE_VERSION) {
    throw new Error(`version mismatch: KUBE_VERSION is ${KUBE_VERSION} but ${INSTALL_BIN} holds the components built for ${kube ?? 'nothing'}; ` +
      `run "KUBE_VERSION=${KUBE_VERSION} bash tools/cluster/build.sh" (or "npm run setup")`);
  }
}

/** Server binaries: KUBE_BIN_DIR, or the cached build from Go modules (built now if missing). */
function serverBinDir(): string {
  if (process.env.KUBE_BIN_DIR) return process.env.KUBE_BIN_DIR;
  const dir = join(CACHE_DIR, 'bin', `kubernetes-${KUBE_VERSION}`);
  if (!existsSync(join(dir, '.complete')) || !existsSync(join(CACHE_DIR, 'installed.env'))) {
    log(`building Kubernetes ${KUBE_VERSION} and its runtime from Go modules (cold: about 20 minutes on 2 cores)`);
    execFileSync('bash', [join(REPO_ROOT, 'tools/cluster/build.sh')], { stdio: ['ignore', 'inherit', 'inherit'] });
  }
  checkInstalledVersions();
  return dir;
}

/** GET on the API server (or another TLS endpoint) with the admin identity. */
export function adminGet(path: string, base = APISERVER_URL): Promise<{ status: number; body: string }> {
  const pki = paths.pki;
  return new Promise((resolve, reject) => {
    const req = request(`${base}${path}`, {
      ca: readFileSync(join(pki, 'ca.crt')),
      cert: readFileSync(join(pki, 'components', 'admin.crt')),
      key: readFileSync(join(pki, 'components', 'admin.key')),
      timeout: 5000,
    }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end();
  });
}

async function writeAdminKubeconfig(p: ClusterPki): Promise<void> {
  const pair = existsSync(join(paths.pki, 'components', 'admin.crt'))
    ? { cert: join(paths.pki, 'components', 'admin.crt'), key: join(paths.pki, 'components', 'admin.key') }
    : await issue(p.ca, join(paths.pki, 'components'), 'admin', { cn: 'admin', groups: ['system:masters'], days: 3650 });
  writeFileSync(paths.adminKubeconfig, kubeconfigYaml('admin', p.ca.cert, pair), { mode: 0o600 });
}

/** The listening TCP sockets as `ss` prints them, one per line (with their processes). */
async function listeners(): Promise<string[]> {
  return (await run('ss', ['-Hltnp'], { allowFail: true })).split('\n');
}

/** The listener on `port`, if any, among `ss`'s lines. */
function listenerOn(lines: string[], port: number): string | undefined {
  return lines.find((l) => new RegExp(`:${port}\\s`).test(l));
}

/**
 * Waits until nothing listens on these ports: a SIGKILLed daemon's /proc/PID/exe goes
 * (its memory is released) before its sockets close (its file table, with the last
 * thread), so "not ours any more" is not yet "its ports are free".
 */
async function untilPortsFree(ports: number[], timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let lines = await listeners(); ports.some((p) => listenerOn(lines, p)); lines = await listeners()) {
    if (Date.now() > deadline) throw new Error(`ports ${ports.join(', ')} still in use ${timeoutMs} ms after their daemon ended`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Listening TCP sockets on our ports that belong to a process we did not start. */
async function portConflicts(): Promise<string[]> {
  const ours = new Set(recordedDaemons().filter((d) => d.alive).map((d) => d.pid));
  const lines = await listeners();
  const conflicts: string[] = [];
  for (const port of Object.values(PORTS)) {
    const line = listenerOn(lines, port);
    if (!line) continue;
    const pid = Number(/pid=(\d+)/.exec(line)?.[1]);
    if (ours.has(pid)) continue;
    conflicts.push(`port ${port} is taken by ${/users:\(\("([^"]+)"/.exec(line)?.[1] ?? 'another process'} (pid ${pid || '?'})`);
  }
  return conflicts;
}

function healthyDaemons(): boolean {
  const ds = recordedDaemons();
  return ORDER.every((name) => ds.some((d) => d.name === name && d.alive));
}

async function nodeReady(): Promise<true | undefined> {
  const res = await adminGet(`/api/v1/nodes/${NODE_NAME}`);
  if (res.status !== 200) return undefined;
  const node = JSON.parse(res.body) as { status?: { conditions?: Array<{ type: string; status: string; message?: string }> } };
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
  if (ready?.status === 'True') return true;
  throw new Error(`node not Ready: ${ready?.message ?? 'no Ready condition yet'}`);
}

/** Is a complete cluster of ours running and serving? */
export async function isRunning(): Promise<boolean> {
  if (!healthyDaemons()) return false;
  try {
    return (await adminGet('/readyz')).status === 200 && (await nodeReady()) === true;
  } catch {
    return false;
  }
}

/** Anything an earlier run left behind. */
function leftovers(): string[] {
  const found: string[] = recordedDaemons().map((d) => `${d.name} (pid ${d.pid}, ${d.alive ? 'running' : 'dead'})`);
  if (netnsExists()) found.push(`network namespace ${NETNS}`);
  if (mountsUnder().length > 0) found.push(`${mountsUnder().length} mounts under ${KUBELET_ROOT} or ${CONTAINERD.state}`);
  return found;
}

function mountsUnder(): string[] {
  const roots = [KUBELET_ROOT, CONTAINERD.state, CONTAINERD.root, `/run/netns/${NETNS}`, `/var/run/netns/${NETNS}`];
  const out = execFileSync('findmnt', ['-rn', '-o', 'TARGET']).toString();
  return out.split('\n').map((m) => m.replace(/\\x20/g, ' '))
    .filter((m) => roots.some((r) => m === r || m.startsWith(`${r}/`)))
    .sort((a, b) => b.length - a.length);
}

async function start(c: components.Component): Promise<Daemon> {
  log(`starting ${c.name}`);
  return startDaemon(c.name, c.exe, c.args, c.netns ? NETNS : undefined);
}

/** Starts the whole cluster, or does nothing if it already runs. */
export async function up(): Promise<void> {
  checkPrerequisites();
  if (await isRunning()) {
    // Images are cheap to check and rebuild when their inputs (helper/enter.c) changed.
    await ensureImages();
    log(`already running; admin kubeconfig: ${paths.adminKubeconfig}`);
    return;
  }
  const old = leftovers();
  if (old.length > 0) {
    log(`found leftovers of an earlier run (${old.join('; ')}); cleaning them up first`);
    await down();
  }
  const conflicts = await portConflicts();
  if (conflicts.length > 0) throw new Error(`cannot start: ${conflicts.join('; ')}. Stop that process or run "npm run cluster:down" if it is an old cluster.`);
  // Nothing of ours runs now, so a containerd that answers on the socket is someone else's.
  if (existsSync(CONTAINERD.socket) && (await run('ctr', ['--address', CONTAINERD.socket, 'version'], { allowFail: true })).includes('Server:')) {
    throw new Error(`a containerd not started by this harness serves ${CONTAINERD.socket}; stop it first (for example "systemctl stop containerd")`);
  }
  const started = Date.now();
  const bin = binariesIn(serverBinDir());
  const p = await ensurePki();
  await writeAdminKubeconfig(p);
  await ensureNetwork();

  const etcd = await start(components.etcd());
  await waitFor('etcd health', async () => ((await fetch(`http://127.0.0.1:${PORTS.etcdClient}/health`)).ok ? true : undefined), { timeoutMs: 30_000, daemon: etcd });
  const apiserver = await start(components.apiserver(bin, p));
  await waitFor('kube-apiserver /readyz', async () => ((await adminGet('/readyz')).status === 200 ? true : undefined), { timeoutMs: 90_000, daemon: apiserver });
  await start(await components.controllerManager(bin, p));
  await start(await components.scheduler(bin, p));
  const ctrd = await start(components.containerd());
  await waitFor('containerd', async () => ((await run('ctr', ['--address', CONTAINERD.socket, 'version'])).includes('Server') ? true : undefined), { timeoutMs: 30_000, daemon: ctrd });
  log('importing images');
  await ensureImages();
  const kubelet = await start(await components.kubelet(bin, p));
  await waitFor(`node ${NODE_NAME} Ready`, nodeReady, { timeoutMs: 90_000, daemon: kubelet });
  await start(await components.kubeProxy(bin, p));
  await waitFor('the default ServiceAccount', async () => ((await adminGet('/api/v1/namespaces/default/serviceaccounts/default')).status === 200 ? true : undefined), { timeoutMs: 60_000 });
  log(`up in ${((Date.now() - started) / 1000).toFixed(1)}s; admin kubeconfig: ${paths.adminKubeconfig}`);
}

/** Network namespaces of pod sandboxes, as recorded in the containers' OCI bundles. */
function sandboxNetns(bundles: string): string[] {
  if (!existsSync(bundles)) return [];
  const found = new Set<string>();
  for (const id of readdirSync(bundles)) {
    try {
      const spec = JSON.parse(readFileSync(join(bundles, id, 'config.json'), 'utf8')) as { linux?: { namespaces?: Array<{ type: string; path?: string }> } };
      const path = spec.linux?.namespaces?.find((n) => n.type === 'network')?.path;
      if (path && /^\/(var\/)?run\/netns\/cni-[0-9a-f-]+$/.test(path)) found.add(path);
    } catch {
      // A bundle without a readable config.json has nothing to tell.
    }
  }
  return [...found];
}

/** Kills every container process and shim containerd left, by the pids they recorded. */
async function killContainers(): Promise<void> {
  const bundles = `${CONTAINERD.state}/io.containerd.runtime.v2.task/${CONTAINERD.namespace}`;
  const netns = sandboxNetns(bundles);
  const runcRoot = `${CONTAINERD.state}/runc/${CONTAINERD.namespace}`;
  if (existsSync(runcRoot)) {
    const list = await run('runc', ['--root', runcRoot, 'list', '--format', 'json'], { allowFail: true });
    const containers = (JSON.parse(list.trim() || 'null') ?? []) as Array<{ id: string; pid: number }>;
    for (const c of containers) {
      await run('runc', ['--root', runcRoot, 'kill', c.id, 'KILL'], { allowFail: true });
      await run('runc', ['--root', runcRoot, 'delete', '--force', c.id], { allowFail: true });
    }
  }
  for (const id of existsSync(bundles) ? readdirSync(bundles) : []) {
    const pidFile = join(bundles, id, 'shim.pid');
    if (!existsSync(pidFile)) continue;
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    const exe = exeOf(pid);
    if (exe?.endsWith('containerd-shim-runc-v2')) await stopDaemon({ name: `shim-${id}`, pid, exe }, 2000);
  }
  await removeSandboxNetns(netns);
}

/**
 * Shims of our containerd that outlived it: containerd killed between deleting a
 * task (its bundle, with shim.pid, is gone) and shutting its shim down. Found by
 * their executable and the socket they were started for, so no other containerd's
 * shims are touched.
 */
function strayShims(): Daemon[] {
  const shims: Daemon[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const exe = exeOf(pid);
    if (!exe?.endsWith('/containerd-shim-runc-v2')) continue;
    let args: string[];
    try {
      args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    const address = args[args.indexOf('-address') + 1];
    if (args.includes('-address') && address === CONTAINERD.socket) shims.push({ name: `stray shim ${pid}`, pid, exe });
  }
  return shims;
}

async function unmountAll(): Promise<number> {
  const mounts = mountsUnder();
  for (const m of mounts) {
    await run('umount', [m], { allowFail: true });
    if (mountsUnder().includes(m)) await run('umount', ['-l', m], { allowFail: true });
  }
  return mounts.length;
}

/** Stops everything `up` started and removes its state, keeping the binary cache. */
export async function down(): Promise<void> {
  const ds = recordedDaemons();
  const byName = new Map(ds.map((d) => [d.name, d]));
  const stop = async (name: string): Promise<void> => {
    const d = byName.get(name);
    if (!d) return;
    if (isOurs(d)) log(`stopping ${name} (pid ${d.pid})`);
    await stopDaemon(d);
    byName.delete(name);
  };
  await stop('kubelet');
  // Containers first, while containerd still knows them; then containerd.
  await killContainers();
  for (const name of [...ORDER].reverse()) await stop(name);
  for (const d of byName.values()) await stopDaemon(d);
  for (const shim of strayShims()) {
    log(`stopping ${shim.name} (its task was deleted while containerd stopped)`);
    await stopDaemon(shim, 2000);
  }
  const unmounted = await unmountAll();
  if (unmounted > 0) log(`unmounted ${unmounted} mounts`);
  for (const r of await removeNetwork()) log(`removed ${r}`);
  for (const dir of [KUBELET_ROOT, CONTAINERD.state, CONTAINERD.root, POD_LOG_DIR, '/var/lib/cni/networks/execsession', STATE_DIR]) {
    if (mountsUnder().some((m) => m.startsWith(dir))) throw new Error(`${dir} still has mounts; not removing it`);
    rmSync(dir, { recursive: true, force: true });
  }
  log('down');
}

/** One line per daemon, for `cluster:status`. */
export function status(): string {
  const ds = recordedDaemons();
  if (ds.length === 0) return 'no local cluster is running';
  return ds.map((d) => `${d.name.padEnd(24)} pid ${String(d.pid).padEnd(8)} ${d.alive ? 'running' : 'DEAD'}`).join('\n');
}

/** A daemon of the running cluster, by its recorded pid (checked against its binary). */
function runningDaemon(name: string): Daemon {
  const d = recordedDaemons().find((r) => r.name === name && r.alive);
  if (!d) throw new Error(`${name} of the local cluster is not running`);
  return d;
}

/** Freezes a daemon with SIGSTOP: it holds its sockets but answers nothing, as a stalled process. */
export function pauseDaemon(name: string): number {
  const d = runningDaemon(name);
  process.kill(d.pid, 'SIGSTOP');
  return d.pid;
}

/** Lets a daemon frozen by pauseDaemon run again (SIGCONT). */
export function resumeDaemon(name: string): void {
  process.kill(runningDaemon(name).pid, 'SIGCONT');
}

/**
 * Kills etcd with SIGKILL, as a crash, and starts it again on the same data
 * directory; resolves once etcd is healthy and kube-apiserver ready again.
 */
export async function restartEtcd(): Promise<{ oldPid: number; newPid: number }> {
  const old = runningDaemon('etcd');
  process.kill(old.pid, 'SIGKILL');
  while (isOurs(old)) await new Promise((r) => setTimeout(r, 20));
  await untilPortsFree([PORTS.etcdClient, PORTS.etcdPeer]);
  const etcd = await start(components.etcd());
  await waitFor('etcd health', async () => ((await fetch(`http://127.0.0.1:${PORTS.etcdClient}/health`)).ok ? true : undefined), { timeoutMs: 30_000, daemon: etcd });
  await waitFor('kube-apiserver /readyz', async () => ((await adminGet('/readyz')).status === 200 ? true : undefined), { timeoutMs: 60_000 });
  return { oldPid: old.pid, newPid: etcd.pid };
}
