import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildProgram } from './program.js';
import { NO_FILE_COMP, complete, formatCompletion, type NameSources } from './complete.js';
import type { CliContext } from './context.js';
import type { GlobalOptions } from './client.js';

const program = buildProgram({} as CliContext, [], { code: 0 });
const asked: string[] = [];
const names = (globals: GlobalOptions): NameSources => ({
  sessions: async (ns) => (asked.push(`sessions ${ns ?? '-'} ${globals.context ?? '-'}`), ns === 'team' ? ['shell', 'debug-web'] : ['other']),
  pods: async (ns) => (asked.push(`pods ${ns ?? '-'}`), ['web-7d4f', 'db-0']),
  containers: async (ns, pod) => (asked.push(`containers ${ns ?? '-'} ${pod}`), pod === 'web-7d4f' ? ['app', 'sidecar'] : []),
});
const items = async (...args: string[]): Promise<string[]> => (await complete(program, args, names)).items;

describe('completion (cobra __complete protocol)', () => {
  it('completes verbs, then only those with the typed prefix', async () => {
    assert.deepEqual(await items(''), ['create', 'wait', 'attach', 'web', 'list', 'get', 'approve', 'deny', 'revoke', 'extend', 'replay', 'version', 'completion']);
    assert.deepEqual(await items('a'), ['attach', 'approve']);
  });

  it('completes a verb\'s flags and the global ones, offline', async () => {
    const flags = await items('create', 'web-7d4f', '--');
    for (const f of ['--user', '--container', '--ttl', '--namespace', '--context', '--kubeconfig']) assert.ok(flags.includes(f), f);
    assert.deepEqual(await items('create', 'web-7d4f', '--t'), ['--ttl', '--tty', '--timeout', '--token']);
  });

  it('completes session names for verbs that take one, from the namespace given with -n or --namespace=, and the context', async () => {
    asked.length = 0;
    assert.deepEqual(await items('-n', 'team', 'attach', ''), ['shell', 'debug-web']);
    assert.deepEqual(await items('--namespace=team', '--context', 'prod', 'revoke', 'd'), ['debug-web']);
    assert.deepEqual(asked, ['sessions team -', 'sessions team prod']);
  });

  it('completes pods for create, and the pod\'s containers after -c', async () => {
    assert.deepEqual(await items('create', ''), ['web-7d4f', 'db-0']);
    assert.deepEqual(await items('create', 'web-7d4f', '-c', ''), ['app', 'sidecar']);
    assert.deepEqual(await items('create', 'web-7d4f', '-u', ''), [], 'a user name is not guessed');
  });

  it('completes the values of -o and of flags with choices', async () => {
    assert.deepEqual(await items('list', '-o', ''), ['json', 'yaml', 'wide', 'name', 'jsonpath=', 'custom-columns=']);
    assert.deepEqual(await items('get', 'x', '-o', 'j'), ['json', 'jsonpath=']);
    assert.deepEqual(await items('create', 'web-7d4f', '--dry-run', ''), ['none', 'server', 'client']);
    assert.deepEqual(await items('wait', 'x', '--for', ''), ['ready', 'end']);
  });

  it('completes nothing after "--" (the remote command), and never offers file names', async () => {
    const c = await complete(program, ['create', 'web-7d4f', '-u', 'alice', '--', 's'], names);
    assert.deepEqual(c, { items: [], directive: NO_FILE_COMP });
    assert.equal(formatCompletion({ items: ['a', 'b'], directive: NO_FILE_COMP }), 'a\nb\n:4\n');
  });
});
