/**
 * The operator's one typed configuration: flags, each with an environment
 * variable as fallback (EXECSESSION_ + the flag in upper snake case), then a
 * default. The only place that reads argv or the environment.
 */
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { parseDuration } from './api/duration.js';
import { SUBRESOURCES, SUBRESOURCE_GROUP, SUBRESOURCE_VERSION } from './api/subresources.js';
import { CONTAINERD_PATHS } from './exec/helper-client.js';
import type { WebhookConfig } from './admission/webhook.js';
import type { ApiConfig } from './apiserver/aggregated.js';
import { DEFAULT_ATTACH_CONFIG } from './apiserver/attach.js';
import type { ControllerConfig } from './controller/types.js';
import type { S3StoreConfig } from './recording/s3-store.js';
import type { AuditConfig } from './audit/setup.js';

/** Every flag: its default and what it does (printed by --help). */
const FLAGS = {
  kubeconfig: { default: '', help: 'kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or in-cluster)' },
  namespace: { default: 'execsession-system', help: 'namespace of helper pods and the leader Lease' },
  'helper-image': { default: 'execsession-helper:0.1.0', help: 'image of helper pods (helper/Dockerfile): busybox and execsession-enter' },
  'helper-pull-policy': { default: 'IfNotPresent', help: 'imagePullPolicy of helper pods' },
  'runtime-config-path': { default: CONTAINERD_PATHS.configPath, help: 'path on the node of a container\'s OCI config, {id} standing for the container ID (CRI-O: /run/containers/storage/overlay-containers/{id}/userdata/config.json; Docker: /run/containerd/io.containerd.runtime.v2.task/moby/{id}/config.json)' },
  'runtime-root': { default: CONTAINERD_PATHS.runcRoot, help: 'runc --root for the node\'s containers (CRI-O: /run/runc; Docker: /run/docker/runtime-runc/moby)' },
  backend: { default: 'auto', help: 'how sessions enter containers: runtime (the node\'s runc, keeping every container setting), nsenter (fallback; keeps no seccomp filter or LSM label, see docs/exec-backends.md), or auto (runtime where the runtime state is found)' },
  'webhook-listen': { default: '0.0.0.0:9443', help: 'address the admission webhook listens on (HOST:PORT; port 0 picks a free one)' },
  'webhook-url': { default: '', help: 'URL kube-apiserver calls the webhook at (default: https://LISTEN-HOST:PORT when the listen host is an address, else --webhook-service)' },
  'webhook-service': { default: '', help: 'Service kube-apiserver calls the webhook through, NAMESPACE/NAME[:PORT] (default: NAMESPACE/execsession-webhook:443 when listening on all addresses)' },
  'webhook-client-ca': { default: '', help: 'PEM file of the CA(s) a client certificate must chain to for the webhook to answer: it serves kube-apiserver only, which must present one (config/README.md, "Only kube-apiserver calls the webhook") (default: the requestheader client CA the cluster publishes in ConfigMap kube-system/extension-apiserver-authentication, which signs kube-apiserver\'s front-proxy client certificate)' },
  'webhook-client-names': { default: '', help: 'comma-separated common names a webhook client certificate may carry; set to an empty value to accept any certificate of that CA (default: requestheader-allowed-names from ConfigMap kube-system/extension-apiserver-authentication)' },
  'webhook-secret': { default: 'execsession-operator', help: 'Secret (in --namespace) holding the stamp-signing key and, without --cert-secret, the certificates the operator issues itself' },
  'cert-secret': { default: '', help: 'Secret (in --namespace) with tls.crt, tls.key and ca.crt that someone else keeps, e.g. cert-manager (config/cert-manager): the webhook and the aggregated API serve it, the operator never writes it (default: the operator issues and renews its own certificates)' },
  'cert-refresh': { default: '1m', help: 'how often --cert-secret is read again, so that a renewal is served and registered without a restart' },
  'api-listen': { default: '0.0.0.0:8443', help: `address the aggregated API (${SUBRESOURCE_GROUP}: ${SUBRESOURCES.map((s) => s.name).join(', ')}) listens on (HOST:PORT; port 0 picks one)` },
  'api-service': { default: '', help: `Service the APIService ${SUBRESOURCE_VERSION}.${SUBRESOURCE_GROUP} points at, NAMESPACE/NAME (default: NAMESPACE/execsession-api, port 443)` },
  'public-server': { default: '', help: 'API server URL users reach, for status.attach.url (default: the operator\'s own API server URL)' },
  metrics: { default: 'true', help: 'serve GET /metrics (Prometheus text format) on the aggregated API\'s port to scrapers whose bearer token kube-apiserver authenticates (TokenReview) and who may get the non-resource URL /metrics (SubjectAccessReview); false: no /metrics (docs/audit.md, ADR 22)' },
  'attach-limit': { default: '4', help: 'attaches to one session at the same time (per operator replica)' },
  'attach-idle-timeout': { default: '30m', help: 'an attach with no input or output for this long is closed' },
  retention: { default: '1h', help: 'how long ended sessions are kept before they are deleted (their recordings stay: --recording-retention)' },
  'recording-store': { default: 'none', help: 'where attaches are recorded (asciicast v2, docs/audit.md "Recordings"): file (--recording-dir), s3 (--recording-s3-*) or none; with none, sessions whose policy makes recording Required cannot be attached to' },
  'recording-dir': { default: '/var/lib/execsession/recordings', help: 'directory of the file recording store: NAMESPACE/NAME/UID/attach-N.cast and index.jsonl (a volume; shared when several replicas run)' },
  'recording-s3-bucket': { default: '', help: 's3 recording store: the bucket (it must exist); credentials come from the AWS SDK\'s default chain, e.g. AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY from a Secret, never from a flag' },
  'recording-s3-prefix': { default: '', help: 's3 recording store: key prefix, e.g. execsession/ (objects are PREFIX/NAMESPACE/NAME/UID/attach-N.cast)' },
  'recording-s3-endpoint': { default: '', help: 's3 recording store: endpoint URL of an S3-compatible server, e.g. https://minio.storage:9000 (default: AWS S3 of --recording-s3-region)' },
  'recording-s3-region': { default: 'us-east-1', help: 's3 recording store: the region requests are signed for' },
  'recording-s3-path-style': { default: 'false', help: 's3 recording store: true puts the bucket in the path (http://HOST/BUCKET/KEY), as most S3-compatible servers want' },
  'audit-sink': { default: 'log', help: 'where the operator\'s audit events go (docs/audit.md "Audit events"): log (one JSON line per event on stdout, msg "audit"), file (the log and --audit-dir), recording (the log and the recording store, beside the recordings) or none' },
  'audit-dir': { default: '/var/log/execsession/audit', help: 'directory of --audit-sink=file: audit-YYYY-MM-DD.jsonl, one JSON line per event, one file per UTC day (a volume; shared when several replicas run)' },
  'recording-retention': { default: '0', help: 'recordings of sessions older than this are deleted from the store, checked hourly, e.g. 2160h (90 days); 0: kept until someone deletes them' },
  'warm-helpers': { default: '0', help: 'warm helper pods kept waiting on each node where a session started within --warm-helper-idle: a session there takes one instead of waiting for a pod to start (ADR 41); 0: none, every helper is started for its session' },
  'warm-helper-idle': { default: '10m', help: 'how long a warm helper waits for a session before it exits by itself, and how long after its last session start a node keeps its warm helpers' },
  'start-timeout': { default: '2m', help: 'how long a helper pod may take to start before the session fails' },
  'output-limit': { default: '16384', help: 'bytes of stdout and of stderr kept in status.result of non-interactive runs' },
  'recorded-output-limit': { default: '268435456', help: 'bytes of a recorded one-shot command\'s stdout and of its stderr kept whole for its recording, on the helper pod\'s own disk until the operator copies them into the store (ADR 43); the rest is counted, not kept' },
  concurrency: { default: '16', help: 'sessions reconciled at once (each mostly waits on the API server, so a 2-core replica runs many)' },
  'leader-elect': { default: 'true', help: 'elect a leader on a Lease so that only one replica acts' },
  'leader-identity': { default: '', help: 'this replica\'s identity in the Lease (default: $POD_NAME, else the host name)' },
  'lease-name': { default: 'execsession-operator', help: 'name of the leader Lease' },
  'lease-duration': { default: '15s', help: 'how long a Lease stays valid without renewal' },
  'log-level': { default: 'info', help: 'debug, info, warn or error' },
} as const;

