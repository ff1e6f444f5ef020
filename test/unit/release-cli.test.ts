// npm run release:cli: the krew manifest names the archive it writes, with its
// sha256, and the archive holds what the manifest says, which runs alone.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { REPO_ROOT } from '../../tools/cluster/config.js';

const exec = promisify(execFile);

interface Platform { selector: { matchLabels: Record<string, string> }; uri: string; sha256: string; bin: string; files: Array<{ from: string; to: string }> }

describe('npm run release:cli', () => {
  let dir = '';
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('writes a krew manifest whose fields, uri and sha256 match the archive, which holds the CLI and LICENSE', async () => {
    dir = await mkdtemp(join(tmpdir(), 'execsession-release-'));
    const env = { ...process.env, EXECSESSION_RELEASE_URL: 'https://github.com/example/execsession/releases/download' };
    await exec(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'scripts/release-cli.ts'), dir], { cwd: REPO_ROOT, env });
    const version = (JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    const archive = join(dir, `kubectl-execsession-v${version}.tar.gz`);
    const sha256 = createHash('sha256').update(await readFile(archive)).digest('hex');
    const m = parse(await readFile(join(dir, 'plugins/execsession.yaml'), 'utf8')) as { apiVersion: string; kind: string; metadata: { name: string }; spec: { version: string; homepage: string; shortDescription: string; platforms: Platform[] } };
    assert.equal(m.apiVersion, 'krew.googlecontainertools.github.com/v1alpha2');
    assert.equal(m.kind, 'Plugin');
    assert.equal(m.metadata.name, 'execsession');
    assert.equal(m.spec.version, `v${version}`);
    assert.equal(m.spec.homepage, 'https://github.com/example/execsession');
    assert.ok(m.spec.shortDescription.length > 0 && m.spec.shortDescription.length <= 255);
    assert.ok(m.spec.platforms.some((p) => p.selector.matchLabels.os === 'linux' && p.selector.matchLabels.arch === 'amd64'));
    const files = (await exec('tar', ['-tzf', archive])).stdout.split('\n').filter(Boolean).sort();
    assert.deepEqual(files, ['LICENSE', 'kubectl-execsession']);
    for (const p of m.spec.platforms) {
      assert.equal(p.uri, `https://github.com/example/execsession/releases/download/v${version}/${basename(archive)}`);
      assert.equal(p.sha256, sha256);
      assert.equal(p.bin, 'kubectl-execsession');
      for (const f of p.files) assert.ok(files.includes(f.from), f.from);
    }
    // Unpacked as krew would, it runs alone.
    const unpacked = join(dir, 'unpacked');
    await exec('mkdir', ['-p', unpacked]);
    await exec('tar', ['-xzf', archive, '-C', unpacked]);
    assert.deepEqual((await readdir(unpacked)).sort(), ['LICENSE', 'kubectl-execsession']);
    const help = await exec(join(unpacked, 'kubectl-execsession'), ['--help'], { cwd: unpacked });
    assert.match(help.stdout, /^Usage: kubectl execsession COMMAND/);

    // npm install -g of the npm package it writes: the bundle as kubectl-execsession, nothing else to fetch
    // (--offline: a dependency would fail the install), found by kubectl's plugin lookup on the prefix's PATH.
    const npmPkg = join(dir, `execsession-${version}.tgz`);
    const prefix = join(dir, 'global');
    await exec('npm', ['install', '-g', '--offline', '--no-audit', '--no-fund', '--prefix', prefix, npmPkg], { cwd: dir });
    const installed = await exec(join(prefix, 'bin/kubectl-execsession'), ['version', '--client']);
    assert.equal(installed.stdout, `Plugin Version: ${version}\n`);
    const viaKubectl = await exec('kubectl', ['execsession', 'version', '--client'], { env: { ...process.env, PATH: `${join(prefix, 'bin')}:/usr/local/bin:/usr/bin:/bin`, KUBECONFIG: '/nonexistent' } });
    assert.equal(viaKubectl.stdout, `Plugin Version: ${version}\n`);
    const meta = JSON.parse(await readFile(join(prefix, 'lib/node_modules/execsession/package.json'), 'utf8')) as { dependencies?: object; bin: Record<string, string> };
    assert.equal(meta.dependencies, undefined);
    assert.deepEqual(meta.bin, { 'kubectl-execsession': 'kubectl-execsession.mjs', 'kubectl_complete-execsession': 'kubectl-execsession.mjs' });
    // kubectl's plugin completion finds the second bin, the same file.
    const completed = await exec('kubectl', ['__complete', 'execsession', 'a'], { env: { ...process.env, PATH: `${join(prefix, 'bin')}:/usr/local/bin:/usr/bin:/bin`, KUBECONFIG: '/nonexistent' } });
    assert.equal(completed.stdout, 'attach\napprove\n:4\n');
    assert.deepEqual((await readdir(join(prefix, 'lib/node_modules/execsession'))).sort(), ['LICENSE', 'README.md', 'kubectl-execsession.mjs', 'package.json']);
  });
});
