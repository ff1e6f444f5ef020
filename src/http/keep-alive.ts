/** How long the operator's servers keep an idle connection open, against how long their clients do. */
import type { Server } from 'node:net';

/** kube-apiserver's clients (Go's http.Transport with client-go's defaults) close idle connections after 90 s. */
export const CLIENT_IDLE_MS = 90_000;

/**
 * Keeps idle connections open longer than kube-apiserver does. Node closes them after
 * 5 s by default, and a request kube-apiserver sends on a connection just as Node closes
 * it fails with "connection reset by peer": a create refused because the webhook call
 * failed (seen in CI). Outlasting the client, the client always closes first. Stopping
 * still closes idle connections at once (close.ts).
 */
export function outlastClientKeepAlive(server: Server & { keepAliveTimeout: number }): void {
  server.keepAliveTimeout = CLIENT_IDLE_MS + 30_000;
}
