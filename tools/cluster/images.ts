/**
 * Container images without a registry: OCI image archives built from Debian's
 * busybox-static, imported into containerd's k8s.io namespace and used with
 * imagePullPolicy: Never.
 */
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { CONTAINERD, IMAGES, REPO_ROOT, paths } from './config.js';
import { run } from './proc.js';

const BUSYBOX = '/bin/busybox';

/** Users of the target image; tests and docs rely on these ids. */
export const TARGET_PASSWD = [
  'root:x:0:0:root:/root:/bin/sh',
  'alice:x:1000:1000:Alice:/home/alice:/bin/sh',
  'bob:x:1001:1001:Bob:/home/bob:/bin/ash',
  'nohome:x:1002:1002:No home:/nonexistent:/bin/sh',
  'nobody:x:65534:65534:nobody:/nonexistent:/bin/false',
].join('\n');

export const TARGET_GROUP = [
  'root:x:0:',
  'alice:x:1000:',
  'bob:x:1001:',
  'nohome:x:1002:',
  'ops:x:2000:alice,bob',
  'nogroup:x:65534:',
].join('\n');

/** What an image holds and how it starts; the archive writer below needs nothing else. */
export interface ImageDef {
  ref: string;
  cmd?: string[];
  entrypoint?: string[];
  /** Numeric `uid:gid`, so that runAsNonRoot can verify it. */
  user?: string;
  env?: string[];
  workingDir?: string;
  labels?: Record<string, string>;
  passwd: string;
  group: string;
  homes: Array<[string, number, number]>;
  /** Debian's static busybox and its applets (sh, the tools); off for an image with no shell. */
  busybox?: boolean;
  /** Also compile helper/enter.c into /usr/local/bin/execsession-enter (the nsenter backend). */
  enter?: boolean;
  /** Lays out the rest of the root filesystem. */
  extra?: (root: string) => Promise<void>;
  /** Layers gzip-compressed (images meant for registries). */
  gzip?: boolean;
}

/** The helper image, from one recipe for the tests and for release (see scripts/images.ts). */
export function helperImage(ref: string): ImageDef {
  return {
    ref,
    cmd: ['/bin/sh', '-c', 'trap "exit 0" TERM; while :; do sleep 1; done'],
    passwd: 'root:x:0:0:root:/root:/bin/sh',
    group: 'root:x:0:',
    homes: [['/root', 0, 0]],
    enter: true,
  };
}

const DEFS: ImageDef[] = [
  {
    ref: IMAGES.target,
    cmd: ['/bin/sh', '-c', 'trap "exit 0" TERM; while :; do sleep 1; done'],
    passwd: TARGET_PASSWD,
    group: TARGET_GROUP,
    homes: [['/root', 0, 0], ['/home/alice', 1000, 1000], ['/home/bob', 1001, 1001]],
  },
  helperImage(IMAGES.helper),
  {
    // The pod sandbox ("pause") container only has to sleep; it is killed, not asked.
    ref: IMAGES.pause,
    cmd: ['/bin/sleep', '2147483647'],
    passwd: 'root:x:0:0:root:/root:/bin/sh',
    group: 'root:x:0:',
    homes: [],
  },
];

/** Lays out a root filesystem (busybox unless def says not) with the given users, groups and homes. */
async function buildRootfs(def: ImageDef, root: string): Promise<void> {
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  if (def.busybox !== false) {
    mkdirSync(join(root, 'bin'), { recursive: true });
    copyFileSync(BUSYBOX, join(root, 'bin/busybox'));
    chmodSync(join(root, 'bin/busybox'), 0o755);
    const applets = (await run(BUSYBOX, ['--list-full'])).split('\n').filter(Boolean);
    for (const applet of applets) {
      // busybox lists itself; linking it to itself makes every applet a symlink loop.
      if (applet === 'bin/busybox') continue;
      mkdirSync(join(root, dirname(applet)), { recursive: true });
      const depth = applet.split('/').length - 1;
      symlinkSync(`${'../'.repeat(depth)}bin/busybox`, join(root, applet));
    }
  }
  for (const d of ['etc', 'proc', 'sys', 'dev', 'home', 'var/run']) mkdirSync(join(root, d), { recursive: true });
  mkdirSync(join(root, 'tmp'), { mode: 0o1777 });
  chmodSync(join(root, 'tmp'), 0o1777);
  writeFileSync(join(root, 'etc/passwd'), `${def.passwd}\n`);
  writeFileSync(join(root, 'etc/group'), `${def.group}\n`);
  for (const [home, uid, gid] of def.homes) {
    mkdirSync(join(root, home), { recursive: true, mode: 0o750 });
    chownSync(join(root, home), uid, gid);
  }
  if (def.enter) {
    mkdirSync(join(root, 'usr/local/bin'), { recursive: true });
    await run('gcc', ['-static', '-O2', '-Wall', '-o', join(root, 'usr/local/bin/execsession-enter'), join(REPO_ROOT, 'helper/enter.c')]);
  }
  await def.extra?.(root);
}

/**
 * The reference as the kubelet asks containerd for it: `execsession:0.1.0` is
 * `docker.io/library/execsession:0.1.0` (a first component without a dot, a colon
 * or localhost is not a registry), so that is the name an import must give it.
 */
