/** `approve`, `deny`, `revoke`, `extend`: one POST to the aggregated API, one line back. */
import type { GlobalOptions } from './client.js';
import { durationFlag, print, type CliContext } from './context.js';
import { UsageError } from './errors.js';
import { actionSummary, type Action } from './outcome.js';
import { postAction } from './sessions.js';

/** Flags of the actions: `reason` for approve/deny/revoke, `by` for extend. */
export interface ActionFlags {
  reason?: string;
  by?: string;
}

/** The JSON body docs/api.md defines for each action. */
export function actionBody(action: Action, flags: ActionFlags): Record<string, unknown> {
  if (action === 'extend') {
    if (!flags.by) throw new UsageError('extend needs --by, e.g. "--by 15m"');
    durationFlag('--by', flags.by);
    return { by: flags.by };
  }
  return flags.reason ? { reason: flags.reason } : {};
}

/** Runs an action; the server's refusal (a Status message) becomes the error. */
export async function runAction(ctx: CliContext, globals: GlobalOptions, action: Action, name: string, flags: ActionFlags): Promise<number> {
  const body = actionBody(action, flags);
  const api = await ctx.connect(globals);
  const session = await postAction(api, api.namespace, name, action, body);
  print(ctx, actionSummary(action, session, ctx.now(), flags.by));
  return 0;
}
