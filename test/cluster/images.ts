/**
 * Container images without a registry: OCI image archives built from Debian's
 * busybox-static, imported into containerd's k8s.io namespace and used with
 * imagePullPolicy: Never.
 */
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
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

interface ImageDef {
  ref: string;
  cmd: string[];
  passwd: string;
  group: string;
  homes: Array<[string, number, number]>;
  /** Also compile helper/enter.c into /usr/local/bin/execsession-enter (the nsenter backend). */
  enter?: boolean;
}

const DEFS: ImageDef[] = [
  {
    ref: IMAGES.target,
    cmd: ['/bin/sh', '-c', 'trap "exit 0" TERM; while :; do sleep 1; done'],
    passwd: TARGET_PASSWD,
    group: TARGET_GROUP,
    homes: [['/root', 0, 0], ['/home/alice', 1000, 1000], ['/home/bob', 1001, 1001]],
  },
  {
    ref: IMAGES.helper,
    cmd: ['/bin/sh', '-c', 'trap "exit 0" TERM; while :; do sleep 1; done'],
    passwd: 'root:x:0:0:root:/root:/bin/sh',
    group: 'root:x:0:',
    homes: [['/root', 0, 0]],
    enter: true,
  },
  {
    // The pod sandbox ("pause") container only has to sleep; it is killed, not asked.
    ref: IMAGES.pause,
    cmd: ['/bin/sleep', '2147483647'],
    passwd: 'root:x:0:0:root:/root:/bin/sh',
    group: 'root:x:0:',
    homes: [],
  },
];

/** Lays out a busybox root filesystem with the given users, groups and homes. */
async function buildRootfs(def: ImageDef, root: string): Promise<void> {
  rmSync(root, { recursive: true, force: true });
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
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Writes an OCI image layout for def into dir, then packs it as dir.tar. Returns the archive. */
async function buildArchive(def: ImageDef, work: string): Promise<string> {
  const rootfs = join(work, 'rootfs');
  const layout = join(work, 'oci');
  await buildRootfs(def, rootfs);
  rmSync(layout, { recursive: true, force: true });
  const blobs = join(layout, 'blobs', 'sha256');
  mkdirSync(blobs, { recursive: true });
  const layerFile = join(work, 'layer.tar');
  await run('tar', ['--numeric-owner', '--sort=name', '--mtime=@0', '-C', rootfs, '-cf', layerFile, '.']);
  const layer = readFileSync(layerFile);
  const layerDigest = sha256(layer);
  writeFileSync(join(blobs, layerDigest), layer);
  rmSync(layerFile);
  const blob = (obj: unknown): { digest: string; size: number } => {
    const data = Buffer.from(JSON.stringify(obj));
    const digest = sha256(data);
    writeFileSync(join(blobs, digest), data);
    return { digest: `sha256:${digest}`, size: data.length };
  };
  const config = blob({
    architecture: 'amd64',
    os: 'linux',
    config: { Env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: def.cmd, WorkingDir: '/' },
    rootfs: { type: 'layers', diff_ids: [`sha256:${layerDigest}`] },
  });
  const manifest = blob({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: `sha256:${layerDigest}`, size: layer.length }],
  });
  writeFileSync(join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  writeFileSync(join(layout, 'index.json'), JSON.stringify({
    schemaVersion: 2,
    manifests: [{
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      ...manifest,
      platform: { architecture: 'amd64', os: 'linux' },
      annotations: { 'io.containerd.image.name': def.ref, 'org.opencontainers.image.ref.name': def.ref.split(':').pop() },
    }],
  }));
  const archive = `${work}.tar`;
  await run('tar', ['-C', layout, '-cf', archive, '.']);
  return archive;
}

/** Image references containerd already has. */
async function importedImages(): Promise<Set<string>> {
  const out = await run('ctr', ['--address', CONTAINERD.socket, '-n', CONTAINERD.namespace, 'images', 'list', '-q']);
  return new Set(out.split('\n').filter(Boolean));
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
    if (have.has(def.ref) && existsSync(stamp) && readFileSync(stamp, 'utf8') === digest) continue;
    const work = join(paths.images, def.ref.replace(/[/:]/g, '_'));
    const archive = await buildArchive(def, work);
    await run('ctr', ['--address', CONTAINERD.socket, '-n', CONTAINERD.namespace, 'images', 'import', archive]);
    if (statSync(archive).size === 0) throw new Error(`image archive ${archive} is empty`);
    rmSync(work, { recursive: true, force: true });
    rmSync(archive, { force: true });
    writeFileSync(stamp, digest);
  }
}