type Flag = keyof typeof FLAGS;

/** The operator's configuration. */
export interface OperatorConfig {
  kubeconfig: string;
  webhook: WebhookConfig;
  api: ApiConfig;
  controller: ControllerConfig;
  concurrency: number;
  leaderElect: boolean;
  leaderIdentity: string;
  leaseName: string;
  leaseDurationMs: number;
  logLevel: string;
  /** --audit-sink and --audit-dir (src/audit). */
  audit: AuditConfig;
}


/** Thrown for bad flags; the message says which and what is expected. */
export class ConfigError extends Error {}

/** --help: the usage, printed on stdout with exit code 0. */
export class HelpRequested extends ConfigError {}

/** The --help text. */
export function usage(): string {
  const lines = Object.entries(FLAGS).map(([k, v]) => `  --${k.padEnd(22)} ${v.help}\n  ${''.padEnd(24)} default: ${v.default || '(see above)'}; env EXECSESSION_${k.toUpperCase().replace(/-/g, '_')}`);
  return `usage: npm start -- [flags]\n\nRuns the execsession operator against the current kubeconfig.\n\n${lines.join('\n')}\n`;
}

function positiveInt(flag: Flag, value: string): number {
  if (!/^\d+$/.test(value) || Number(value) <= 0) throw new ConfigError(`--${flag} must be a positive whole number, got "${value}"`);
  return Number(value);
}

