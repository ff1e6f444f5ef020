/** `completion bash|zsh|fish`: cobra's scripts (completion-scripts.ts), which ask `kubectl-execsession __complete`. */
import { BASH_COMPLETION, FISH_COMPLETION, ZSH_COMPLETION } from './completion-scripts.js';
import type { CliContext } from './context.js';
import { UsageError } from './errors.js';

const SCRIPTS: Record<string, string> = { bash: BASH_COMPLETION, zsh: ZSH_COMPLETION, fish: FISH_COMPLETION };

export async function runCompletion(ctx: CliContext, shell: string): Promise<number> {
  const script = Object.hasOwn(SCRIPTS, shell) ? SCRIPTS[shell] : undefined;
  if (!script) {
    throw new UsageError(`completion ${shell}: use bash, zsh or fish (kubectl execsession, through kubectl, completes with kubectl's own script and kubectl_complete-execsession)`);
  }
  ctx.io.stdout.write(script);
  return 0;
}
