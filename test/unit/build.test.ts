/**
 * `npm run build` in a checkout (issue 11, item 2): nothing under src/ outside
 * its tests imports test/, the build leaves tests out and writes only its
 * output directory, and the compiled operator and CLI start under plain node.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { REPO_ROOT } from '../../tools/cluster/config.js';

const run = promisify(execFile);

async function files(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await files(p)));
    else out.push(p);
  }
  return out;
}

describe('npm run build', () => {
  let root: string;
  let outDir: string;
  let before_: string;

  before(async () => {
    // A package as it would be installed: package.json, node_modules, dist/.
    root = await mkdtemp(join(tmpdir(), 'execsession-build-'));
    outDir = join(root, 'dist');
    await copyFile(join(REPO_ROOT, 'package.json'), join(root, 'package.json'));
    await symlink(join(REPO_ROOT, 'node_modules'), join(root, 'node_modules'));
    before_ = (await run('git', ['status', '--porcelain', '--untracked-files=all'], { cwd: REPO_ROOT })).stdout;
    // The build's own configuration, with the output somewhere the test can remove.
    await run(join(REPO_ROOT, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.build.json', '--outDir', outDir], { cwd: REPO_ROOT, timeout: 300_000 });
  });

  after(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('imports nothing from test/ outside the tests under src/', async () => {
    const sources = (await files(join(REPO_ROOT, 'src'))).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
    assert.ok(sources.length > 50, `found ${sources.length} sources`);
    for (const f of sources) {
      assert.doesNotMatch(await readFile(f, 'utf8'), /from '(\.\.\/)+test\//, relative(REPO_ROOT, f));
    }
  });

  it('compiles no test, and writes nothing outside its output directory', async () => {
    const built = (await files(outDir)).map((f) => relative(outDir, f));
    assert.ok(built.includes('main.js') && built.includes('cli/main.js'), built.slice(0, 10).join(' '));
    assert.deepEqual(built.filter((f) => /\.test\.|^test\//.test(f)), []);
    assert.deepEqual(built.filter((f) => !/\.(js|js\.map|d\.ts)$/.test(f)), []);
    const after_ = (await run('git', ['status', '--porcelain', '--untracked-files=all'], { cwd: REPO_ROOT })).stdout;
    assert.equal(after_, before_, 'the build changed the work tree');
  });

  it('starts the compiled operator and CLI under plain node', async () => {
    const operator = await run(process.execPath, [join(outDir, 'main.js'), '--help'], { timeout: 30_000 });
    assert.match(operator.stdout, /Runs the execsession operator/);
    // bin/kubectl-execsession as a build would ship it: the compiled CLI, no tsx.
    await writeFile(join(root, 'kubectl-execsession.mjs'), "const { run } = await import('./dist/cli/main.js');\nawait run();\n");
    const cli = await run(process.execPath, [join(root, 'kubectl-execsession.mjs'), '--help'], { timeout: 30_000 });
    assert.match(cli.stdout, /kubectl execsession/);
  });
});

describe('npm run build:cli', () => {
  let dir: string;
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('writes one executable file that runs alone, without node_modules, found by kubectl on PATH', async () => {
    dir = await mkdtemp(join(tmpdir(), 'execsession-cli-'));
    const out = join(dir, 'kubectl-execsession');
    await promisify(execFile)(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'scripts/build-cli.ts'), out], { cwd: REPO_ROOT });
    assert.deepEqual(await readdir(dir), ['kubectl-execsession'], 'one file');
    assert.match(await readFile(out, 'utf8').then((s) => s.slice(0, 20)), /^#!\/usr\/bin\/env node\n/);
    // Run from the temporary directory, which has no node_modules anywhere above it.
    const help = await promisify(execFile)(out, ['--help'], { cwd: dir, env: { PATH: `${dirname(process.execPath)}:/usr/bin:/bin` } });
    assert.match(help.stdout, /^Usage: kubectl execsession COMMAND/);
    const viaKubectl = await promisify(execFile)('kubectl', ['execsession', '--help'], { cwd: dir, env: { PATH: `${dir}:${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin` } });
    assert.match(viaKubectl.stdout, /^Usage: kubectl execsession COMMAND/);
  });
});