function wholeNumber(flag: Flag, value: string): number {
  if (!/^\d+$/.test(value)) throw new ConfigError(`--${flag} must be a whole number (0 or more), got "${value}"`);
  return Number(value);
}

function duration(flag: Flag, value: string): number {
  try {
    return parseDuration(value);
  } catch (e) {
    throw new ConfigError(`--${flag}: ${(e as Error).message}`);
  }
}

/** Where the webhook's certificates come from (the operator's own Secret, or --cert-secret). */
function certConfig(get: (f: Flag) => string): Pick<WebhookConfig, 'secretName' | 'certSecret' | 'certRefreshMs'> {
  const certSecret = get('cert-secret');
  if (certSecret && !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(certSecret)) throw new ConfigError(`--cert-secret must be a Secret name in --namespace, got "${certSecret}"`);
  if (certSecret && certSecret === get('webhook-secret')) {
    throw new ConfigError(`--cert-secret names the operator's own Secret "${certSecret}" (--webhook-secret), which the operator writes; name the Secret cert-manager writes (config/cert-manager: execsession-serving)`);
  }
  const certRefreshMs = duration('cert-refresh', get('cert-refresh'));
  if (certRefreshMs < 1000) throw new ConfigError(`--cert-refresh must be at least 1s, got "${get('cert-refresh')}"`);
  return { secretName: get('webhook-secret'), certSecret, certRefreshMs };
}

/** Which client certificates the webhook accepts; names undefined: the cluster's requestheader allowed names. */
function webhookClient(get: (f: Flag) => string, given: (f: Flag) => string | undefined): WebhookConfig['client'] {
  const names = given('webhook-client-names');
  return { caFile: get('webhook-client-ca'), ...(names === undefined ? {} : { names: names.split(',').map((n) => n.trim()).filter(Boolean) }) };
}

