/**
 * `npm test`: unit tests, then the integration and end-to-end suites against the
 * real local cluster, which it starts if none runs and stops at the end if it
 * started it. Ends with one "N passed, N failed" line for CI.
 *
 *   npm test                 everything
 *   npm test -- --unit       unit tests only (no cluster)
 *   npm test -- FILE...      only these test files (cluster started if any needs it)
 *
 * The whole run ends with INSTALLED_SUITES again, against the operator installed
 * with `kubectl apply -k config/local` from the images `npm run images` builds
 * (EXECSESSION_E2E_OPERATOR=cluster; set it yourself to run picked files so).
 */
import { spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { bundleOperator } from '../scripts/bundle.js';
import { down, isRunning, up } from '../tools/cluster/cluster.js';
import { REPO_ROOT, paths } from '../tools/cluster/config.js';

interface Counts {
  pass: number;
  fail: number;
  skipped: number;
}

function findTests(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => join(dir, f))
    .sort();
}

const UNIT = [...findTests(join(REPO_ROOT, 'src')), ...findTests(join(REPO_ROOT, 'test/unit'))];
/**
 * The fault suite (SIGKILLs, the only operator down across an expiry, kube-apiserver stopped,
 * etcd restarted; ~4 min) runs last of the first pass: whatever a fault left behind then
 * shows in its own assertions, not as another suite's failure.
 */
const LAST = join(REPO_ROOT, 'test/e2e/faults.test.ts');
const CLUSTER = [...findTests(join(REPO_ROOT, 'test/integration')), ...findTests(join(REPO_ROOT, 'test/e2e'))];
/** Run a second time against the installed operator (the demo's --in-cluster case runs in the first pass). */
const INSTALLED_SUITES = ['lifecycle', 'attach', 'approval', 'cli'].map((n) => join(REPO_ROOT, `test/e2e/${n}.test.ts`));

