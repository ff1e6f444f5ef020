/**
 * `npm run bench:attach`: the cost of going through execsession instead of
 * `kubectl exec`, on the same cluster, same target, same run:
 *
 *   - echo round trip: one byte written to `cat` and read back, 50 times, through
 *     the attach WebSocket and through a `kubectl exec -i` child process;
 *   - throughput: 200 MiB of stdout (`head -c 209715200 /dev/zero`) through
 *     attach, through the `kubectl execsession attach` CLI, through `kubectl exec`, and
 *     through a plain pods/exec WebSocket (what attach relays to, minus the operator).
 *
 * Prints medians and ratios, against `kubectl exec` and against the plain pods/exec
 * stream (issue 15's goals: attach moves at least 0.9x of it, and its echo round trip
 * is at most 0.5 ms above it). The operator runs bundled, as the image runs it. Starts the local cluster if none runs (and stops it again).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../tools/cluster/config.js';
import { attach } from '../test/support/attach.js';
import { ADMIN_KUBECONFIG, kubeConfig } from '../tools/support/cluster.js';
import { KubeClient } from '../src/k8s/kube.js';
import { waitForApi } from '../tools/support/operator.js';
import { fail, roundTrips, withTarget } from './fixture.js';
import { createSession, waitForPhase } from '../test/support/sessions.js';

const ECHOES = Number(process.env.BENCH_ECHOES ?? 50);
const BYTES = Number(process.env.BENCH_BYTES ?? 200 * 1024 * 1024);
const STREAM = ['head', '-c', String(BYTES), '/dev/zero'];

function median(ms: number[]): number {
  const s = [...ms].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

/** Round trips of one byte through `cat` on an attach. */
async function attachEcho(ns: string): Promise<number[]> {
  const a = await attach(ADMIN_KUBECONFIG, ns, 'bench', { command: ['cat'], tty: false });
  const times = await roundTrips(ECHOES, () => a.send('x'), () => a.stdoutBytes());
  a.ws.close();
  await a.done;
  return times;
}

/** Round trips of one byte through `cat` on a plain pods/exec WebSocket (what attach relays to, minus the operator). */
async function podsExecEcho(ns: string): Promise<number[]> {
  const kube = new KubeClient(kubeConfig());
  const container = (await kube.getPod(ns, 'target'))?.spec?.containers[0]?.name ?? '';
  const ws = await kube.openExecStream(ns, 'target', container, ['cat'], { tty: false, stdin: true });
  let got = 0;
  ws.on('message', (d: Buffer) => { if (d[0] === 1) got += d.length - 1; });
  const times = await roundTrips(ECHOES, () => ws.send(Buffer.from([0, 0x78])), () => got);
  ws.close();
  return times;
}

/** Round trips of one byte through `cat` under `kubectl exec -i`. */
async function kubectlEcho(ns: string): Promise<number[]> {
  const child = spawn('kubectl', ['--kubeconfig', ADMIN_KUBECONFIG, '-n', ns, 'exec', '-i', 'target', '--', 'cat'], { stdio: ['pipe', 'pipe', 'inherit'] });
  let got = 0;
  child.stdout.on('data', (b: Buffer) => { got += b.length; });
  // The first byte also waits for the stream to be set up; it is not counted.
  child.stdin.write('w');
  while (got === 0) await new Promise((r) => setTimeout(r, 5));
  const times = await roundTrips(ECHOES, () => child.stdin.write('x'), () => got);
  child.stdin.end();
  await new Promise((r) => child.once('exit', r));
  return times;
}

/** Seconds to receive BYTES of stdout through an attach. */
async function attachStream(ns: string): Promise<number> {
  const start = Date.now();
  const a = await attach(ADMIN_KUBECONFIG, ns, 'bench', { command: STREAM, tty: false, stdin: false, keep: false });
  const { status } = await a.done;
  if (a.stdoutBytes() !== BYTES || status?.status !== 'Success') throw new Error(`attach streamed ${a.stdoutBytes()} bytes, status ${JSON.stringify(status)}`);
  return (Date.now() - start) / 1000;
}

/** Seconds to receive BYTES of stdout on a plain pods/exec WebSocket. */
async function podsExecStream(ns: string): Promise<number> {
  const kube = new KubeClient(kubeConfig());
  const container = (await kube.getPod(ns, 'target'))?.spec?.containers[0]?.name ?? '';
  const start = Date.now();
  const ws = await kube.openExecStream(ns, 'target', container, STREAM, { tty: false, stdin: false });
  let got = 0;
  let status = '';
  ws.on('message', (d: Buffer) => {
    if (d[0] === 1) got += d.length - 1;
    else if (d[0] === 3) status = d.subarray(1).toString();
  });
  await new Promise((resolve, reject) => { ws.once('close', resolve); ws.once('error', reject); });
  if (got !== BYTES || !status.includes('Success')) throw new Error(`pods/exec streamed ${got} bytes, status ${status}`);
  return (Date.now() - start) / 1000;
}

