import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chooseProtocol, exitCodeOf, exitStatus, failureStatus, frame, parseResize, parseStatus } from './channels.js';

describe('channel protocol', () => {
  it('prefers v5, takes v4, and refuses anything else', () => {
    assert.equal(chooseProtocol(['v4.channel.k8s.io', 'v5.channel.k8s.io']), 'v5.channel.k8s.io');
    assert.equal(chooseProtocol(['channel.k8s.io', 'v4.channel.k8s.io']), 'v4.channel.k8s.io');
    assert.equal(chooseProtocol(['base64.channel.k8s.io']), undefined);
  });

  it('frames a payload behind its channel byte', () => {
    assert.deepEqual([...frame(1, 'hi')], [1, 0x68, 0x69]);
    assert.deepEqual([...frame(0, Buffer.of(4))], [0, 4]);
  });

  it('reads exit codes from kubelet statuses and writes its own', () => {
    const kubelet = { metadata: {}, status: 'Failure', message: 'command terminated with non-zero exit code: error executing command [sh -c ...], exit code 3', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '3' }] } };
    assert.equal(exitCodeOf(parseStatus(Buffer.from(JSON.stringify(kubelet)))!), 3);
    assert.equal(exitCodeOf(parseStatus(Buffer.from('{"metadata":{},"status":"Success"}'))!), 0);
    assert.equal(exitCodeOf(exitStatus(42)), 42);
    assert.equal(exitCodeOf(exitStatus(0)), 0);
    assert.equal(exitCodeOf(failureStatus('Expired', 'session expired')), undefined);
    assert.equal(exitCodeOf({ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: 'x' }] } }), undefined);
  });

  it('refuses malformed statuses and resizes', () => {
    assert.equal(parseStatus(Buffer.from('not json')), undefined);
    assert.equal(parseStatus(Buffer.from('{"status":"Maybe"}')), undefined);
    assert.deepEqual(parseResize(Buffer.from('{"Width":80,"Height":24}')), { Width: 80, Height: 24 });
    assert.equal(parseResize(Buffer.from('{"Width":-1,"Height":24}')), undefined);
    assert.equal(parseResize(Buffer.from('{"Width":"80"}')), undefined);
  });
});