/** Runs node's test runner on files; spec output to the terminal, counts from a TAP copy. */
function runNodeTests(label: string, files: string[], concurrency: number, env: NodeJS.ProcessEnv = process.env): Promise<Counts> {
  if (files.length === 0) return Promise.resolve({ pass: 0, fail: 0, skipped: 0 });
  const tapDir = mkdtempSync(join(tmpdir(), 'execsession-tap-'));
  const tap = join(tapDir, 'out.tap');
  process.stdout.write(`\n== ${label}: ${files.map((f) => relative(REPO_ROOT, f)).join(' ')}\n`);
  const args = ['--import', 'tsx', '--test', `--test-concurrency=${concurrency}`,
    '--test-reporter=spec', '--test-reporter-destination=stdout', '--test-reporter=tap', `--test-reporter-destination=${tap}`, ...files];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('exit', (code) => {
      const text = existsSync(tap) ? readFileSync(tap, 'utf8') : '';
      rmSync(tapDir, { recursive: true, force: true });
      const num = (key: string): number => Number(new RegExp(`^# ${key} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
      const counts = { pass: num('pass'), fail: num('fail') + num('cancelled'), skipped: num('skipped') + num('todo') };
      // A runner that died before reporting is a failure, never a silent zero.
      if (code !== 0 && counts.fail === 0) counts.fail = 1;
      resolve(counts);
    });
  });
}

/** A static check (type check, lint) counts as one test: passed or failed. */
function runCheck(label: string, args: string[]): Promise<Counts> {
  process.stdout.write(`\n== ${label}\n`);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('exit', (code) => {
      process.stdout.write(code === 0 ? `${label}: ok\n` : `${label}: FAILED\n`);
      resolve({ pass: code === 0 ? 1 : 0, fail: code === 0 ? 0 : 1, skipped: 0 });
    });
  });
}

/** Keeps the cluster's logs when a suite failed, since `down` removes them. */
function saveLogs(): string | undefined {
  if (!existsSync(paths.logs)) return undefined;
  const dest = mkdtempSync(join(tmpdir(), 'execsession-cluster-logs-'));
  cpSync(paths.logs, dest, { recursive: true });
  return dest;
}

/** Runs the cluster suites, on a cluster started here (and stopped again) if none runs. */
async function runClusterSuites(files: string[], installed: string[], failedBefore: boolean): Promise<Counts> {
  const startedHere = !(await isRunning());
  if (startedHere) process.stdout.write('\n== starting the local cluster (stopped again at the end)\n');
  // On a running cluster up() only rebuilds images whose inputs changed (helper/enter.c).
  await up();
  let counts: Counts = { pass: 0, fail: 1, skipped: 0 };
  try {
    // The operator as the image runs it, bundled once for the whole run (tools/support/operator.ts).
    process.env.EXECSESSION_E2E_BUNDLE = join(REPO_ROOT, 'dist/bundle/operator-under-test.mjs');
    await bundleOperator(process.env.EXECSESSION_E2E_BUNDLE);
    // One file at a time: the suites share one node and its containers.
    // node's runner orders the files it is given by name: the last one runs on its own.
    const first = await runNodeTests('cluster suites', files.filter((f) => f !== LAST), 1);
    const last = files.includes(LAST) ? await runNodeTests('the fault suite', [LAST], 1) : { pass: 0, fail: 0, skipped: 0 };
    counts = { pass: first.pass + last.pass, fail: first.fail + last.fail, skipped: first.skipped + last.skipped };
    if (installed.length > 0) {
      // The images once for the whole pass; each suite installs, uses and uninstalls the operator.
      const images = await runCheck('npm run images', ['--import', 'tsx', join(REPO_ROOT, 'scripts/images.ts'), '--out', join(REPO_ROOT, 'dist/images')]);
      const env = { ...process.env, EXECSESSION_E2E_OPERATOR: 'cluster', EXECSESSION_E2E_IMAGES: 'built' };
      const again = images.fail > 0 ? { pass: 0, fail: 0, skipped: 0 } : await runNodeTests('the same suites against the installed operator (EXECSESSION_E2E_OPERATOR=cluster)', installed, 1, env);
      counts = { pass: counts.pass + images.pass + again.pass, fail: counts.fail + images.fail + again.fail, skipped: counts.skipped + again.skipped };
    }
  } finally {
    if (startedHere && (failedBefore || counts.fail > 0)) process.stdout.write(`cluster logs kept in ${saveLogs() ?? '(none)'}\n`);
    if (startedHere) await down();
  }
  return counts;
}

async function main(argv: string[]): Promise<number> {
  const unitOnly = argv.includes('--unit');
  const picked = argv.filter((a) => !a.startsWith('--')).map((f) => join(process.cwd(), f));
  const unit = picked.length > 0 ? picked.filter((f) => UNIT.includes(f)) : UNIT;
  const cluster = unitOnly ? [] : picked.length > 0 ? picked.filter((f) => !UNIT.includes(f)) : CLUSTER;
  const total: Counts = { pass: 0, fail: 0, skipped: 0 };
  const add = (c: Counts): void => {
    total.pass += c.pass;
    total.fail += c.fail;
    total.skipped += c.skipped;
  };
  if (picked.length === 0) {
    add(await runCheck('type check', ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json', '--noEmit']));
    add(await runCheck('lint', ['node_modules/eslint/bin/eslint.js', '.']));
  }
  add(await runNodeTests('unit tests', unit, 2));
  const installed = picked.length === 0 && !unitOnly ? INSTALLED_SUITES : [];
  if (cluster.length > 0) add(await runClusterSuites(cluster, installed, total.fail > 0));
  process.stdout.write(`\n${total.pass} passed, ${total.fail} failed, ${total.skipped} skipped\n`);
  return total.fail > 0 ? 1 : 0;
}

main(process.argv.slice(2)).then((code) => process.exit(code), (e: unknown) => {
  process.stderr.write(`test: ${(e as Error).stack ?? String(e)}\n0 passed, 1 failed\n`);
  process.exit(1);
});
