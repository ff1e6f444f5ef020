/**
 * The CLI's view of the cluster: a KubeConfig loaded like kubectl loads one
 * (KUBECONFIG or ~/.kube/config, in-cluster; --kubeconfig and --context win),
 * and plain JSON requests over https with its credentials. Every auth method of
 * @kubernetes/client-node works, since applyToHTTPSOptions does the TLS and the
 * Authorization header (certificates, tokens, exec plugins, OIDC).
 */
import { request as httpRequest, type IncomingHttpHeaders, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { Cluster, KubeConfig } from '@kubernetes/client-node';
import { CliError, apiErrorFrom } from './errors.js';

/** The global flags every command takes. */
export interface GlobalOptions {
  namespace?: string;
  kubeconfig?: string;
  context?: string;
  verbose?: boolean;
  /** kubectl's connection and identity flags, with kubectl's precedence over the kubeconfig. */
  cluster?: string;
  server?: string;
  certificateAuthority?: string;
  insecureSkipTlsVerify?: boolean;
  token?: string;
  as?: string;
  asGroup?: string[];
  asUid?: string;
  /** Milliseconds; 0 or unset: no limit. */
  requestTimeout?: number;
}

/** Options of one request: warnings only under -v; an Accept other than JSON (a Table). */
export interface RequestOpts {
  quietWarnings?: boolean;
  accept?: string;
  /** Sees the response's headers (e.g. the operator's version on its discovery document). */
  onHeaders?: (headers: IncomingHttpHeaders) => void;
}

/** What commands need from the cluster; a fake in unit tests. */
export interface Api {
  /** The namespace from -n, else the context's, else `default`. */
  readonly namespace: string;
  /** The API server URL of the current context. */
  readonly server: string;
  /**
   * A JSON request; resolves with the parsed body, rejects with an ApiError or
   * CliError. The server's warnings go to stderr, or only to -v with `quietWarnings`.
   */
  request<T>(method: string, path: string, body?: unknown, opts?: RequestOpts): Promise<T>;
  /**
   * A watch (`?watch=1` in `path`): calls `onEvent` for each event the server sends and
   * resolves when the server ends the stream; an ERROR event rejects with its Status.
   */
  watch(path: string, accept: string, onEvent: (type: string, object: unknown) => void): Promise<void>;
  /** A GET whose body is read as a stream (a recording); rejects with an ApiError on a non-2xx answer. */
  stream(path: string, accept: string): Promise<Readable>;
  /** https options with the credentials (for the attach WebSocket). */
  httpsOptions(): Promise<RequestOptions>;
  /** Debug line on stderr when -v was given. */
  debug(message: string): void;
}

/**
 * Loads the kubeconfig as kubectl would, applying --kubeconfig and --context.
 * client-node is imported here, not at the top: it takes about a second to
 * load, which --help and usage errors should not pay.
 */
export async function loadKubeConfig(opts: GlobalOptions): Promise<KubeConfig> {
  const { KubeConfig } = await import('./kubeconfig-class.js');
  const kc = new KubeConfig();
  try {
    if (opts.kubeconfig) kc.loadFromFile(opts.kubeconfig);
    else kc.loadFromDefault();
  } catch (e) {
    throw new CliError(`cannot load the kubeconfig${opts.kubeconfig ? ` ${opts.kubeconfig}` : ''}: ${(e as Error).message}; pass a readable file with --kubeconfig or set KUBECONFIG`);
  }
  if (opts.context) {
    if (!kc.getContextObject(opts.context)) {
      const known = kc.getContexts().map((c) => c.name).join(', ') || 'none';
      throw new CliError(`context "${opts.context}" is not in the kubeconfig (contexts: ${known}); "kubectl config get-contexts" lists them`);
    }
    kc.setCurrentContext(opts.context);
  }
  // client-node's last resort when it found no kubeconfig at all; kubectl says so instead.
  const fallback = kc.getCurrentCluster();
  if (!opts.kubeconfig && fallback?.name === 'cluster' && fallback.server === 'http://localhost:8080') {
    throw new CliError('no kubeconfig found: set KUBECONFIG, pass --kubeconfig FILE, or create ~/.kube/config');
  }
  const overridden = applyOverrides(kc, opts, () => new KubeConfig());
  if (!overridden.getCurrentCluster()) {
    throw new CliError('the kubeconfig names no cluster for the current context: pick one with --context, or set KUBECONFIG / --kubeconfig');
  }
  return overridden;
}

/**
 * kubectl's flags over the kubeconfig: --cluster picks another cluster entry for the
 * context; --server, --certificate-authority and --insecure-skip-tls-verify change
 * it; --token replaces the user's credentials.
 */
function applyOverrides(kc: KubeConfig, opts: GlobalOptions, fresh: () => KubeConfig): KubeConfig {
  if (![opts.cluster, opts.server, opts.certificateAuthority, opts.insecureSkipTlsVerify, opts.token].some(Boolean)) return kc;
  const ctxName = kc.getCurrentContext();
  const context = kc.getContextObject(ctxName);
  const clusterName = opts.cluster ?? context?.cluster ?? '';
  const base = kc.getCluster(clusterName);
  if (opts.cluster && !base) throw new CliError(`cluster "${opts.cluster}" is not in the kubeconfig (clusters: ${kc.getClusters().map((c) => c.name).join(', ') || 'none'})`);
  const cluster = overriddenCluster(base ?? { name: clusterName, server: '', skipTLSVerify: false }, opts);
  if (!cluster.server) throw new CliError('no API server: the kubeconfig names none for this context; pass --server URL');
  const userName = context?.user ?? 'user';
  const user = opts.token ? { name: userName, token: opts.token } : (kc.getUser(userName) ?? { name: userName });
  const next = fresh();
  next.loadFromOptions({
    clusters: [...kc.getClusters().filter((c) => c.name !== cluster.name), cluster],
    users: [...kc.getUsers().filter((u) => u.name !== user.name), user],
    contexts: [...kc.getContexts().filter((c) => c.name !== ctxName), { name: ctxName || 'flags', cluster: cluster.name, user: user.name, namespace: context?.namespace }],
    currentContext: ctxName || 'flags',
  });
  return next;
}

/** A cluster entry with --server, --certificate-authority and --insecure-skip-tls-verify applied. */
function overriddenCluster(base: Cluster, opts: GlobalOptions): Cluster {
  return {
    ...base,
    ...(opts.server ? { server: opts.server } : {}),
    ...(opts.certificateAuthority ? { caFile: opts.certificateAuthority, caData: undefined } : {}),
    ...(opts.insecureSkipTlsVerify ? { skipTLSVerify: true, caFile: undefined, caData: undefined } : {}),
  };
}

/** Impersonate-* headers for --as, --as-group (each) and --as-uid, as kubectl sends them. */
export function impersonationHeaders(opts: GlobalOptions): Record<string, string | string[]> {
  if (!opts.as && (opts.asGroup?.length || opts.asUid)) throw new CliError('--as-group and --as-uid need --as USER, as in kubectl');
  return {
    ...(opts.as ? { 'Impersonate-User': opts.as } : {}),
    ...(opts.asGroup?.length ? { 'Impersonate-Group': [...opts.asGroup] } : {}),
    ...(opts.asUid ? { 'Impersonate-Uid': opts.asUid } : {}),
  };
}

/** The Api over a real KubeConfig. */
export class KubeApi implements Api {
  readonly namespace: string;
  readonly server: string;
  private readonly verbose: boolean;
  private readonly impersonate: Record<string, string | string[]>;
  private readonly timeoutMs: number;

  constructor(private readonly kc: KubeConfig, opts: GlobalOptions, private readonly log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)) {
    this.namespace = opts.namespace || kc.getContextObject(kc.getCurrentContext())?.namespace || 'default';
    this.server = kc.getCurrentCluster()!.server.replace(/\/+$/, '');
    this.verbose = opts.verbose === true;
    this.impersonate = impersonationHeaders(opts);
    this.timeoutMs = opts.requestTimeout ?? 0;
  }

  debug(message: string): void {
    if (this.verbose) this.log(`debug: ${message}`);
  }

  async httpsOptions(): Promise<RequestOptions> {
    const opts: RequestOptions = { headers: {} };
    try {
      await this.kc.applyToHTTPSOptions(opts);
    } catch (e) {
      // e.g. an exec plugin that is not installed, an expired OIDC refresh token, a missing CA file.
      throw new CliError(`cannot use the credentials of context "${this.kc.getCurrentContext()}": ${(e as Error).message}; check the kubeconfig's user and cluster entries`);
    }
    opts.headers = { ...opts.headers, ...this.impersonate };
    return opts;
  }

  async request<T>(method: string, path: string, body?: unknown, ropts: RequestOpts = {}): Promise<T> {
    const url = new URL(this.server + path);
    const opts = await this.httpsOptions();
    opts.method = method;
    opts.headers = { ...opts.headers, Accept: ropts.accept ?? 'application/json', ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) };
    this.debug(`${method} ${url.href}`);
    const { code, text, warnings, headers } = await send(url, opts, body === undefined ? undefined : JSON.stringify(body), this.timeoutMs);
    ropts.onHeaders?.(headers);
    this.debug(`${method} ${url.pathname} -> ${code}`);
    // As kubectl does: admission warnings (e.g. "waits for 1 approval; approve with: ...") go to stderr.
    for (const w of parseWarnings(warnings)) {
      if (ropts.quietWarnings) this.debug(`Warning: ${w}`);
      else this.log(`Warning: ${w}`);
    }
    if (code < 200 || code > 299) throw apiErrorFrom(code, text, `${method} ${url.pathname}`);
    return (text ? JSON.parse(text) : {}) as T;
  }

  async stream(path: string, accept: string): Promise<Readable> {
    const url = new URL(this.server + path);
    const opts = await this.httpsOptions();
    opts.method = 'GET';
    opts.headers = { ...opts.headers, Accept: accept };
    this.debug(`GET ${url.href}`);
    const requestFn = url.protocol === 'http:' ? httpRequest : httpsRequest;
    return new Promise((resolve, reject) => {
      const req = requestFn(url, opts, (res) => {
        const code = res.statusCode ?? 0;
        this.debug(`GET ${url.pathname} -> ${code}`);
        if (code >= 200 && code <= 299) return resolve(res);
        let text = '';
        res.on('data', (c: Buffer) => void (text += c.toString('utf8')));
        res.on('end', () => reject(apiErrorFrom(code, text, `GET ${url.pathname}`)));
      });
      req.on('error', (e) => reject(new CliError(`cannot reach the API server at ${url.origin}: ${e.message}; check the kubeconfig's server (--context, --kubeconfig) and the network`)));
      req.end();
    });
  }

  async watch(path: string, accept: string, onEvent: (type: string, object: unknown) => void): Promise<void> {
    const res = await this.stream(path, accept);
    // One JSON event per line, as kube-apiserver streams a watch.
    for await (const raw of createInterface({ input: res, crlfDelay: Infinity })) {
      const line = raw.trim();
      if (!line) continue;
      const event = JSON.parse(line) as { type: string; object: { code?: number } };
      if (event.type === 'ERROR') {
        res.destroy();
        throw apiErrorFrom(event.object.code ?? 500, JSON.stringify(event.object), `watch ${path.split('?')[0]}`);
      }
      onEvent(event.type, event.object);
    }
  }
}

