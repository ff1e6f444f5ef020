/**
 * `npm run images` (issue 11, item 1): the operator and helper images built here,
 * without a Docker engine or registry, reproducibly; they ship what the Dockerfiles
 * ship; the operator image runs on the local cluster as uid 65532 with a read-only
 * root filesystem and no TypeScript or node_modules.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { HELPER_REF, OPERATOR_REF, readArchive, type ArchiveContents } from '../../scripts/images.js';
import { REPO_ROOT } from '../../tools/cluster/config.js';
import { importedImages, normalizedRef } from '../../tools/cluster/images.js';
import { eventually, kubectl, kubectlOk, requireCluster, tempNamespace } from '../../tools/support/cluster.js';

const exec = promisify(execFile);

interface Printed {
  ref: string;
  digest: string;
  file: string;
}

/** `npm run images -- --out DIR ARGS`, as a user runs it; the lines it prints. */
async function images(out: string, args: string[] = []): Promise<Printed[]> {
  const { stdout } = await exec(join(REPO_ROOT, 'node_modules/.bin/tsx'), [join(REPO_ROOT, 'scripts/images.ts'), '--out', out, ...args], { cwd: REPO_ROOT, timeout: 600_000, maxBuffer: 1 << 20 });
  return stdout.trim().split('\n').map((line) => {
    const [ref, digest, file] = line.split('\t');
    return { ref: ref!, digest: digest!, file: (file ?? '').replace(/ \(.*\)$/, '') };
  });
}

/** The last stage of a Dockerfile: where COPY puts files, USER, and ENTRYPOINT. */
async function lastStage(dockerfile: string): Promise<{ files: string[]; user?: string; entrypoint?: string[] }> {
  const lines = (await readFile(join(REPO_ROOT, dockerfile), 'utf8')).split('\n').map((l) => l.trim());
  const stage = lines.slice(lines.map((l) => /^FROM\s/i.test(l)).lastIndexOf(true));
  const files: string[] = [];
  let user: string | undefined;
  let entrypoint: string[] | undefined;
  for (const line of stage) {
    const copy = /^COPY\s+(?:--from=\S+\s+)?(\S+)\s+(\S+)$/i.exec(line);
    if (copy) {
      const [, src, dest] = copy as unknown as [string, string, string];
      // A directory from the build context: each of its files under dest.
      const entries = line.includes('--from=') ? null : await readdir(join(REPO_ROOT, src), { withFileTypes: true }).catch(() => null);
      if (entries) files.push(...entries.filter((e) => e.isFile()).map((e) => `${dest}/${e.name}`));
      else files.push(dest.endsWith('/') ? `${dest}${src.split('/').pop()}` : dest);
    }
    const u = /^USER\s+(\S+)$/i.exec(line);
    if (u) user = u[1];
    const e = /^ENTRYPOINT\s+(\[.*\])$/i.exec(line);
    if (e) entrypoint = JSON.parse(e[1]!) as string[];
  }
  return { files, user, entrypoint };
}

