import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { connect } from 'node:tls';
import { issueServingCerts, needsRenewal } from './certs.js';

const REQ = { dnsNames: ['execsession-webhook.execsession-system.svc'], ips: ['127.0.0.1'], now: new Date(), validDays: 365 };

/** Connects with TLS, verifying against `ca` for `servername`; resolves with the error, if any. */
function handshake(port: number, ca: string, servername: string): Promise<Error | undefined> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, ca, servername }, () => {
      socket.end();
      resolve(undefined);
    });
    socket.on('error', resolve);
  });
}

describe('webhook certificates', () => {
  it('issue a serving certificate signed by the CA, naming every DNS name and address', async () => {
    const c = await issueServingCerts(REQ);
    const cert = new X509Certificate(c.cert);
    assert.ok(cert.verify(new X509Certificate(c.ca).publicKey));
    assert.match(cert.subjectAltName ?? '', /DNS:execsession-webhook\.execsession-system\.svc/);
    assert.match(cert.subjectAltName ?? '', /IP Address:127\.0\.0\.1/);
    assert.equal(new X509Certificate(c.ca).ca, true);
    assert.equal(cert.ca, false);
    assert.ok(Date.parse(cert.validTo) > Date.now() + 364 * 86_400_000);
  });

  it('serve TLS that a client trusting only the CA accepts, for the service name and the address', async () => {
    const c = await issueServingCerts(REQ);
    const server = createServer({ cert: c.cert, key: c.key }, (_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      assert.equal(await handshake(port, c.ca, 'execsession-webhook.execsession-system.svc'), undefined);
      const wrongName = await handshake(port, c.ca, 'other.example');
      assert.match(String(wrongName), /altnames|not in the cert/i);
      const other = await issueServingCerts(REQ);
      assert.match(String(await handshake(port, other.ca, 'execsession-webhook.execsession-system.svc')), /certificate/i);
    } finally {
      server.close();
    }
  });

  it('need renewal when missing, near expiry, for new names, or not matching their CA', async () => {
    const c = await issueServingCerts({ ...REQ, validDays: 20 });
    assert.equal(needsRenewal({}, REQ, 30), true);
    assert.equal(needsRenewal(c, REQ, 30), true, '20 days left, renew 30 days before');
    assert.equal(needsRenewal(c, REQ, 10), false);
    assert.equal(needsRenewal(c, { ...REQ, ips: ['10.250.0.1'] }, 10), true, 'a new address');
    const other = await issueServingCerts(REQ);
    assert.equal(needsRenewal({ ...c, ca: other.ca }, REQ, 10), true, 'another CA');
    assert.equal(needsRenewal({ ...c, cert: 'garbage' }, REQ, 10), true);
  });
});
