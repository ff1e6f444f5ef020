/**
 * The local cluster's certificates as PEM text, for suites that dial the
 * operator's ports themselves: kube-apiserver's front-proxy client certificate
 * (what kube-apiserver presents to the aggregated API, and to the webhook), and
 * client certificates minted on demand from the cluster's CAs.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { paths } from '../../tools/cluster/config.js';
import { issue } from '../../tools/cluster/pki.js';

/** A certificate and key, PEM. */
export interface PemPair {
  cert: string;
  key: string;
}

/** A pair the cluster keeps in its pki directory, e.g. `front-proxy-client`. */
export function clusterPair(name: string): PemPair {
  return { cert: readFileSync(join(paths.pki, `${name}.crt`), 'utf8'), key: readFileSync(join(paths.pki, `${name}.key`), 'utf8') };
}

/**
 * A client certificate named `cn` signed by one of the cluster's CAs: `ca` (the
 * one kube-apiserver authenticates users by) or `front-proxy-ca` (the requestheader CA).
 */
export async function mintClient(ca: 'ca' | 'front-proxy-ca', cn: string, groups: string[] = []): Promise<PemPair> {
  const dir = mkdtempSync(join(tmpdir(), 'execsession-client-cert-'));
  try {
    const pair = await issue({ cert: join(paths.pki, `${ca}.crt`), key: join(paths.pki, `${ca}.key`) }, dir, 'client', { cn, groups });
    return { cert: readFileSync(pair.cert, 'utf8'), key: readFileSync(pair.key, 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
