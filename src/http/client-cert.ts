/**
 * Who is on the other end of a TLS connection, by its client certificate: the
 * servers ask for one (requestCert) without making the handshake fail
 * (rejectUnauthorized: false), so that health checks need none, and check it
 * per request here. Only the socket is read: nothing a client sends in the
 * request itself is parsed before this check.
 */
import type { TLSSocket } from 'node:tls';

/** Which client certificates are accepted. */
export interface ClientTrust {
  /** PEM of the CA(s) a client certificate must chain to. */
  ca: string;
  /** Common names accepted; empty accepts any certificate the CA signed. */
  allowedNames: string[];
}

/** Why a connection's client certificate is refused: 401 none or not trusted, 403 a name not allowed. */
export interface ClientRefusal {
  code: 401 | 403;
  kind: 'NoCertificate' | 'Untrusted' | 'NameNotAllowed';
  /** What is wrong with the certificate (the caller adds what to do). */
  problem: string;
}

/** The common name of the connection's client certificate ('' without one). */
export function clientName(socket: TLSSocket): string {
  const cn = socket.getPeerCertificate?.()?.subject?.CN;
  return (Array.isArray(cn) ? cn[0] : cn) ?? '';
}

/** Why the connection's client certificate is not accepted, or undefined when it is. */
export function clientCertProblem(socket: TLSSocket, trust: ClientTrust): ClientRefusal | undefined {
  const cert = typeof socket.getPeerCertificate === 'function' ? socket.getPeerCertificate() : undefined;
  if (!cert || Object.keys(cert).length === 0) return { code: 401, kind: 'NoCertificate', problem: 'no client certificate' };
  if (!socket.authorized) return { code: 401, kind: 'Untrusted', problem: `the client certificate is not signed by a trusted CA (${String(socket.authorizationError)})` };
  const name = clientName(socket);
  if (trust.allowedNames.length > 0 && !trust.allowedNames.includes(name)) {
    return { code: 403, kind: 'NameNotAllowed', problem: `client certificate CN "${name}" is not one of the allowed names (${trust.allowedNames.join(', ')})` };
  }
  return undefined;
}
