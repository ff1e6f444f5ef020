/**
 * A real S3-compatible server for tests: SeaweedFS's `weed mini` (master,
 * volume, filer and S3 gateway in one process), built from its Go module by
 * tools/cluster/build.sh, on free loopback ports, with one bucket and one
 * access key (an admin identity: anonymous requests are refused), its data in
 * a temporary directory. Stopped by its PID. Nothing of it leaves 127.0.0.1:
 * telemetry, WebDAV, the admin UI and the Iceberg and Lance endpoints are off.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CACHE_DIR, INSTALL_BIN } from '../cluster/config.js';

/** gRPC listens on each HTTP port + 10000 (SeaweedFS's rule, set explicitly here). */
const GRPC_OFFSET = 10000;

/** The `weed` binary: installed by build.sh, else the newest one in its cache. */
export function weedBinary(): string {
  const installed = join(INSTALL_BIN, 'weed');
  if (existsSync(installed)) return installed;
  const dir = join(CACHE_DIR, 'bin');
  const built = existsSync(dir) ? readdirSync(dir).filter((d) => d.startsWith('seaweedfs-')).sort().map((d) => join(dir, d, 'weed')).filter(existsSync) : [];
  const found = built.at(-1);
  if (!found) throw new Error(`SeaweedFS's weed is not built: run "bash tools/cluster/build.sh seaweedfs" (or npm run setup); looked in ${installed} and ${dir}/seaweedfs-*`);
  return found;
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** A port free on 127.0.0.1 whose gRPC twin (+10000) is free too, below the kernel's ephemeral range (32768). */
async function freePort(taken: Set<number>): Promise<number> {
  for (let i = 0; i < 200; i += 1) {
    const p = 20000 + Math.floor(Math.random() * 2700);
    if (taken.has(p) || taken.has(p + GRPC_OFFSET)) continue;
    if (await canBind(p) && await canBind(p + GRPC_OFFSET)) {
      taken.add(p);
      taken.add(p + GRPC_OFFSET);
      return p;
    }
  }
  throw new Error('no free port pair for SeaweedFS on 127.0.0.1');
}

/** A running SeaweedFS S3 server. */
export class SeaweedS3 {
  private child: ChildProcess | undefined;
  private output = '';
  readonly bucket = 'recordings';
  readonly accessKeyId = `es${randomBytes(6).toString('hex')}`;
  readonly secretAccessKey = randomBytes(18).toString('base64url');
  private ports: Record<'master' | 'volume' | 'filer' | 's3' | 'admin', number> | undefined;
  private dir = '';

  /** http://127.0.0.1:PORT, once started. */
  get endpoint(): string {
    return `http://127.0.0.1:${this.ports?.s3 ?? 0}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** What it printed (for a failed test's message). */
  log(lines = 40): string {
    return this.output.split('\n').slice(-lines).join('\n');
  }

  /** Starts it (again, on the same ports and data, after stop(false)) and waits until the bucket answers a signed request. */
  async start(): Promise<void> {
    if (!this.ports) {
      const taken = new Set<number>();
      this.ports = { master: await freePort(taken), volume: await freePort(taken), filer: await freePort(taken), s3: await freePort(taken), admin: await freePort(taken) };
      this.dir = await mkdtemp(join(tmpdir(), 'execsession-seaweedfs-'));
    }
    const p = this.ports;
    const args = ['mini', `-dir=${this.dir}`, '-ip=127.0.0.1', '-ip.bind=127.0.0.1', `-bucket=${this.bucket}`,
      `-master.port=${p.master}`, `-master.port.grpc=${p.master + GRPC_OFFSET}`, '-master.telemetry=false',
      `-volume.port=${p.volume}`, `-volume.port.grpc=${p.volume + GRPC_OFFSET}`,
      `-filer.port=${p.filer}`, `-filer.port.grpc=${p.filer + GRPC_OFFSET}`,
      `-s3.port=${p.s3}`, `-s3.port.grpc=${p.s3 + GRPC_OFFSET}`, '-s3.port.iceberg=0', '-s3.port.lance=0',
      '-webdav=false', '-admin.ui=false', `-admin.port=${p.admin}`, `-admin.port.grpc=${p.admin + GRPC_OFFSET}`, '-admin.port.legacy=0'];
    // The access key in its environment makes it an admin identity and turns anonymous access off.
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: this.dir, AWS_ACCESS_KEY_ID: this.accessKeyId, AWS_SECRET_ACCESS_KEY: this.secretAccessKey };
    const child = spawn(weedBinary(), args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    const collect = (b: Buffer): void => { this.output += b.toString(); };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    await this.waitReady(child);
  }

  /** Polls the bucket with a signed HEAD (a 200 means the S3 gateway, the filer and the bucket are there). */
  private async waitReady(child: ChildProcess): Promise<void> {
    const { S3Client, HeadBucketCommand } = await import('@aws-sdk/client-s3');
    const client = new S3Client({ endpoint: this.endpoint, region: 'us-east-1', forcePathStyle: true, maxAttempts: 1, credentials: this.credentials });
    const deadline = Date.now() + 90_000;
    try {
      for (;;) {
        if (child.exitCode !== null) throw new Error(`weed mini exited ${child.exitCode}:\n${this.log()}`);
        const ok = await client.send(new HeadBucketCommand({ Bucket: this.bucket })).then(() => true, () => false);
        if (ok) return;
        if (Date.now() > deadline) throw new Error(`SeaweedFS did not serve bucket ${this.bucket} at ${this.endpoint} within 90 s:\n${this.log()}`);
        await new Promise((r) => setTimeout(r, 300));
      }
    } finally {
      client.destroy();
    }
  }

  get credentials(): { accessKeyId: string; secretAccessKey: string } {
    return { accessKeyId: this.accessKeyId, secretAccessKey: this.secretAccessKey };
  }

  /** Stops it by its PID (SIGTERM, then SIGKILL after 15 s); `removeData` false keeps its data for a restart. */
  async stop(removeData = true): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      process.kill(child.pid, 'SIGTERM');
      const timer = setTimeout(() => { if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGKILL'); }, 15_000);
      await exited;
      clearTimeout(timer);
    }
    if (removeData && this.dir) await rm(this.dir, { recursive: true, force: true });
  }
}