/** Seconds for a command's stdout to reach us in full. */
function childStream(cmd: string, args: string[]): Promise<number> {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, KUBECONFIG: ADMIN_KUBECONFIG } });
    let got = 0;
    child.stdout.on('data', (b: Buffer) => { got += b.length; });
    child.once('exit', (code) => (code === 0 && got === BYTES ? resolve((Date.now() - start) / 1000) : reject(new Error(`${cmd} exited ${code} after ${got} bytes`))));
  });
}

function row(label: string, value: string, ratio?: number, of = 'kubectl exec'): string {
  return `${label.padEnd(44)} ${value.padStart(12)}${ratio === undefined ? '' : `   x${ratio.toFixed(2)} of ${of}`}`;
}

/** Which streaming protocol `kubectl exec` negotiates with this cluster (from its -v=8 log). */
async function kubectlProtocol(ns: string): Promise<string> {
  const log = await new Promise<string>((resolve) => {
    const child = spawn('kubectl', ['--kubeconfig', ADMIN_KUBECONFIG, '-v=8', '-n', ns, 'exec', 'target', '--', 'true'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (b: Buffer) => void (err += b.toString()));
    child.on('close', () => resolve(err));
  });
  const ws = /"Subprotocol negotiated" protocol="([^"]+)"/.exec(log)?.[1];
  if (ws) return `WebSocket, ${ws}`;
  const spdy = /X-Stream-Protocol-Version: (\S+)/i.exec(log)?.[1];
  return spdy ? `SPDY, ${spdy}` : 'unknown (no protocol in kubectl -v=8 output)';
}

async function bench(ns: string): Promise<void> {
  await waitForApi();
  await createSession(ns, 'bench', { podName: 'target', user: 'alice', ttl: '30m' });
  await waitForPhase(ns, 'bench', ['Ready']);
  const echoKubectl = median(await kubectlEcho(ns));
  const echoAttach = median(await attachEcho(ns));
  const echoPodsExec = median(await podsExecEcho(ns));
  const mib = (BYTES / 1024 / 1024).toFixed(0);
  const plugin = join(REPO_ROOT, 'bin', 'kubectl-execsession');
  const streamKubectl = await childStream('kubectl', ['-n', ns, 'exec', 'target', '--', ...STREAM]);
  const streamAttach = await attachStream(ns);
  const streamCli = await childStream(process.execPath, [plugin, 'attach', 'bench', '-n', ns, '-T', '--', ...STREAM]);
  const streamPodsExec = await podsExecStream(ns);
  const protocol = await kubectlProtocol(ns);
  console.log('\nattach against kubectl exec, same cluster, same target, same run');
  console.log(`kubectl exec protocol: ${protocol}`);
  console.log(row(`echo round trip, median of ${ECHOES} (ms)`, ''));
  console.log(row('  kubectl exec -i', echoKubectl.toFixed(2)));
  console.log(row('  pods/exec WebSocket, no operator', echoPodsExec.toFixed(2), echoPodsExec / echoKubectl));
  console.log(row('  execsession attach (WebSocket)', echoAttach.toFixed(2), echoAttach / echoKubectl));
  console.log(row(`stream ${mib} MiB of stdout (s, MiB/s)`, ''));
  const rate = (s: number): string => `${s.toFixed(2)} ${(BYTES / 1024 / 1024 / s).toFixed(0).padStart(4)}`;
  console.log(row('  kubectl exec', rate(streamKubectl)));
  console.log(row('  execsession attach (WebSocket)', rate(streamAttach), streamAttach / streamKubectl));
  console.log(row('  kubectl execsession attach (CLI)', rate(streamCli), streamCli / streamKubectl));
  console.log(row('  pods/exec WebSocket, no operator', rate(streamPodsExec), streamPodsExec / streamKubectl));
  console.log('\nattach against the plain pods/exec WebSocket it relays to (goals: throughput >= x0.90, echo <= +0.50 ms)');
  // Throughput as a ratio of rates: above 1 would mean attach is faster than what it relays.
  console.log(row('  attach throughput (rate ratio)', '', streamPodsExec / streamAttach, 'pods/exec'));
  console.log(row('  attach echo round trip, added (ms)', `+${(echoAttach - echoPodsExec).toFixed(2)}`));
}

withTarget('bench-attach', bench).catch(fail);
