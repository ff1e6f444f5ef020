/**
 * `npm start`: wiring only. Loads the configuration, builds the parts, runs the
 * controller inside the operator shell, and stops cleanly on SIGTERM/SIGINT.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { CertSecretError } from './certs/cert-secret.js';
import { ClientTrustError } from './admission/client-trust.js';
import { Webhook } from './admission/webhook.js';
import { AggregatedApi, apiServiceDnsName, recordingStore } from './apiserver/aggregated.js';
import { ConfigError, HelpRequested, loadConfig } from './config.js';
import { Controller } from './controller/controller.js';
import { apiMessage, apiStatus } from './k8s/api-errors.js';
import { reuseConnections } from './k8s/connections.js';
import { KubeClient } from './k8s/kube.js';
import { OperatorShell } from './k8s/operator-shell.js';
import { StartupError, preflight, startupProblem } from './k8s/startup.js';
import { OperatorMetrics } from './metrics/metrics.js';
import { logContext } from './log/context.js';
import { auditorFor } from './audit/setup.js';

/** The operator's namespace, once the configuration is read: start-up errors name it. */
let operatorNamespace = 'execsession-system';

async function main(): Promise<void> {
  const config = loadConfig(process.argv.slice(2), process.env);
  // Level as a word, ISO time, and the reconcile's or request's fields (src/log/context.ts) on every line.
  const log = pino({
    level: config.logLevel, base: { component: 'execsession-operator' },
    timestamp: pino.stdTimeFunctions.isoTime, formatters: { level: (label) => ({ level: label }) }, mixin: logContext,
  });
  const kc = new KubeConfig();
  if (config.kubeconfig) kc.loadFromFile(config.kubeconfig);
  else kc.loadFromDefault();
  // One kept-alive pool instead of a TLS handshake per request (ADR 45).
  reuseConnections(kc);
  // Events name the replica that reported them (its Lease identity: $POD_NAME in the cluster).
  const kube = new KubeClient(kc, { instance: config.leaderIdentity });
  const metrics = new OperatorMetrics({ process: true });
  operatorNamespace = config.controller.namespace;
  // Its namespace, the CRDs and its RBAC to read them, each said with the fix when missing.
  await preflight(kube, config.controller.namespace);
  // The webhook first: sessions are stamped from the start, and the controller needs the stamp key.
  // One serving certificate for both: it names the webhook's Service and the aggregated API's.
  // One Auditor for the webhook, the aggregated API and the controller: the log, and the sink --audit-sink names.
  const audit = await auditorFor(config.audit, () => recordingStore(config.api.recording), log, metrics);
  const webhook = new Webhook(kube, { ...config.webhook, extraDnsNames: [apiServiceDnsName(config.api)] }, log, metrics, audit);
  await webhook.start();
  // Every replica serves the aggregated API (attach, approve, ...); only the leader reconciles.
  const api = new AggregatedApi(kube, config.api, config.controller.runtimePaths, log, { metrics, audit });
  await api.start(webhook.certs, () => webhook.stampKey);
  webhook.onRefresh = (certs) => api.updateCertificates(certs);
  const publicServer = config.api.publicServer || (kc.getCurrentCluster()?.server ?? '').replace(/\/+$/, '');
  const controller = new Controller({
    kc, kube, log, metrics, audit, config: { ...config.controller, stampKey: () => webhook.stampKey, publicServer }, concurrency: config.concurrency,
    recordings: await recordingStore(config.api.recording),
    leader: config.leaderElect
      ? { namespace: config.controller.namespace, name: config.leaseName, identity: config.leaderIdentity, leaseDurationMs: config.leaseDurationMs, retryMs: Math.max(500, config.leaseDurationMs / 5) }
      : undefined,
  });
  const shell = new OperatorShell(controller);
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping');
    void shell.shutdown().then(() => api.stop()).then(() => webhook.stop()).then(() => audit.flush()).then(() => process.exit(0));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  log.info({ server: kc.getCurrentCluster()?.server, namespace: config.controller.namespace, identity: config.leaderIdentity }, 'execsession operator starting');
  await shell.start();
}

main().catch((e: unknown) => {
  if (e instanceof HelpRequested) {
    process.stdout.write(e.message);
    process.exit(0);
  }
  if (e instanceof ConfigError) {
    process.stderr.write(`${e.message}\n`);
    process.exit(2);
  }
  // The message says which Secret or CA, or what is missing, and what to do; a stack trace would bury it.
  if (e instanceof CertSecretError || e instanceof ClientTrustError || e instanceof StartupError) {
    process.stderr.write(`execsession operator: ${e.message}\n`);
    process.exit(1);
  }
  // An API call refused later in start-up (RBAC for Secrets, webhook configurations, the APIService, the Lease).
  const problem = startupProblem(e, { namespace: operatorNamespace });
  if (problem || apiStatus(e) !== undefined) {
    process.stderr.write(`execsession operator: ${problem ?? `the API server refused a start-up request: ${apiMessage(e)}`}\n`);
    process.exit(1);
  }
  process.stderr.write(`execsession operator: ${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
