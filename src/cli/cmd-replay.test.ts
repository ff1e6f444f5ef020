import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { PassThrough, Readable } from 'node:stream';
import { describe, it } from 'node:test';
import type { Api } from './client.js';
import { runReplay, playCast } from './cmd-replay.js';
import type { CliContext } from './context.js';
import { CliError, UsageError } from './errors.js';

const CAST = [
  '{"version":2,"width":80,"height":24,"timestamp":1800000000,"execsession":{"subject":"alice"}}',
  '[0.5,"o","$ "]',
  '[1.5,"i","id\\r"]',
  '[1.5,"r","100x30"]',
  '[2.5,"o","uid=1000(alice)\\r\\n"]',
  '[62.5,"o","bye\\r\\n"]',
  '[62.5,"x","0"]',
  '',
].join('\n');

function setup(items = [{ uid: 'u1', attach: 1, size: 10, createdAt: 't1' }, { uid: 'u1', attach: 2, size: CAST.length, createdAt: 't2' }]) {
  const asked: string[] = [];
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => void (out += c.toString()));
  stderr.on('data', (c: Buffer) => void (err += c.toString()));
  const api = {
    namespace: 'shop', server: 'https://k',
    request: async <T>(method: string, path: string) => {
      asked.push(`${method} ${path}`);
      return { kind: 'RecordingList', items } as T;
    },
    stream: async (path: string, accept: string) => {
      asked.push(`STREAM ${path} ${accept}`);
      // Small chunks that cut lines: the player must not care where the network cut.
      return Readable.from(Buffer.from(CAST).toString().match(/[\s\S]{1,7}/g)!.map((s) => Buffer.from(s)));
    },
    watch: async () => assert.fail('no watch'), httpsOptions: async () => ({}), debug: () => undefined,
  } as Api;
  const ctx: CliContext = { io: { stdin: new PassThrough(), stdout, stderr, proc: Object.assign(new EventEmitter(), { exit: () => undefined }) } as unknown as CliContext['io'], connect: async () => api, now: () => new Date() };
  return { ctx, asked, out: () => out, err: () => err };
}

describe('kubectl execsession replay', () => {
  it('plays the latest recording\'s output with its timing, divided by --speed, and says how it ended', async () => {
    const { ctx, asked, out, err } = setup();
    const slept: number[] = [];
    assert.equal(await runReplay(ctx, {}, 'dbg', { speed: '2' }, async (ms) => void slept.push(ms)), 0);
    assert.equal(out(), '$ uid=1000(alice)\r\nbye\r\n');
    assert.deepEqual(slept, [250, 1000, 30_000]);
    assert.deepEqual(asked, ['GET /apis/subresources.execsession.dev/v1alpha1/namespaces/shop/execsessions/dbg/recording', 'STREAM /apis/subresources.execsession.dev/v1alpha1/namespaces/shop/execsessions/dbg/recording?attach=2 application/x-asciicast']);
    assert.match(err(), /recording 2 of shop\/dbg ended \(exit 0\)/);
  });

  it('cuts long pauses to --idle-limit', async () => {
    const { ctx } = setup();
    const slept: number[] = [];
    await runReplay(ctx, {}, 'dbg', { idleLimit: '3' }, async (ms) => void slept.push(ms));
    assert.deepEqual(slept, [500, 2000, 3000]);
  });

  it('waits for real', async () => {
    const { ctx, out } = setup();
    const started = Date.now();
    await runReplay(ctx, {}, 'dbg', { speed: '40', idleLimit: '2' });
    const took = Date.now() - started;
    assert.ok(took >= 100 && took < 2000, `took ${took} ms; the pauses add to 4.5 s / 40 ≈ 112 ms`);
    assert.match(out(), /bye/);
  });

  it('-o cast writes the file as stored, --attach picks one, --uid an earlier session', async () => {
    const { ctx, asked, out } = setup();
    await runReplay(ctx, {}, 'dbg', { output: 'cast', attach: '1', uid: 'u0' }, async () => assert.fail('no waiting for -o cast'));
    assert.equal(out(), CAST);
    assert.deepEqual(asked.map((a) => a.split(' ')[1]!.replace(/^.*recording/, '')), ['?uid=u0', '?attach=1&uid=u0']);
  });

  it('--list prints the recordings', async () => {
    const { ctx, out } = setup();
    await runReplay(ctx, {}, 'dbg', { list: true });
    assert.equal(out(), 'ATTACH  SIZE  CREATED  UID\n1  10  t1  u1\n2  ' + CAST.length + '  t2  u1\n');
  });

  it('says what is wrong: no recordings, an unknown number, a bad speed or format', async () => {
    await assert.rejects(runReplay(setup([]).ctx, {}, 'dbg', {}), (e: unknown) => e instanceof CliError && /has no recordings/.test(e.message));
    await assert.rejects(runReplay(setup().ctx, {}, 'dbg', { attach: '9' }), /has no recording 9; it has 1, 2/);
    await assert.rejects(runReplay(setup().ctx, {}, 'dbg', { speed: '0' }), (e: unknown) => e instanceof UsageError && /--speed must be a number above 0/.test(e.message));
    await assert.rejects(runReplay(setup().ctx, {}, 'dbg', { output: 'json' }), /use -o cast/);
  });

  it('refuses a file that is not asciicast v2', async () => {
    await assert.rejects(playCast(Readable.from(['{"version":1}\n']), new PassThrough(), 1, 1), /not asciicast v2/);
  });
});
