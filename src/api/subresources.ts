/**
 * The operator's aggregated API (docs/api.md), spelled once: its group and
 * version, the subresources it serves, and their paths. The server routes by
 * these, the controller publishes status.attach.url with them, and the CLI
 * calls them, so the three cannot drift apart.
 */
import { PLURAL } from './types.js';

/** API group served by the operator behind an APIService. */
export const SUBRESOURCE_GROUP = 'subresources.execsession.dev';
/** Its one version. */
export const SUBRESOURCE_VERSION = 'v1alpha1';
/** `subresources.execsession.dev/v1alpha1`, as discovery documents name it. */
export const SUBRESOURCE_GROUP_VERSION = `${SUBRESOURCE_GROUP}/${SUBRESOURCE_VERSION}` as const;
/** The path prefix of the group version: `/apis/subresources.execsession.dev/v1alpha1`. */
export const SUBRESOURCE_BASE = `/apis/${SUBRESOURCE_GROUP_VERSION}` as const;

/** The subresources of an ExecSession and their RBAC verbs (attach is a WebSocket: get, or create for POST upgrades; recording is read with GET). */
export const SUBRESOURCES = [
  { name: 'attach', verbs: ['get', 'create'] },
  { name: 'approve', verbs: ['create'] },
  { name: 'deny', verbs: ['create'] },
  { name: 'revoke', verbs: ['create'] },
  { name: 'extend', verbs: ['create'] },
  // Reading recordings is its own grant, apart from attach (docs/audit.md, "Recordings").
  { name: 'recording', verbs: ['get'] },
  // The browser terminal (docs/browser.md): a page and its assets, read with GET; the page opens attach.
  { name: 'terminal', verbs: ['get'] },
] as const;

/** One of the {@link SUBRESOURCES}' names. */
export type SubresourceName = (typeof SUBRESOURCES)[number]['name'];

/** `/apis/subresources.execsession.dev/v1alpha1/namespaces/NS/execsessions/NAME/SUB`. */
export function subresourcePath(namespace: string, name: string, subresource: SubresourceName): string {
  return `${SUBRESOURCE_BASE}/namespaces/${encodeURIComponent(namespace)}/${PLURAL}/${encodeURIComponent(name)}/${subresource}`;
}

/** A namespace (DNS label), a session name (DNS subdomain) and a lower-case word. */
const PATH = new RegExp(`^${SUBRESOURCE_BASE.replace(/\./g, '\\.')}/namespaces/([a-z0-9][a-z0-9-]{0,62})/${PLURAL}/([a-z0-9][a-z0-9.-]{0,252})/([a-z]+)$`);

/** What a subresource path names; the subresource is any lower-case word (the server answers unknown ones 404). */
export interface SubresourceTarget {
  namespace: string;
  name: string;
  subresource: string;
}

/** Parses a path of {@link subresourcePath}'s shape; undefined when it is not one. */
export function parseSubresourcePath(path: string): SubresourceTarget | undefined {
  const m = PATH.exec(path);
  if (!m) return undefined;
  return { namespace: m[1] ?? '', name: m[2] ?? '', subresource: m[3] ?? '' };
}

/** The files the terminal page loads, below its own path (`.../NAME/terminal/FILE`). */
export const TERMINAL_ASSETS = ['terminal.js', 'terminal.css'] as const;

/** The terminal page's response header with the session's current `status.expiresAt`, which the page's countdown follows (HEAD). */
export const TERMINAL_EXPIRES_HEADER = 'Execsession-Expires-At';

/** One of the {@link TERMINAL_ASSETS}. */
export type TerminalAsset = (typeof TERMINAL_ASSETS)[number];

/** A path below a session's terminal page: the session and the asset named, when it is one of ours. */
export function parseTerminalAssetPath(path: string): (SubresourceTarget & { asset: TerminalAsset }) | undefined {
  const slash = path.lastIndexOf('/');
  const target = parseSubresourcePath(path.slice(0, slash));
  const asset = TERMINAL_ASSETS.find((a) => a === path.slice(slash + 1));
  return target?.subresource === 'terminal' && asset ? { ...target, asset } : undefined;
}