/** How the webhook listens, how kube-apiserver reaches it, and whom it answers. */
function webhookConfig(get: (f: Flag) => string, given: (f: Flag) => string | undefined): WebhookConfig {
  const [namespace, listen, url, service] = [get('namespace'), get('webhook-listen'), get('webhook-url'), get('webhook-service')];
  const m = /^(\[[0-9a-fA-F:]+\]|[^:]+):(\d+)$/.exec(listen);
  if (!m) throw new ConfigError(`--webhook-listen must be HOST:PORT, got "${listen}"`);
  const listenHost = (m[1] ?? '').replace(/^\[|\]$/g, '');
  const base = { namespace, ...certConfig(get), listenHost, listenPort: Number(m[2]), client: webhookClient(get, given) };
  if (url) {
    if (!/^https:\/\/[^/]+$/.test(url)) throw new ConfigError(`--webhook-url must be https://HOST[:PORT] without a path, got "${url}"`);
    return { ...base, endpoint: { url } };
  }
  const everywhere = listenHost === '0.0.0.0' || listenHost === '::';
  if (!service && !everywhere) return { ...base, endpoint: {} };
  const s = /^([a-z0-9-]+)\/([a-z0-9-]+)(?::(\d+))?$/.exec(service || `${namespace}/execsession-webhook:443`);
  if (!s) throw new ConfigError(`--webhook-service must be NAMESPACE/NAME[:PORT], got "${service}"`);
  return { ...base, endpoint: { service: { namespace: s[1] ?? '', name: s[2] ?? '', port: Number(s[3] ?? 443) } } };
}