/**
 * The texts of HTTP Warning headers (RFC 7234: `299 - "text"`), as
 * kube-apiserver sends admission warnings; node joins several with ", ".
 */
export function parseWarnings(header: string | string[] | undefined): string[] {
  const all = Array.isArray(header) ? header.join(', ') : header ?? '';
  return [...all.matchAll(/\d{3} \S+ "((?:[^"\\]|\\.)*)"/g)].map((m) => m[1]!.replace(/\\(.)/g, '$1'));
}

/** One request; a connection failure says which server could not be reached. */
function send(url: URL, opts: RequestOptions, body: string | undefined, timeoutMs = 0): Promise<{ code: number; text: string; warnings: string | string[] | undefined; headers: IncomingHttpHeaders }> {
  const requestFn = url.protocol === 'http:' ? httpRequest : httpsRequest;
  return new Promise((resolve, reject) => {
    const req = requestFn(url, opts, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ code: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), warnings: res.headers.warning, headers: res.headers }));
      res.on('error', reject);
    });
    req.on('error', (e) => reject(new CliError(`cannot reach the API server at ${url.origin}: ${e.message}; check the kubeconfig's server (--context, --kubeconfig) and the network`)));
    if (timeoutMs > 0) req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within --request-timeout ${timeoutMs / 1000}s`)));
    req.end(body);
  });
}

/** An Api for the global flags. */
export async function connect(opts: GlobalOptions): Promise<Api> {
  return new KubeApi(await loadKubeConfig(opts), opts);
}
