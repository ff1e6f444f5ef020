/**
 * The status seal: status is writable by anyone RBAC gives `execsessions/status`,
 * so every status field the operator later acts on (the resolved user, the
 * container, the helper pod, the backend, the phase, start and expiry, the
 * attach command it publishes) is signed by the operator, and read back only
 * when the signature holds. `status.seal` is an HMAC under the stamp key over
 * those fields and the session's namespace, name and uid, so a seal can be
 * neither forged nor copied from another session. Every status write of the
 * operator that changes a sealed field writes a new seal with it, computed over
 * the status as the merge patch will leave it (see docs/adr/0016-operator-seals-status.md).
 */
import type { ExecSessionStatus, Phase } from '../api/types.js';
import { withoutEmptyStrings } from '../api/wire.js';
import { signJson, verifyJson } from './hmac.js';

/** The status fields the operator acts on after writing them, in the order docs list them. */
export const SEALED_FIELDS = ['phase', 'node', 'container', 'containerID', 'runtime', 'backend', 'user', 'helperPod', 'startedAt', 'expiresAt', 'extendableUntil', 'attach', 'recording'] as const;

/** Phases reached only through sealed writes: a session in one of them needs a seal. */
const SEALED_PHASES: readonly Phase[] = ['Starting', 'Ready', 'Running'];

/** What a seal binds: the session's identity and its status. */
export interface SealedSession {
  metadata: { namespace?: string; name?: string; uid?: string };
  status?: ExecSessionStatus;
}

/** What the seal's signature covers: absent and "" are one value, as on the wire. */
function sealedContent(s: SealedSession, status: ExecSessionStatus): object {
  const clean = withoutEmptyStrings(status) as Record<string, unknown>;
  const fields = Object.fromEntries(SEALED_FIELDS.map((f) => [f, clean[f]]));
  return { v: 1, namespace: s.metadata.namespace ?? '', name: s.metadata.name ?? '', uid: s.metadata.uid ?? '', status: fields };
}

/**
 * Whether status holds anything the operator acts on, which must then carry a
 * seal that verifies. A session that has not started (no sealed field, phase
 * Pending, WaitingForApproval or Approved) needs none.
 */
export function needsSeal(status: ExecSessionStatus | undefined): boolean {
  if (!status) return false;
  if (status.phase && SEALED_PHASES.includes(status.phase)) return true;
  return SEALED_FIELDS.some((f) => f !== 'phase' && status[f] !== undefined && status[f] !== '');
}

/** The seal of a status (for tests and for sealedPatch). */
export function sealOf(key: Buffer, s: SealedSession, status: ExecSessionStatus): string {
  return signJson(key, sealedContent(s, status));
}

/**
 * RFC 7386 merge patch, as the API server applies `patchSessionStatus`:
 * objects merge key by key, null deletes, anything else replaces.
 */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> = target !== null && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (v === undefined) continue;
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/**
 * The patch with the seal of the status it leaves behind, when that status needs
 * one. Write it with the session's resourceVersion: the seal is computed over
 * the status as read, and a write in between must not be sealed over unseen.
 */
export function sealedPatch(key: Buffer, s: SealedSession, patch: Partial<ExecSessionStatus>): Partial<ExecSessionStatus> {
  const after = mergePatch(s.status ?? {}, withoutEmptyStrings(patch)) as ExecSessionStatus;
  return needsSeal(after) ? { ...patch, seal: sealOf(key, s, after) } : patch;
}

/**
 * Why the status cannot be trusted, or undefined when it can: it needs a seal
 * and has none, or its seal does not verify (someone else wrote a sealed field).
 */
export function sealProblem(key: Buffer, s: SealedSession): string | undefined {
  const status = s.status;
  if (!needsSeal(status) || !status) return undefined;
  const changed = 'its status was written by someone other than the execsession operator';
  const which = `(status.${SEALED_FIELDS.join(', status.')} are the operator's alone)`;
  if (!status.seal) return `${changed}: status.seal is missing ${which}`;
  if (!verifyJson(key, sealedContent(s, status), status.seal)) return `${changed}: status.seal does not match ${which}`;
  return undefined;
}