export function normalizedRef(ref: string): string {
  const slash = ref.indexOf('/');
  const first = slash < 0 ? '' : ref.slice(0, slash);
  if (first.includes('.') || first.includes(':') || first === 'localhost') return ref;
  return `docker.io/${slash < 0 ? 'library/' : ''}${ref}`;
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** An image archive and its manifest's digest (what a registry names it by). */
export interface BuiltImage {
  archive: string;
  digest: string;
}

/**
 * Writes an OCI image layout for def into work, packs it as work.tar (or
 * `archive`, outside work) and removes work: reproducible (sorted, owners numeric, times zero, gzip without a name
 * or time), loadable with `ctr images import`, `docker load` and `skopeo copy oci-archive:`.
 */
export async function buildArchive(def: ImageDef, work: string, archive = `${work}.tar`): Promise<BuiltImage> {
  const rootfs = join(work, 'rootfs');
  const layout = join(work, 'oci');
  await buildRootfs(def, rootfs);
  rmSync(layout, { recursive: true, force: true });
  const blobs = join(layout, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  const layerFile = join(work, 'layer.tar');
  await run('tar', ['--numeric-owner', '--sort=name', '--mtime=@0', '-C', rootfs, '-cf', layerFile, '.']);
  const tar = readFileSync(layerFile);
  const diffId = sha256(tar);
  rmSync(layerFile);
  const layer = def.gzip ? gzipSync(tar, { level: 9 }) : tar;
  const layerDigest = sha256(layer);
  writeFileSync(join(blobs, layerDigest), layer);
  const blob = (obj: unknown): { digest: string; size: number } => {
    const data = Buffer.from(JSON.stringify(obj));
    const digest = sha256(data);
    writeFileSync(join(blobs, digest), data);
    return { digest: `sha256:${digest}`, size: data.length };
  };
  const config = blob({
    architecture: 'amd64',
    os: 'linux',
    config: {
      Env: def.env ?? ['PATH=/usr/sbin:/usr/bin:/sbin:/bin'],
      ...(def.entrypoint ? { Entrypoint: def.entrypoint } : {}),
      ...(def.cmd ? { Cmd: def.cmd } : {}),
      ...(def.user ? { User: def.user } : {}),
      ...(def.labels ? { Labels: def.labels } : {}),
      WorkingDir: def.workingDir ?? '/',
    },
    rootfs: { type: 'layers', diff_ids: [`sha256:${diffId}`] },
  });
  const manifest = blob({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
    layers: [{ mediaType: `application/vnd.oci.image.layer.v1.tar${def.gzip ? '+gzip' : ''}`, digest: `sha256:${layerDigest}`, size: layer.length }],
    ...(def.labels ? { annotations: def.labels } : {}),
  });
  writeFileSync(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(join(layout, 'index.json'), JSON.stringify({
    schemaVersion: 2,
    manifests: [{
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      ...manifest,
      platform: { architecture: 'amd64', os: 'linux' },
      annotations: { 'io.containerd.image.name': normalizedRef(def.ref), 'org.opencontainers.image.ref.name': def.ref.split(':').pop() },
    }],
  }));
  await run('tar', ['--numeric-owner', '--sort=name', '--mtime=@0', '-C', layout, '-cf', archive, '.']);
  rmSync(work, { recursive: true, force: true });
  return { archive, digest: manifest.digest };
}

/** Image references the local cluster's containerd has (normalized, as normalizedRef names them). */
export async function importedImages(): Promise<Set<string>> {
  const out = await run('ctr', ['--address', CONTAINERD.socket, '-n', CONTAINERD.namespace, 'images', 'list', '-q']);
  return new Set(out.split('\n').filter(Boolean));
}

/** Imports an image archive into the local cluster's containerd, where the kubelet finds it. */
export async function importArchive(archive: string): Promise<void> {
  if (statSync(archive).size === 0) throw new Error(`image archive ${archive} is empty`);
  await run('ctr', ['--address', CONTAINERD.socket, '-n', CONTAINERD.namespace, 'images', 'import', archive]);
}

/** A digest of everything an image is built from, so a changed input rebuilds it. */
function inputsDigest(def: ImageDef): string {
  const enter = def.enter ? readFileSync(join(REPO_ROOT, 'helper/enter.c')) : Buffer.alloc(0);
  return createHash('sha256').update(JSON.stringify(def)).update(enter).update(readFileSync(BUSYBOX)).digest('hex');
}

/** Builds and imports every test image containerd lacks or whose inputs changed. */
export async function ensureImages(): Promise<void> {
  const have = await importedImages();
  mkdirSync(paths.images, { recursive: true });
  for (const def of DEFS) {
    const stamp = join(paths.images, `${def.ref.replace(/[/:]/g, '_')}.inputs`);
    const digest = inputsDigest(def);
    if (have.has(normalizedRef(def.ref)) && existsSync(stamp) && readFileSync(stamp, 'utf8') === digest) continue;
    const work = join(paths.images, def.ref.replace(/[/:]/g, '_'));
    const { archive } = await buildArchive(def, work);
    await importArchive(archive);
    rmSync(archive, { force: true });
    writeFileSync(stamp, digest);
  }
}