describe('npm run images', () => {
  let out: string;
  let again: string;
  let built: Printed[];
  const contents = new Map<string, ArchiveContents>();

  before(async () => {
    out = await mkdtemp(join(tmpdir(), 'execsession-images-'));
    again = await mkdtemp(join(tmpdir(), 'execsession-images-again-'));
    // The first build imports into the local cluster's containerd, as a user's would.
    built = await images(out);
    for (const b of built) contents.set(b.ref, await readArchive(b.file));
  });

  after(async () => {
    await rm(out, { recursive: true, force: true });
    await rm(again, { recursive: true, force: true });
  });

  it('prints both images with their digests, as OCI archives', () => {
    assert.deepEqual(built.map((b) => b.ref), [OPERATOR_REF, HELPER_REF]);
    for (const b of built) {
      assert.match(b.digest, /^sha256:[0-9a-f]{64}$/);
      assert.equal(b.file, join(out, `${b.ref.replace(':', '-')}.oci.tar`));
    }
  });

  it('builds the same images again, byte for byte (the same digests)', async () => {
    const second = await images(again, ['--no-import']);
    assert.deepEqual(second.map((b) => [b.ref, b.digest]), built.map((b) => [b.ref, b.digest]));
  });

  it('the operator image: node and the bundle, no shell, no node_modules, no TypeScript; uid 65532; OCI labels', () => {
    const { files, config } = contents.get(OPERATOR_REF)!;
    for (const f of ['/usr/local/bin/node', '/app/main.mjs', '/app/crds/execsession.dev_execsessions.yaml', '/etc/passwd', '/usr/share/doc/node/LICENSE']) assert.ok(files.includes(f), f);
    assert.deepEqual(files.filter((f) => /node_modules|\.ts$|^\/bin\/sh$/.test(f)), []);
    assert.equal(config.User, '65532:65532');
    assert.deepEqual(config.Entrypoint, ['/usr/local/bin/node', '/app/main.mjs']);
    const labels = config.Labels ?? {};
    assert.equal(labels['org.opencontainers.image.version'], '0.1.0');
    assert.equal(labels['org.opencontainers.image.licenses'], 'Apache-2.0');
    assert.ok(labels['org.opencontainers.image.source'], 'org.opencontainers.image.source');
  });

  for (const [dockerfile, ref] of [['Dockerfile', OPERATOR_REF], ['helper/Dockerfile', HELPER_REF]] as const) {
    it(`ships what ${dockerfile} ships, as the same user, with the same program`, async () => {
      const stage = await lastStage(dockerfile);
      const { files, config } = contents.get(ref)!;
      assert.ok(stage.files.length > 0, `${dockerfile} copies nothing`);
      for (const f of stage.files) assert.ok(files.includes(f), `${dockerfile} ships ${f}; npm run images does not`);
      if (stage.user) assert.equal(config.User, stage.user);
      const program = [...(config.Entrypoint ?? []), ...(config.Cmd ?? [])][0];
      assert.equal(program, stage.entrypoint?.[0]);
    });
  }

  it('runs the operator image on the local cluster as 65532, read-only, not root', async () => {
    requireCluster();
    assert.ok((await importedImages()).has(normalizedRef(OPERATOR_REF)), `${OPERATOR_REF} was not imported`);
    const ns = await tempNamespace('images');
    try {
      const securityContext = { runAsNonRoot: true, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } };
      await kubectlOk(['apply', '-f', '-'], { input: JSON.stringify({
        apiVersion: 'v1', kind: 'Pod', metadata: { name: 'operator-image', namespace: ns.name },
        spec: {
          restartPolicy: 'Never',
          containers: [
            { name: 'help', image: OPERATOR_REF, imagePullPolicy: 'Never', args: ['--help'], securityContext },
            { name: 'who', image: OPERATOR_REF, imagePullPolicy: 'Never', command: ['/usr/local/bin/node', '-e', 'console.log(process.getuid(), process.getgid(), process.version)'], securityContext },
          ],
        },
      }) });
      await eventually('the pod to succeed', async () => {
        const phase = (await kubectl(['get', 'pod', 'operator-image', '-n', ns.name, '-o', 'jsonpath={.status.phase}'])).stdout;
        assert.ok(phase === 'Succeeded' || phase === 'Failed', phase);
        assert.equal(phase, 'Succeeded', (await kubectl(['describe', 'pod', 'operator-image', '-n', ns.name])).stdout);
        return true;
      }, 120_000, 500);
      assert.match(await kubectlOk(['logs', 'operator-image', '-c', 'help', '-n', ns.name]), /Runs the execsession operator/);
      assert.match(await kubectlOk(['logs', 'operator-image', '-c', 'who', '-n', ns.name]), /^65532 65532 v26\./);
    } finally {
      await ns.remove();
    }
  });
});
