/**
 * The browser terminal end to end (docs/browser.md): Debian's Chromium, driven
 * by playwright-core (no browser download), opens alice's session through
 * `kubectl execsession web` (the CLI's local proxy, kube-apiserver, the
 * operator's page and attach, the helper, runc). `id` shows alice; a viewport
 * resize reaches `stty size`; a revoke shows the last message and ends the
 * proxy; bob's proxy gets the operator's 403 naming alice; the proxy refuses a
 * request without its token or from another Origin. Screenshots go to
 * dist/test-artifacts/ (and, with EXECSESSION_DOCS_SCREENSHOT=1, to docs/).
 * About 65 s on the local cluster (34 s in its tests, the rest the operator and the session starting).
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { REPO_ROOT, STATE_DIR } from '../../tools/cluster/config.js';
import { ADMIN_KUBECONFIG, eventually, grant, kubectl, kubectlOk, requireCluster, tempNamespace, userKubeconfig } from '../../tools/support/cluster.js';
import { OperatorProcess, grantSubresources, installCrds, waitForApi } from '../../tools/support/operator.js';
import { runTargetPod } from '../../tools/support/pods.js';
import { createSession, waitForPhase } from '../support/sessions.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(REPO_ROOT, 'dist/test-artifacts/browser');

/** `kubectl execsession web NAME --no-open` as a user; resolves once it printed its URL. */
class WebCli {
  private child: ChildProcess | undefined;
  out = '';
  exit: Promise<number | null> = Promise.resolve(null);

  async start(kubeconfig: string, namespace: string, name: string): Promise<URL> {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'bin/kubectl-execsession'), 'web', name, '-n', namespace, '--no-open'], {
      env: { ...process.env, KUBECONFIG: kubeconfig, KUBECACHEDIR: join(STATE_DIR, 'kubectl-cache') }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    const collect = (b: Buffer): void => void (this.out += b.toString());
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    this.exit = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
    const url = await eventually('the proxy\'s URL', async () => {
      if (child.exitCode !== null) throw new Error(`kubectl execsession web exited ${child.exitCode}:\n${this.out}`);
      return /^ {2}(http:\/\/127\.0\.0\.1:\d+\/\S+)$/m.exec(this.out)?.[1];
    }, 60_000, 100);
    return new URL(url ?? '');
  }

  stop(): void {
    if (this.child?.exitCode === null) this.child.kill('SIGTERM');
  }
}

/** The text on the terminal's screen, row by row (xterm.js's DOM renderer). */
function screen(page: Page): Promise<string> {
  return page.locator('.xterm-rows').innerText();
}

