/**
 * The interactive path end to end, through a real terminal: tmux runs
 * `kubectl execsession attach` (the kubectl plugin mechanism, the CLI, kube-
 * apiserver, the operator, the helper, runc) as alice; keys are typed with
 * send-keys and the screen read with capture-pane. `id` shows alice, a window
 * resize reaches `stty size`, Ctrl-D ends the session's shell, the CLI exits 0
 * and the terminal's settings are as they were before.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { REPO_ROOT, STATE_DIR } from '../../tools/cluster/config.js';
import { eventually, grant, kubectl, kubectlOk, requireCluster, tempNamespace, userKubeconfig } from '../../tools/support/cluster.js';
import { OperatorProcess, grantSubresources, installCrds, waitForApi } from '../../tools/support/operator.js';
import { runTargetPod } from '../../tools/support/pods.js';
import { createSession, waitForPhase } from '../support/sessions.js';

const run = promisify(execFile);

describe('interactive attach in a real terminal (tmux)', () => {
  let ns: Awaited<ReturnType<typeof tempNamespace>>;
  let operator: OperatorProcess;
  let dir: string;
  // A private tmux server: nothing of the developer's own tmux is touched.
  let socket: string;
  const tmux = (...args: string[]): Promise<{ stdout: string }> => run('tmux', ['-S', socket, ...args]);
  const screen = async (): Promise<string> => (await tmux('capture-pane', '-p', '-t', 'es')).stdout;
  const waitScreen = (re: RegExp, what: string): Promise<string | undefined> => eventually(what, async () => {
    const s = await screen();
    return re.test(s) ? s : undefined;
  }, 30_000, 100).catch(async (e: unknown) => {
    throw new Error(`${String(e)}\nscreen:\n${await screen().catch(() => '(gone)')}`);
  });

  before(async () => {
    requireCluster();
    await installCrds();
    ns = await tempNamespace('tty');
    await runTargetPod('target', ns.name, { runAsUser: 1001, runAsGroup: 1001 });
    await grant(ns.name, 'sessions', ['create', 'get', 'list', 'watch'], 'execsessions.execsession.dev', ['alice']);
    await grant(ns.name, 'exec', ['create', 'get'], 'pods/exec', ['alice']);
    await grantSubresources(ns.name, 'attach', ['attach'], ['create', 'get'], ['alice']);
    await kubectlOk(['apply', '-f', '-'], { input: JSON.stringify({
      apiVersion: 'execsession.dev/v1alpha1', kind: 'ClusterExecPolicy', metadata: { name: `tty-${ns.name}` },
      spec: { subjects: [{ kind: 'User', name: 'alice' }], targets: { namespaces: [ns.name] }, users: { allowedNames: ['alice'] } },
    }) });
    operator = new OperatorProcess();
    await operator.start();
    await waitForApi();
    const alice = await userKubeconfig('alice', ['developers']);
    await createSession(ns.name, 'shell', { podName: 'target', user: 'alice', ttl: '10m' }, alice);
    await waitForPhase(ns.name, 'shell', ['Ready']);
    dir = mkdtempSync(join(tmpdir(), 'execsession-tty-'));
    socket = join(dir, 'tmux.sock');
    // The pane's shell records the terminal settings, attaches, records the exit code and the settings again.
    const script = join(dir, 'pane.sh');
    writeFileSync(script, [
      'stty -g > "$DIR/before"',
      'kubectl execsession attach shell -n "$NS"',
      'echo "EXIT=$?"',
      'stty -g > "$DIR/after"',
      'exec sleep 600',
    ].join('\n'));
    const env = [`DIR=${dir}`, `NS=${ns.name}`, `KUBECONFIG=${alice}`, `KUBECACHEDIR=${join(STATE_DIR, 'kubectl-cache')}`, `PATH=${join(REPO_ROOT, 'bin')}:${process.env.PATH ?? ''}`, 'TERM=xterm-256color'];
    await tmux('-f', '/dev/null', 'new-session', '-d', '-s', 'es', '-x', '100', '-y', '30', 'env', ...env, 'sh', script);
    await tmux('set-option', '-t', 'es', 'status', 'off');
  });

  after(async () => {
    if (socket) await tmux('kill-server').catch(() => undefined);
    await operator?.stop();
    await kubectl(['delete', 'clusterexecpolicy', `tty-${ns.name}`]);
    await ns?.remove();
  });

  it('attaches as alice: id shows her identity', async () => {
    await waitScreen(/\$\s*$/m, 'the shell prompt');
    await tmux('send-keys', '-t', 'es', 'id', 'Enter');
    await waitScreen(/uid=1000\(alice\) gid=1000\(alice\) groups=1000\(alice\),2000\(ops\)/, 'id as alice');
  });

  it('follows a window resize', async () => {
    await tmux('send-keys', '-t', 'es', 'clear; stty size', 'Enter');
    await waitScreen(/^30 100$/m, 'stty size 30 100');
    await tmux('resize-window', '-t', 'es', '-x', '120', '-y', '40');
    await tmux('send-keys', '-t', 'es', 'clear; stty size', 'Enter');
    await waitScreen(/^40 120$/m, 'stty size 40 120 after the resize');
  });

  it('ends on Ctrl-D with exit code 0 and the terminal restored', async () => {
    await tmux('send-keys', '-t', 'es', 'C-d');
    await waitScreen(/EXIT=0/, 'the CLI to exit 0');
    await eventually('the settings after the attach', async () => readFileSync(join(dir, 'after'), 'utf8').length > 0, 10_000);
    assert.equal(readFileSync(join(dir, 'after'), 'utf8'), readFileSync(join(dir, 'before'), 'utf8'));
  });
});
