/**
 * The audit event of a POST subresource that succeeded (approve, deny, revoke,
 * extend), from the session as the action wrote it: one place for the four.
 */
import type { ExecSession } from '../api/types.js';
import type { AuditEvent } from '../audit/event.js';
import { approvalDecided, extendedBy, revokedBy } from '../audit/steps.js';
import type { ActionContext } from './types.js';

/** The event of `sub` by ctx.caller, or undefined for a subresource that is not a lifecycle step. */
export function actionEvent(sub: string, ctx: ActionContext, s: ExecSession): AuditEvent | undefined {
  if (sub === 'approve' || sub === 'deny') {
    // The caller's own record: one per approver, signed (approve.ts).
    const mine = (s.status?.approvals ?? []).find((a) => a.username === ctx.caller.username);
    return mine ? approvalDecided(s, mine) : undefined;
  }
  // A second revoke returns the session as the first left it: the same event, the same id.
  if (sub === 'revoke') return s.status?.revocation?.at ? revokedBy(s) : undefined;
  if (sub === 'extend') return extendedBy(s, ctx.caller, typeof ctx.body.by === 'string' ? ctx.body.by : '', ctx.now);
  return undefined;
}
