import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Channel, PROTOCOLS, closeStdinFrame, decodeFrame, encodeFrame, parseStatusFrame, resizeFrame, statusToOutcome } from './frames.js';

describe('channel frames', () => {
  it('offers v5 before v4', () => assert.deepEqual([...PROTOCOLS], ['v5.channel.k8s.io', 'v4.channel.k8s.io']));

  it('prefixes the channel byte', () => {
    assert.deepEqual([...encodeFrame(Channel.stdin, Buffer.from('ls\n'))], [0, 0x6c, 0x73, 0x0a]);
    assert.deepEqual([...encodeFrame(Channel.stdin, 'é')], [0, 0xc3, 0xa9]);
    assert.deepEqual([...encodeFrame(Channel.stdin, Buffer.alloc(0))], [0]);
  });

  it('decodes channel and payload, and round-trips binary data', () => {
    const data = Buffer.from([0, 255, 1, 2, 3]);
    assert.deepEqual(decodeFrame(encodeFrame(Channel.stdout, data)), { channel: 1, data });
    assert.deepEqual(decodeFrame(Buffer.from([2])), { channel: 2, data: Buffer.alloc(0) });
    assert.equal(decodeFrame(Buffer.alloc(0)), undefined);
  });

  it('encodes the terminal size as channel 4 JSON', () => {
    const frame = resizeFrame(132, 43);
    assert.equal(frame[0], 4);
    assert.deepEqual(JSON.parse(frame.subarray(1).toString()), { Width: 132, Height: 43 });
  });

  it('closes stdin with [255, 0]', () => assert.deepEqual([...closeStdinFrame()], [255, 0]));
});

describe('statusToOutcome', () => {
  it('Success is exit 0', () => assert.deepEqual(statusToOutcome({ status: 'Success' }), { exitCode: 0 }));

  it('NonZeroExitCode is the process exit code', () => {
    const status = { status: 'Failure', reason: 'NonZeroExitCode', message: 'command terminated with non-zero exit code', details: { causes: [{ reason: 'ExitCode', message: '3' }] } };
    assert.deepEqual(statusToOutcome(status), { exitCode: 3 });
  });

  it('NonZeroExitCode without a usable code is 1 with the message', () => {
    for (const causes of [[], [{ reason: 'ExitCode', message: 'x' }], [{ reason: 'ExitCode', message: '0' }], [{ reason: 'Other', message: '4' }]]) {
      assert.deepEqual(statusToOutcome({ status: 'Failure', reason: 'NonZeroExitCode', message: 'exit', details: { causes } }), { exitCode: 1, message: 'exit' });
    }
  });

  it('any other failure is 1 with the server message, or the reason', () => {
    assert.deepEqual(statusToOutcome({ status: 'Failure', reason: 'Expired', message: 'session default/dbg expired at 2026-11-22T08:00:00Z' }),
      { exitCode: 1, message: 'session default/dbg expired at 2026-11-22T08:00:00Z' });
    assert.deepEqual(statusToOutcome({ status: 'Failure', reason: 'Revoked' }), { exitCode: 1, message: 'session ended: Revoked' });
  });

  it('parses the Status payload; garbage is an internal failure', () => {
    assert.deepEqual(parseStatusFrame(Buffer.from('{"status":"Success"}')), { status: 'Success' });
    const bad = parseStatusFrame(Buffer.from('not json'));
    assert.equal(bad.status, 'Failure');
    assert.match(bad.message ?? '', /unreadable exit status.*not json/);
  });
});
