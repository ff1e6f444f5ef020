// `kubectl execsession <TAB>` through kubectl's own plugin completion: kubectl
// __complete finds bin/kubectl_complete-execsession on PATH and passes on its
// answer (cobra's protocol). Verbs and flags need no cluster; names from the API
// are unit-tested in src/cli/complete.test.ts.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../../tools/cluster/config.js';

async function kubectlComplete(...args: string[]): Promise<string> {
  const env = { ...process.env, PATH: `${join(REPO_ROOT, 'bin')}:${process.env.PATH ?? ''}`, KUBECONFIG: '/nonexistent' };
  return (await promisify(execFile)('kubectl', ['__complete', 'execsession', ...args], { env })).stdout;
}

describe('kubectl execsession <TAB>, through kubectl __complete', () => {
  it('completes verbs by prefix, with no file names', async () => {
    assert.equal(await kubectlComplete('a'), 'attach\napprove\n:4\n');
  });

  it("completes a verb's flags", async () => {
    assert.equal(await kubectlComplete('create', 'web', '--t'), '--ttl\n--tty\n--timeout\n--token\n:4\n');
  });

  it('completes no names when the API cannot be reached, without an error', async () => {
    assert.equal(await kubectlComplete('attach', ''), ':4\n');
  });
});

/** Runs the bash script `completion bash` prints, completing `line` as bash would on TAB, with bin/ on PATH. */
async function bashComplete(line: string): Promise<string[]> {
  const script = [
    // cobra's bash script needs the bash-completion package's functions, as on any desktop.
    'source /usr/share/bash-completion/bash_completion',
    'source <(kubectl-execsession completion bash)',
    `COMP_LINE=${JSON.stringify(line)}; COMP_POINT=\${#COMP_LINE}`,
    `COMP_WORDS=(${line.split(' ').map((w) => JSON.stringify(w)).join(' ')}); COMP_CWORD=$(( \${#COMP_WORDS[@]} - 1 ))`,
    '__start_kubectl-execsession',
    'printf "%s\\n" "${COMPREPLY[@]}"',
  ].join('\n');
  const env = { ...process.env, PATH: `${join(REPO_ROOT, 'bin')}:${process.env.PATH ?? ''}`, KUBECONFIG: '/nonexistent' };
  const { stdout } = await promisify(execFile)('bash', ['-c', script], { env });
  return stdout.split('\n').filter(Boolean).map((s) => s.trim());
}

describe('kubectl-execsession completion bash|zsh|fish, for the plugin run directly', () => {
  it('bash: the script completes verbs, flags and -o values through kubectl-execsession __complete', async () => {
    assert.deepEqual(await bashComplete('kubectl-execsession a'), ['attach', 'approve']);
    assert.deepEqual(await bashComplete('kubectl-execsession create web --t'), ['--ttl', '--tty', '--timeout', '--token']);
    assert.deepEqual(await bashComplete('kubectl-execsession list -o j'), ['json', 'jsonpath=']);
  });

  it('fish: the script completes verbs and -o values in a real fish', async () => {
    const env = { ...process.env, PATH: `${join(REPO_ROOT, 'bin')}:${process.env.PATH ?? ''}`, KUBECONFIG: '/nonexistent' };
    const script = 'kubectl-execsession completion fish | source; complete --do-complete "kubectl-execsession a"; complete --do-complete "kubectl-execsession get x -o j"';
    const { stdout } = await promisify(execFile)('fish', ['-c', script], { env });
    assert.deepEqual(stdout.split('\n').filter(Boolean).map((l) => l.split('\t')[0]), ['approve', 'attach', 'json', 'jsonpath=']);
  });

  it('zsh: a script zsh reads without error, asking kubectl-execsession __complete; an unknown shell is a usage error', async () => {
    const run = (shell: string): Promise<{ stdout: string }> => promisify(execFile)(join(REPO_ROOT, 'bin/kubectl-execsession'), ['completion', shell]);
    const zsh = (await run('zsh')).stdout;
    assert.match(zsh, /^#compdef kubectl-execsession\n[\s\S]*__complete/);
    const check = promisify(execFile)('zsh', ['-n']);
    check.child.stdin?.end(zsh);
    await check;
    await assert.rejects(run('powershell'), (e: { code: number; stderr: string }) => e.code === 1 && /completion powershell: use bash, zsh or fish/.test(e.stderr));
  });
});
