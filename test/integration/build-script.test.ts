/**
 * tools/cluster/build.sh fails clearly: an old Go (Debian's golang-go) is passed over
 * and named, and a version the Go module proxy does not serve is named with the
 * fallback to try. Asks the proxy for one missing version; builds nothing.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { REPO_ROOT } from '../../tools/cluster/config.js';

describe('tools/cluster/build.sh', () => {
  const dir = mkdtempSync(join(tmpdir(), 'execsession-build-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('passes over a Go older than 1.26, and names a Kubernetes version the proxy does not serve with the fallback', async () => {
    const oldGo = join(dir, 'go');
    writeFileSync(oldGo, '#!/bin/sh\n[ "$1 $2" = "env GOVERSION" ] && echo go1.19.8 && exit 0\necho "go version go1.19.8 linux/amd64"\n');
    chmodSync(oldGo, 0o755);
    const env = { ...process.env, GO: oldGo, KUBE_VERSION: '1.37.99', EXECSESSION_CACHE_DIR: join(dir, 'cache') };
    const r = await new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile('bash', [join(REPO_ROOT, 'tools/cluster/build.sh'), 'kubernetes'], { env, timeout: 120_000 }, (err, _out, stderr) =>
        resolve({ code: err ? Number(err.code ?? 1) : 0, stderr }));
    });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /skipping .*\/go: it is Go 1\.19\.8, the build needs Go >= 1\.26/);
    assert.match(r.stderr, /k8s\.io\/kubernetes@v1\.37\.99 is not served by the Go module proxy/);
    assert.match(r.stderr, /KUBE_VERSION=1\.36\.3/);
  });
});
