/**
 * `npm run release:cli`: the CLI as kubectl plugins are distributed, with krew.
 * Writes to dist/release/ (or OUT):
 *   kubectl-execsession-vVERSION.tar.gz   the single-file CLI (npm run build:cli) and LICENSE,
 *                                         reproducibly (sorted, numeric owners, zero times, gzip -n)
 *   plugins/execsession.yaml              the krew manifest naming that archive and its sha256
 *   execsession-VERSION.tgz               the npm package `execsession`: the same single file as its
 *                                         `kubectl-execsession` bin, LICENSE and README, no dependencies,
 *                                         so `npm install -g execsession` (or this file) gives the plugin
 *                                         (ADR 28: the published package is the CLI; the operator ships as images)
 * The archive's URL is RELEASE_BASE/vVERSION/NAME, where RELEASE_BASE is
 * $EXECSESSION_RELEASE_URL, else SOURCE/releases/download for a GitHub source
 * ($EXECSESSION_IMAGE_SOURCE or the origin remote, as for the images).
 * The bundle needs `node` (20 or later) on PATH; krew installs it as kubectl-execsession.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { buildCli } from './build-cli.js';
import { sourceUrl } from './images.js';

const exec = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string; description: string };

/** Where release archives are downloaded from. */
async function releaseBase(): Promise<string> {
  if (process.env.EXECSESSION_RELEASE_URL) return process.env.EXECSESSION_RELEASE_URL.replace(/\/$/, '');
  const source = (await sourceUrl()).replace(/\.git$/, '');
  if (/^https:\/\/github\.com\/[^/]+\/[^/]+$/.test(source)) return `${source}/releases/download`;
  process.stderr.write(`release:cli: the source (${source}) is not a GitHub repository; set EXECSESSION_RELEASE_URL to where the archive will be published\n`);
  return 'https://github.com/OWNER/execsession/releases/download';
}

/** The krew manifest for an archive. */
export function krewManifest(o: { version: string; uri: string; sha256: string; homepage: string }): object {
  const platform = (os: string, arch: string): object => ({
    selector: { matchLabels: { os, arch } }, uri: o.uri, sha256: o.sha256, bin: 'kubectl-execsession',
    files: [{ from: 'kubectl-execsession', to: '.' }, { from: 'LICENSE', to: '.' }],
  });
  return {
    apiVersion: 'krew.googlecontainertools.github.com/v1alpha2', kind: 'Plugin', metadata: { name: 'execsession' },
    spec: {
      version: `v${o.version}`, homepage: o.homepage,
      shortDescription: 'Enter a running container as a chosen user, for a limited time',
      description: `${pkg.description}\nNeeds the execsession operator in the cluster, and node 20 or later on PATH.`,
      caveats: 'kubectl execsession runs on node (20 or later), which must be on PATH.',
      // One JavaScript file: the same archive serves every platform node runs on.
      platforms: [['linux', 'amd64'], ['linux', 'arm64'], ['darwin', 'amd64'], ['darwin', 'arm64']].map(([os, arch]) => platform(os!, arch!)),
    },
  };
}

/** The npm package's package.json: the bundle as the bin, nothing to install beside it. */
export function npmPackageJson(homepage: string): object {
  const full = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string; description: string; license: string };
  return {
    name: full.name, version: full.version, description: full.description, license: full.license, homepage, type: 'module',
    keywords: ['kubernetes', 'kubectl-plugin', 'exec', 'break-glass'],
    engines: { node: '>=20' }, bin: { 'kubectl-execsession': 'kubectl-execsession.mjs', 'kubectl_complete-execsession': 'kubectl-execsession.mjs' },
    files: ['kubectl-execsession.mjs', 'LICENSE', 'README.md'],
  };
}

/** Packs the bundle as the npm package into outDir; returns the .tgz path. */
async function npmPackage(bundle: string, outDir: string, homepage: string): Promise<string> {
  const stage = mkdtempSync(join(tmpdir(), 'execsession-npm-'));
  try {
    copyFileSync(bundle, join(stage, 'kubectl-execsession.mjs'));
    copyFileSync(join(ROOT, 'LICENSE'), join(stage, 'LICENSE'));
    writeFileSync(join(stage, 'README.md'), `# execsession\n\nThe \`kubectl execsession\` plugin: enter a running container as a chosen user, for a limited time.\n\n    npm install -g execsession\n    kubectl execsession --help\n\nIt needs the execsession operator in the cluster: ${homepage}\n`);
    writeFileSync(join(stage, 'package.json'), `${JSON.stringify(npmPackageJson(homepage), null, 2)}\n`);
    const { stdout } = await exec('npm', ['pack', '--silent', '--pack-destination', outDir], { cwd: stage });
    return join(outDir, stdout.trim().split('\n').at(-1)!);
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

export async function releaseCli(outDir = join(ROOT, 'dist/release')): Promise<{ archive: string; manifest: string; sha256: string; npm: string }> {
  const stage = mkdtempSync(join(tmpdir(), 'execsession-release-'));
  try {
    await buildCli(join(stage, 'kubectl-execsession'));
    copyFileSync(join(ROOT, 'LICENSE'), join(stage, 'LICENSE'));
    mkdirSync(join(outDir, 'plugins'), { recursive: true });
    const name = `kubectl-execsession-v${pkg.version}.tar.gz`;
    const archive = join(outDir, name);
    await exec('bash', ['-c', 'set -o pipefail; tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$1" -cf - kubectl-execsession LICENSE | gzip -n -9 > "$2"', '_', stage, archive]);
    const sha256 = createHash('sha256').update(readFileSync(archive)).digest('hex');
    const base = await releaseBase();
    const manifest = join(outDir, 'plugins/execsession.yaml');
    const homepage = base.replace(/\/releases\/download$/, '');
    writeFileSync(manifest, stringify(krewManifest({ version: pkg.version, uri: `${base}/v${pkg.version}/${name}`, sha256, homepage })));
    const npm = await npmPackage(join(stage, 'kubectl-execsession'), outDir, homepage);
    return { archive, manifest, sha256, npm };
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  releaseCli(process.argv[2]).then(
    (r) => process.stdout.write(`${r.archive}\tsha256:${r.sha256}\n${r.manifest}\n${r.npm}\n`),
    (e: unknown) => {
      process.stderr.write(`release:cli: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exit(1);
    },
  );
}