function hostPort(flag: Flag, value: string): { host: string; port: number } {
  const m = /^(\[[0-9a-fA-F:]+\]|[^:]+):(\d+)$/.exec(value);
  if (!m) throw new ConfigError(`--${flag} must be HOST:PORT, got "${value}"`);
  return { host: (m[1] ?? '').replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

function bool(flag: Flag, value: string): boolean {
  if (value !== 'true' && value !== 'false') throw new ConfigError(`--${flag} must be true or false, got "${value}"`);
  return value === 'true';
}

function apiConfig(namespace: string, get: (f: Flag) => string): ApiConfig {
  const { host, port } = hostPort('api-listen', get('api-listen'));
  const s = /^([a-z0-9-]+)\/([a-z0-9-]+)$/.exec(get('api-service') || `${namespace}/execsession-api`);
  if (!s) throw new ConfigError(`--api-service must be NAMESPACE/NAME, got "${get('api-service')}"`);
  const publicServer = get('public-server').replace(/\/+$/, '');
  if (publicServer && !/^https:\/\/[^/]+$/.test(publicServer)) throw new ConfigError(`--public-server must be https://HOST[:PORT], got "${publicServer}"`);
  return {
    listenHost: host, listenPort: port, service: { namespace: s[1] ?? '', name: s[2] ?? '' }, publicServer,
    metrics: bool('metrics', get('metrics')),
    recording: recordingConfig(get),
    attach: { ...DEFAULT_ATTACH_CONFIG, limitPerSession: positiveInt('attach-limit', get('attach-limit')), idleTimeoutMs: duration('attach-idle-timeout', get('attach-idle-timeout')) },
  };
}

function recordingConfig(get: (f: Flag) => string): ApiConfig['recording'] {
  const store = get('recording-store');
  if (store !== 'file' && store !== 's3' && store !== 'none') throw new ConfigError(`--recording-store must be file, s3 or none, got "${store}"`);
  const dir = get('recording-dir');
  if (store === 'file' && !dir.startsWith('/')) throw new ConfigError(`--recording-dir must be an absolute path, got "${dir}"`);
  const retention = get('recording-retention');
  return { store, dir, s3: s3Config(store === 's3', get), retentionMs: retention === '0' ? 0 : duration('recording-retention', retention) };
}

/** The s3 store's bucket and endpoint; checked only when it is the store. */
function s3Config(used: boolean, get: (f: Flag) => string): S3StoreConfig {
  const [bucket, endpoint, region] = [get('recording-s3-bucket'), get('recording-s3-endpoint').replace(/\/+$/, ''), get('recording-s3-region')];
  let prefix = get('recording-s3-prefix').replace(/^\/+/, '');
  if (prefix && !prefix.endsWith('/')) prefix += '/';
  if (used) {
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) throw new ConfigError(`--recording-s3-bucket must name a bucket (3-63 lower-case letters, digits, dots and dashes), got "${bucket}"`);
    // userinfo in the URL would be a credential in a flag, which the log and ps show.
    if (endpoint && !/^https?:\/\/[^/@\s]+$/.test(endpoint)) throw new ConfigError('--recording-s3-endpoint must be http(s)://HOST[:PORT], without a path or credentials (they come from AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)');
    if (!/^[a-z0-9-]+$/.test(region)) throw new ConfigError(`--recording-s3-region must be a region name such as us-east-1, got "${region}"`);
    if (prefix.includes('..')) throw new ConfigError(`--recording-s3-prefix must not contain "..", got "${prefix}"`);
  }
  return { bucket, prefix, endpoint, region, forcePathStyle: bool('recording-s3-path-style', get('recording-s3-path-style')) };
}

function auditConfig(get: (f: Flag) => string): AuditConfig {
  const sink = get('audit-sink');
  if (sink !== 'log' && sink !== 'file' && sink !== 'recording' && sink !== 'none') throw new ConfigError(`--audit-sink must be log, file, recording or none, got "${sink}"`);
  const dir = get('audit-dir');
  if (sink === 'file' && !dir.startsWith('/')) throw new ConfigError(`--audit-dir must be an absolute path, got "${dir}"`);
  if (sink === 'recording' && get('recording-store') === 'none') throw new ConfigError('--audit-sink=recording needs a recording store: set --recording-store to file or s3, or use --audit-sink=file');
  return { sink, dir };
}

/** A warm helper's idle lifetime: long enough to be claimed (warm-pod.ts CLAIM_MARGIN_MS) and refilled. */
function warmIdle(value: string): number {
  const ms = duration('warm-helper-idle', value);
  if (ms < 60_000) throw new ConfigError(`--warm-helper-idle must be at least 1m (a warm helper is not claimed in its last 20 s), got "${value}"`);
  return ms;
}

/** Reads flags and environment into the configuration. */
export function loadConfig(argv: string[], env: NodeJS.ProcessEnv): OperatorConfig {
  const options = Object.fromEntries(Object.keys(FLAGS).map((k) => [k, { type: 'string' as const }]));
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean' } }, strict: true, allowPositionals: false });
  } catch (e) {
    throw new ConfigError(`${(e as Error).message}\n\n${usage()}`);
  }
  if (parsed.values.help) throw new HelpRequested(usage());
  const values = parsed.values as Record<string, string | boolean | undefined>;
  // A flag, else its environment variable; undefined when neither is set (where empty and unset differ).
  const given = (f: Flag): string | undefined => (values[f] as string | undefined) ?? env[`EXECSESSION_${f.toUpperCase().replace(/-/g, '_')}`];
  const get = (f: Flag): string => given(f) ?? FLAGS[f].default;
  const leaderElect = get('leader-elect');
  if (!['true', 'false'].includes(leaderElect)) throw new ConfigError(`--leader-elect must be true or false, got "${leaderElect}"`);
  const backend = get('backend');
  if (backend !== 'auto' && backend !== 'runtime' && backend !== 'nsenter') throw new ConfigError(`--backend must be auto, runtime or nsenter, got "${backend}"`);
  if (!get('runtime-config-path').includes('{id}')) throw new ConfigError('--runtime-config-path must contain {id}, which stands for the container ID');
  return {
    kubeconfig: get('kubeconfig') || env.KUBECONFIG || '',
    webhook: webhookConfig(get, given),
    api: apiConfig(get('namespace'), get),
    controller: {
      namespace: get('namespace'),
      helperImage: get('helper-image'),
      helperPullPolicy: get('helper-pull-policy'),
      runtimePaths: { configPath: get('runtime-config-path'), runcRoot: get('runtime-root') },
      backend,
      retentionMs: duration('retention', get('retention')),
      startTimeoutMs: duration('start-timeout', get('start-timeout')),
      outputLimit: positiveInt('output-limit', get('output-limit')),
      warmHelpers: wholeNumber('warm-helpers', get('warm-helpers')),
      warmHelperIdleMs: warmIdle(get('warm-helper-idle')),
      recordedOutputLimit: positiveInt('recorded-output-limit', get('recorded-output-limit')),
      // Filled in by main once the operator's Secret is read.
      stampKey: () => {
        throw new Error('the stamp key is not loaded yet');
      },
    },
    concurrency: positiveInt('concurrency', get('concurrency')),
    leaderElect: leaderElect === 'true',
    leaderIdentity: get('leader-identity') || env.POD_NAME || hostname(),
    leaseName: get('lease-name'),
    leaseDurationMs: duration('lease-duration', get('lease-duration')),
    logLevel: get('log-level'),
    audit: auditConfig(get),
  };
}
