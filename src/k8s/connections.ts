/**
 * One kept-alive connection pool per credential for everything a KubeConfig
 * sends. @kubernetes/client-node 1.x builds a new https.Agent for every request
 * (KubeConfig.createAgent, from applySecurityAuthentication), so each request
 * parses the CA, certificate and key again and opens a new TLS connection: a
 * handshake per SubjectAccessReview, GET and status write. Measured on the
 * operator with 300 sessions waiting and nothing changing, TLS set-up was most
 * of its CPU (ADR 45).
 *
 * Here the KubeConfig's agent factory hands out one agent per distinct set of
 * TLS material (so a rotated client certificate or CA gets a new pool; the old
 * one's sockets close when idle), with keep-alive on. A proxy (cluster.proxyUrl) keeps the
 * library's own agent.
 */
import { createHash } from 'node:crypto';
import type { Agent as HttpAgent } from 'node:http';
import type { Agent as HttpsAgent, AgentOptions } from 'node:https';
import type { Cluster, KubeConfig } from '@kubernetes/client-node';

/** A kept-alive connection unused this long is closed: below kube-apiserver's 90 s idle timeout, so we close first. */
export const IDLE_MS = 30_000;
/** Pools kept at once; the oldest goes when TLS material changes more often than this. */
const MAX_POOLS = 4;

type Agent = HttpAgent | HttpsAgent;
type CreateAgent = (cluster: Cluster | null, options: AgentOptions) => Agent;

function fingerprint(cluster: Cluster | null, o: AgentOptions): string {
  const h = createHash('sha256');
  for (const part of [cluster?.server, o.ca, o.cert, o.key, o.pfx, o.passphrase, o.rejectUnauthorized, o.servername]) {
    h.update(part === undefined ? '\0' : Buffer.isBuffer(part) ? part : JSON.stringify(part));
    h.update('\n');
  }
  return h.digest('hex');
}

/** Makes `kc` reuse connections (in place); returns it. */
export function reuseConnections(kc: KubeConfig, idleMs = IDLE_MS): KubeConfig {
  const target = kc as unknown as { createAgent: CreateAgent };
  const original = target.createAgent.bind(kc);
  const pools = new Map<string, Agent>();
  target.createAgent = (cluster, options) => {
    if (cluster?.proxyUrl) return original(cluster, options);
    const key = fingerprint(cluster, options);
    let agent = pools.get(key);
    if (!agent) {
      // timeout: an idle kept-alive socket is closed after idleMs (a request in flight is not cut by it).
      agent = original(cluster, { ...options, keepAlive: true, timeout: idleMs });
      pools.set(key, agent);
      // Forgotten, not destroyed: a watch may still use one of its sockets; idle ones close after idleMs.
      for (const k of pools.keys()) {
        if (pools.size <= MAX_POOLS) break;
        pools.delete(k);
      }
    } else {
      // Most recently used last, so the oldest is evicted first.
      pools.delete(key);
      pools.set(key, agent);
    }
    return agent;
  };
  return kc;
}
