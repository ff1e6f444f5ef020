import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { ExecSession, Person } from '../api/types.js';
import type { HelperClient } from '../exec/helper-client.js';
import type { Kube } from '../k8s/kube.js';
import { sendJson, statusBody } from '../http/respond.js';
import { sealOf } from '../signing/seal.js';
import { Attacher, DEFAULT_ATTACH_CONFIG } from './attach.js';
import { serveTerminalAsset, serveTerminalPage } from './terminal.js';
import { ApiError } from './types.js';

const quiet = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
const KEY = Buffer.alloc(32, 7);
const NOW = new Date('2026-11-22T10:00:00Z');

const UNSEALED: ExecSession = {
  apiVersion: 'execsession.dev/v1alpha1', kind: 'ExecSession',
  metadata: { name: 'dbg', namespace: 'shop', uid: 'u-1' },
  spec: { podName: 'db', user: 'alice', requester: { username: 'alice', groups: ['developers'], stampedAt: '2026-11-22T09:59:00Z', signature: 's' } },
  status: {
    phase: 'Ready', expiresAt: '2026-11-22T10:15:00Z', backend: 'nsenter', containerID: '0123', container: 'main', helperPod: { namespace: 'execsession-system', name: 'h' },
    user: { uid: 1000, gid: 1000, groups: [1000], name: 'alice', home: '/home/alice', shell: '/bin/sh', root: false, rootGroup: false },
  },
};

describe('the terminal page and its assets', () => {
  let server: Server;
  let base: string;
  let session: ExecSession;

  before(async () => {
    const kube = { getSession: async () => structuredClone(session) } as unknown as Kube;
    const attacher = new Attacher(kube, {} as HelperClient, DEFAULT_ATTACH_CONFIG, quiet, { sealKey: () => KEY, now: () => NOW });
    server = createServer((req, res) => {
      // The caller as kube-apiserver would forward it (here: a header, for the test only).
      const caller: Person = { username: String(req.headers['x-user']), groups: [], extra: {} };
      const done = req.url?.endsWith('.js')
        ? serveTerminalAsset(req, res, 'terminal.js')
        : serveTerminalPage(req, res, { namespace: 'shop', name: 'dbg', subresource: 'terminal' }, caller, attacher);
      done.catch((e: unknown) => {
        const err = e as ApiError;
        sendJson(res, err.code, statusBody(err.code, err.reason, err.message));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(() => new Promise<void>((r) => server.close(() => r())));

  const sealed = (s: ExecSession): ExecSession => ({ ...s, status: { ...s.status, seal: sealOf(KEY, s, s.status ?? {}) } });

  it('shows the session to its subject, under headers that forbid framing, caching and inline script', async () => {
    session = sealed(UNSEALED);
    const res = await fetch(`${base}/terminal`, { headers: { 'x-user': 'alice' } });
    const html = await res.text();
    assert.equal(res.status, 200, html);
    assert.equal(res.headers.get('x-frame-options'), 'DENY');
    assert.equal(res.headers.get('cache-control'), 'no-store');
    const csp = res.headers.get('content-security-policy') ?? '';
    assert.match(csp, /frame-ancestors 'none'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    assert.match(html, /<title>dbg \(alice \(uid 1000\)\) · execsession<\/title>/);
    assert.match(html, /data-expires-at="2026-11-22T10:15:00Z"/);
    assert.match(html, />db\/main</);
    // Every script is a file of ours; no inline script, handler or style attribute.
    assert.deepEqual(html.match(/<script[^>]*>/g), ['<script type="module" src="terminal/terminal.js">']);
    assert.doesNotMatch(html, /\son[a-z]+=|\sstyle=/i);
  });

  it('refuses anyone else as attach does, naming the subject and nothing of the page', async () => {
    session = sealed(UNSEALED);
    const res = await fetch(`${base}/terminal`, { headers: { 'x-user': 'bob' } });
    const body = await res.json() as { reason: string; message: string };
    assert.equal(res.status, 403);
    assert.equal(body.reason, 'NotSubject');
    assert.match(body.message, /^only alice may attach to execsession shop\/dbg; bob can create a session of their own/);
    assert.doesNotMatch(JSON.stringify(body), /uid 1000|10:15:00/);
    assert.equal(res.headers.get('execsession-expires-at'), null, 'the expiry is not told to anyone else');
  });

  it('answers HEAD with the current expiry, which the page\'s countdown follows after an extend', async () => {
    session = sealed({ ...UNSEALED, status: { ...UNSEALED.status, expiresAt: '2026-11-22T10:45:00Z' } });
    const res = await fetch(`${base}/terminal`, { method: 'HEAD', headers: { 'x-user': 'alice' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('execsession-expires-at'), '2026-11-22T10:45:00Z');
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.equal(await res.text(), '');
  });

  it('refuses a session whose status the operator did not seal, and an ended one', async () => {
    session = { ...UNSEALED, status: { ...UNSEALED.status, seal: 'forged' } };
    assert.equal((await fetch(`${base}/terminal`, { headers: { 'x-user': 'alice' } })).status, 403);
    session = sealed({ ...UNSEALED, status: { ...UNSEALED.status, phase: 'Expired' } });
    const res = await fetch(`${base}/terminal`, { headers: { 'x-user': 'alice' } });
    assert.equal(res.status, 410);
    assert.equal((await res.json() as { reason: string }).reason, 'Expired');
  });

  it('takes GET only', async () => {
    session = sealed(UNSEALED);
    assert.equal((await fetch(`${base}/terminal`, { method: 'POST', headers: { 'x-user': 'alice' } })).status, 405);
  });

  it('serves the bundled script with an ETag, and 304 when the browser has it', async () => {
    const res = await fetch(`${base}/terminal/terminal.js`);
    const js = await res.text();
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.match(js, /xterm/);
    const etag = res.headers.get('etag') ?? '';
    assert.equal((await fetch(`${base}/terminal/terminal.js`, { headers: { 'if-none-match': etag } })).status, 304);
  });
});
