/**
 * `version`: the plugin's version, and (unless --client) the operator's, read
 * from the Execsession-Version header of the aggregated API's discovery
 * document (readable by every authenticated user, as discovery is), and
 * kube-apiserver's from /version. Like kubectl version, what could not be read
 * is said, and the exit code is 1.
 */
import { stringify } from 'yaml';
import { SUBRESOURCE_BASE, SUBRESOURCE_GROUP_VERSION } from '../api/subresources.js';
import { PRODUCT_VERSION, VERSION_HEADER } from '../api/version.js';
import type { GlobalOptions } from './client.js';
import { printErr, type CliContext } from './context.js';
import { ApiError, UsageError } from './errors.js';
import { printableInline } from './printable.js';

export interface VersionFlags {
  client?: boolean;
  output?: string;
}

interface Versions {
  pluginVersion: string;
  operatorVersion?: string;
  serverVersion?: string;
}

export async function runVersion(ctx: CliContext, globals: GlobalOptions, flags: VersionFlags): Promise<number> {
  if (flags.output !== undefined && flags.output !== 'json' && flags.output !== 'yaml') throw new UsageError(`-o ${flags.output}: use -o json or -o yaml`);
  const v: Versions = { pluginVersion: PRODUCT_VERSION };
  const problems: string[] = [];
  if (!flags.client) {
    const api = await ctx.connect(globals);
    const [operator, server] = await Promise.allSettled([
      (async () => {
        let header: string | undefined;
        await api.request('GET', SUBRESOURCE_BASE, undefined, { quietWarnings: true, onHeaders: (h) => void (header = [h[VERSION_HEADER.toLowerCase()]].flat()[0]) });
        return header ?? 'unknown (an operator older than 0.1.0 answers discovery without its version)';
      })(),
      api.request<{ gitVersion?: string }>('GET', '/version', undefined, { quietWarnings: true }).then((b) => b.gitVersion ?? 'unknown'),
    ]);
    if (operator.status === 'fulfilled') v.operatorVersion = operator.value;
    else {
      const e = operator.reason as Error;
      const why = e instanceof ApiError && (e.code === 404 || e.code === 503)
        ? `the aggregated API ${SUBRESOURCE_GROUP_VERSION} is not served (HTTP ${e.code}): is the operator installed and running? kubectl get apiservice v1alpha1.subresources.execsession.dev`
        : e.message;
      problems.push(`cannot read the operator's version: ${why}`);
    }
    if (server.status === 'fulfilled') v.serverVersion = server.value;
    else problems.push(`cannot read the server's version: ${(server.reason as Error).message}`);
  }
  if (flags.output === 'json') ctx.io.stdout.write(`${JSON.stringify(v, null, 2)}\n`);
  else if (flags.output === 'yaml') ctx.io.stdout.write(stringify(v));
  else {
    const lines = [`Plugin Version: ${v.pluginVersion}`];
    if (v.operatorVersion) lines.push(`Operator Version: ${printableInline(v.operatorVersion)}`);
    if (v.serverVersion) lines.push(`Server Version: ${printableInline(v.serverVersion)}`);
    ctx.io.stdout.write(`${lines.join('\n')}\n`);
  }
  for (const p of problems) printErr(ctx, `error: ${p}`);
  return problems.length > 0 ? 1 : 0;
}
