/**
 * List-then-watch that survives everything: it resumes from the last
 * resourceVersion (no replay of every object on a re-watch), relists only when
 * the server says the version is gone (410), bounds each watch with a timeout
 * (long-lived watches can go silent), backs off on errors, and never exits the
 * process. It only reports keys; the work queue does the rest.
 */
import { type KubeConfig, Watch } from '@kubernetes/client-node';
import { classifyApiError } from './api-errors.js';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../log/logger.js';

/** An object as far as the watcher cares. */
interface Meta {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
}

/** What to watch, and what to do with each object seen. */
export interface WatchSpec {
  /** The collection's API path, e.g. /apis/execsession.dev/v1alpha1/execsessions. */
  path: string;
  /** Extra query parameters, e.g. { labelSelector: 'a=b' }; the list must use the same. */
  query?: Record<string, string>;
  /** Lists the collection (through client-node's typed APIs). */
  list: () => Promise<{ items: Meta[]; metadata?: { resourceVersion?: string } }>;
  /** Called for every object listed or changed, including deletions. */
  onObject: (type: string, obj: Meta) => void;
  /** Called after every (re)list, with the listed objects. */
  onList?: (objs: Meta[]) => void;
}

/** Seconds a single watch request may last before it is renewed. */
const WATCH_TIMEOUT_S = 290;

/**
 * Whether a failed list is worth retrying: a transient error (api-errors.ts),
 * such as throttling (429, which kube-apiserver also answers while a new CRD's
 * watch cache is "(re)initializing"), server errors and network errors. Anything
 * else (403, 404) is the caller's to report.
 */
export function isTransientListError(e: unknown): boolean {
  return classifyApiError(e) === 'transient';
}

export class Watcher {
  private readonly abort = new AbortController();
  private current: AbortController | undefined;

  constructor(private readonly kc: KubeConfig, private readonly spec: WatchSpec, private readonly log: Logger) {}

  /** Runs until stop(); resolves after the first successful list. */
  async start(): Promise<void> {
    const first = await this.list();
    void this.loop(first);
  }

  stop(): void {
    this.abort.abort();
    this.current?.abort();
  }

  /** Lists, retrying transient errors with backoff until it succeeds or the watcher stops. */
  private async list(): Promise<string> {
    let body: Awaited<ReturnType<WatchSpec['list']>>;
    for (let failures = 1; ; failures++) {
      try {
        body = await this.spec.list();
        break;
      } catch (e) {
        if (!isTransientListError(e) || this.abort.signal.aborted) throw e;
        this.log.warn({ path: this.spec.path, err: e instanceof Error ? e.message.split('\n')[0] : String(e) }, 'list failed; retrying');
        await sleep(Math.min(200 * 2 ** failures, 10_000), undefined, { signal: this.abort.signal }).catch(() => undefined);
      }
    }
    for (const item of body.items) this.spec.onObject('SYNC', item);
    this.spec.onList?.(body.items);
    return body.metadata?.resourceVersion ?? '';
  }

  private async loop(startVersion: string): Promise<void> {
    let version = startVersion;
    let failures = 0;
    while (!this.abort.signal.aborted) {
      try {
        const result = await this.watchOnce(version);
        version = result.version;
        failures = result.ok ? 0 : failures + 1;
        if (result.gone) version = await this.list();
      } catch (e) {
        failures++;
        this.log.warn({ path: this.spec.path, err: String(e) }, 'watch failed; retrying');
      }
      if (failures > 0) await sleep(Math.min(200 * 2 ** failures, 30_000), undefined, { signal: this.abort.signal }).catch(() => undefined);
    }
  }

  /** One watch request; resolves when it ends, with the last version seen. */
  private watchOnce(version: string): Promise<{ version: string; gone: boolean; ok: boolean }> {
    let last = version;
    let gone = false;
    return new Promise((resolve) => {
      const query = { ...this.spec.query, resourceVersion: version, allowWatchBookmarks: 'true', timeoutSeconds: String(WATCH_TIMEOUT_S) };
      const onEvent = (type: string, obj: Meta & { code?: number }): void => {
        if (type === 'ERROR') {
          gone = obj.code === 410;
          return;
        }
        if (obj.metadata?.resourceVersion) last = obj.metadata.resourceVersion;
        if (type !== 'BOOKMARK') this.spec.onObject(type, obj);
      };
      const done = (err: unknown): void => {
        if (err && !this.abort.signal.aborted && !gone) this.log.debug({ path: this.spec.path, err: String(err) }, 'watch ended');
        resolve({ version: last, gone, ok: !err || gone });
      };
      new Watch(this.kc).watch(this.spec.path, query, onEvent, done).then((c) => {
        this.current = c;
        if (this.abort.signal.aborted) c.abort();
      }, (e: unknown) => done(e ?? new Error('watch failed')));
    });
  }
}