/** A raw GET to the proxy with the given headers (Host included, which fetch does not let one set). */
function rawGet(url: URL, path: string, headers: Record<string, string>): Promise<{ code: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path, headers }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => void (body += c.toString()));
      res.on('end', () => resolve({ code: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** WCAG 2 contrast ratio of two CSS rgb() colours. */
function contrast(a: string, b: string): number {
  const lum = (css: string): number => {
    const [r = 0, g = 0, bl = 0] = (css.match(/\d+(\.\d+)?/g) ?? []).map(Number).map((v) => {
      const c = v / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

describe('the terminal in a browser (Chromium, playwright-core)', () => {
  let ns: Awaited<ReturnType<typeof tempNamespace>>;
  let operator: OperatorProcess;
  let browser: Browser;
  let page: Page;
  const alice = new WebCli();
  const bob = new WebCli();
  let aliceUrl: URL;
  let expiresAt = '';
  /** What the page's console said about its Content-Security-Policy: nothing, when no inline style or script was tried. */
  const cspReports: string[] = [];

  before(async () => {
    requireCluster();
    mkdirSync(ARTIFACTS, { recursive: true });
    await installCrds();
    ns = await tempNamespace('web');
    await runTargetPod('target', ns.name, { runAsUser: 1001, runAsGroup: 1001 });
    // bob may read sessions and open terminals (RBAC lets him): the operator is what refuses him alice's.
    await grant(ns.name, 'sessions', ['create', 'get', 'list', 'watch'], 'execsessions.execsession.dev', ['alice', 'bob']);
    await grant(ns.name, 'exec', ['create', 'get'], 'pods/exec', ['alice']);
    await grantSubresources(ns.name, 'terminal', ['attach', 'terminal'], ['create', 'get'], ['alice', 'bob']);
    await kubectlOk(['apply', '-f', '-'], { input: JSON.stringify({
      apiVersion: 'execsession.dev/v1alpha1', kind: 'ClusterExecPolicy', metadata: { name: `web-${ns.name}` },
      spec: { subjects: [{ kind: 'User', name: 'alice' }], targets: { namespaces: [ns.name] }, users: { allowedNames: ['alice'] } },
    }) });
    operator = new OperatorProcess();
    await operator.start();
    await waitForApi();
    const aliceConfig = await userKubeconfig('alice', ['developers']);
    await createSession(ns.name, 'shell', { podName: 'target', user: 'alice', ttl: '10m' }, aliceConfig);
    const { session } = await waitForPhase(ns.name, 'shell', ['Ready']);
    expiresAt = session.status?.expiresAt ?? '';
    assert.equal(session.status?.attach?.terminalPath, `/apis/subresources.execsession.dev/v1alpha1/namespaces/${ns.name}/execsessions/shell/terminal`);
    aliceUrl = await alice.start(aliceConfig, ns.name, 'shell');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    page = await browser.newPage({ viewport: { width: 900, height: 560 } });
    page.on('console', (m) => void (/Content.Security.Policy/i.test(m.text()) && cspReports.push(m.text())));
  });

  after(async () => {
    await browser?.close();
    alice.stop();
    bob.stop();
    await operator?.stop();
    await kubectl(['delete', 'clusterexecpolicy', `web-${ns?.name}`]);
    await ns?.remove();
  });

  it('opens alice\'s session: title, header, focus in the terminal, and id shows alice', async () => {
    const res = await page.goto(aliceUrl.href);
    assert.equal(res?.status(), 200);
    const headers = res?.headers() ?? {};
    assert.match(headers['content-security-policy'] ?? '', /frame-ancestors 'none'/);
    assert.equal(headers['x-frame-options'], 'DENY');
    // kube-apiserver puts its own "no-cache, private" before the page's no-store.
    assert.match(headers['cache-control'] ?? '', /(^|, )no-store$/);
    assert.match(await page.title(), /^shell \(alice \(uid 1000\)\) · execsession$/);
    assert.ok(await page.locator('header h1').isVisible());
    await page.locator('#status', { hasText: 'Connected.' }).waitFor({ timeout: 30_000 });
    // Expressions run in the page (strings: this file is compiled without the DOM's types).
    assert.equal(await page.evaluate("document.activeElement?.classList.contains('xterm-helper-textarea')"), true, 'keyboard focus is in the terminal');
    await eventually('the shell prompt', async () => /\$\s*$/m.test(await screen(page)), 30_000, 100);
    await page.keyboard.type('id\n');
    await eventually('id as alice', async () => /uid=1000\(alice\) gid=1000\(alice\) groups=1000\(alice\),2000\(ops\)/.test(await screen(page)), 30_000, 100);
    await page.screenshot({ path: join(ARTIFACTS, 'terminal.png') });
    if (process.env.EXECSESSION_DOCS_SCREENSHOT === '1') await page.screenshot({ path: join(REPO_ROOT, 'docs/browser-terminal.png') });
    assert.deepEqual(cspReports, [], 'nothing the page does is refused by its own CSP');
  });

  it('follows a viewport resize: stty size is the terminal\'s size', async () => {
    const size = async (): Promise<[string, string]> => {
      const [cols = '', rows = ''] = (await page.locator('#size').innerText()).split('×');
      return [rows, cols];
    };
    const sttyShows = async ([rows, cols]: [string, string]): Promise<void> => {
      await page.keyboard.type('clear; stty size\n');
      await eventually(`stty size ${rows} ${cols}`, async () => new RegExp(`^${rows} ${cols}\\s*$`, 'm').test(await screen(page)), 30_000, 100);
    };
    await page.locator('#status', { hasText: 'Connected.' }).waitFor({ timeout: 30_000 });
    const first = await size();
    await sttyShows(first);
    await page.setViewportSize({ width: 1200, height: 760 });
    const second = await eventually('a larger terminal', async () => {
      const s = await size();
      return Number(s[0]) > Number(first[0]) && Number(s[1]) > Number(first[1]) ? s : undefined;
    }, 10_000, 100);
    await sttyShows(second ?? ['', '']);
  });

  it('gives the page the session\'s current expiry on HEAD, through the proxy and kube-apiserver (the countdown follows an extend)', async () => {
    const told = await page.evaluate("fetch(location.href, { method: 'HEAD', cache: 'no-store' }).then((r) => r.headers.get('Execsession-Expires-At'))");
    assert.ok(expiresAt, 'the session has an expiry');
    assert.equal(told, expiresAt);
  });

  it('meets WCAG AA contrast for the header and the terminal\'s text', async () => {
    const pairs = await page.evaluate(`(() => {
      const bg = (el) => getComputedStyle(el).backgroundColor;
      const header = document.querySelector('header');
      const viewport = document.querySelector('.xterm-viewport') ?? document.querySelector('.xterm');
      return [
        ...['h1', 'dt', 'dd', '#status'].map((s) => [s, getComputedStyle(header.querySelector(s)).color, bg(header)]),
        ['terminal', getComputedStyle(document.querySelector('.xterm-rows')).color, bg(viewport)],
      ];
    })()`) as string[][];
    for (const [what, fg = '', bgc = ''] of pairs) assert.ok(contrast(fg, bgc) >= 4.5, `${what}: ${fg} on ${bgc} is ${contrast(fg, bgc).toFixed(2)}:1`);
  });

  it('refuses, at the local proxy, a request without its token, from another Origin, or for another Host', async () => {
    const path = aliceUrl.pathname;
    const own = { Host: aliceUrl.host };
    const noToken = await rawGet(aliceUrl, path.slice(path.indexOf('/apis/')), own);
    assert.equal(noToken.code, 403, noToken.body);
    assert.match(noToken.body, /needs the token/);
    const foreign = await rawGet(aliceUrl, path, { ...own, Origin: 'https://evil.example' });
    assert.equal(foreign.code, 403, foreign.body);
    assert.match(foreign.body, /other sites are refused/);
    const rebound = await rawGet(aliceUrl, path, { Host: `evil.example:${aliceUrl.port}` });
    assert.equal(rebound.code, 403, rebound.body);
    const elsewhere = await rawGet(aliceUrl, `/${path.split('/')[1]}/api/v1/namespaces/${ns.name}/secrets`, own);
    assert.equal(elsewhere.code, 404, elsewhere.body);
    // And a page of another origin cannot open the attach WebSocket through it.
    const other = await browser.newPage();
    await other.goto('data:text/html,<title>elsewhere</title>');
    const attach = `ws://${aliceUrl.host}${path.replace(/terminal$/, 'attach')}?tty=true&stdin=true`;
    const outcome = await other.evaluate(`new Promise((resolve) => {
      const ws = new WebSocket(${JSON.stringify(attach)}, ['v5.channel.k8s.io']);
      ws.onopen = () => resolve('open');
      ws.onerror = () => resolve('refused');
    })`);
    assert.equal(outcome, 'refused');
    await other.close();
  });

  it('gives bob, through his own proxy, the operator\'s 403 naming alice', async () => {
    const bobUrl = await bob.start(await userKubeconfig('bob', ['developers']), ns.name, 'shell');
    const tab = await browser.newPage();
    const res = await tab.goto(bobUrl.href);
    assert.equal(res?.status(), 403);
    const body = await tab.locator('body').innerText();
    assert.match(body, /only alice may attach to execsession [a-z0-9-]+\/shell; bob can create a session of their own/);
    assert.doesNotMatch(body, /uid 1000|xterm/);
    await tab.close();
  });

  it('shows the last message when the session is revoked, and the proxy then exits', async () => {
    await kubectlOk(['create', '--raw', `/apis/subresources.execsession.dev/v1alpha1/namespaces/${ns.name}/execsessions/shell/revoke`, '-f', '-'], { kubeconfig: ADMIN_KUBECONFIG, input: '{"reason":"browser e2e"}' });
    await page.locator('#status.ended').waitFor({ timeout: 30_000 });
    assert.match(await page.locator('#status').innerText(), /session [a-z0-9-]+\/shell was revoked by /);
    assert.match(await screen(page), /execsession: session [a-z0-9-]+\/shell was revoked by/);
    await page.screenshot({ path: join(ARTIFACTS, 'revoked.png') });
    const code = await Promise.race([alice.exit, new Promise((r) => setTimeout(() => r('still running'), 30_000))]);
    assert.equal(code, 0, alice.out);
    assert.match(alice.out, /is Terminated|is Revoked|revoked/);
  });
});
