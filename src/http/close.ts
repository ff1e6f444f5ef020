/**
 * Stops a server without waiting on its callers' kept-alive connections:
 * kube-apiserver holds connections to the webhook and the aggregated API open
 * between requests, and Node's close() waits for every one of them to end, which
 * held a stopping replica for a minute or more. Idle connections are closed at
 * once; requests still in flight get a grace period, then their sockets are cut.
 */
import type { Server } from 'node:https';

export function closeServer(server: Server | undefined, graceMs = 2000): Promise<void> {
  if (!server) return Promise.resolve();
  return new Promise((resolve) => {
    const cut = setTimeout(() => server.closeAllConnections(), graceMs);
    cut.unref();
    server.close(() => {
      clearTimeout(cut);
      resolve();
    });
    server.closeIdleConnections();
  });
}
