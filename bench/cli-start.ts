/**
 * `npm run bench:cli`: how fast `kubectl execsession --help` starts, three ways,
 * next to kubectl's own start (`kubectl version --client`) in the same run: the
 * bundled single file (npm run build:cli), and the clone's bin/kubectl-execsession
 * (TypeScript through tsx). Medians over BENCH_RUNS (default 20) and the ratios.
 * Needs no cluster.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '../tools/cluster/config.js';
import { buildCli } from '../scripts/build-cli.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 20);

function median(argv: string[]): number {
  const times: number[] = [];
  for (let i = 0; i < RUNS + 1; i++) {
    const t = process.hrtime.bigint();
    const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
    const ms = Number(process.hrtime.bigint() - t) / 1e6;
    if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}: ${r.stderr}`);
    if (i > 0) times.push(ms); // the first run warms the page cache
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

const bundled = await buildCli();
const kubectl = median(['kubectl', 'version', '--client']);
const single = median([process.execPath, bundled, '--help']);
const clone = median([join(REPO_ROOT, 'bin/kubectl-execsession'), '--help']);
const row = (what: string, ms: number): string => `${what.padEnd(58)} ${ms.toFixed(1).padStart(7)} ms   x${(ms / kubectl).toFixed(2)}`;
process.stdout.write(`start time, median of ${RUNS} (x = ratio to kubectl in this run)\n`);
process.stdout.write(`${row('kubectl version --client', kubectl)}\n`);
process.stdout.write(`${row('kubectl-execsession --help (bundled, npm run build:cli)', single)}\n`);
process.stdout.write(`${row('bin/kubectl-execsession --help (TypeScript via tsx)', clone)}\n`);
process.stdout.write(`goal: bundled <= x2.00 of kubectl: ${single <= 2 * kubectl ? 'met' : 'not met'}\n`);
