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
