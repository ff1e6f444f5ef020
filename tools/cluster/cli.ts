/**
 * npm run cluster:up | cluster:down | cluster:status | cluster:user -- NAME [--group G]...
 */
import { down, status, up } from './cluster.js';
import { registerApiService } from './apiservice.js';
import { HOST_IP, paths } from './config.js';
import { writeUserKubeconfig } from './pki.js';

const USAGE = `usage:
  npm run cluster:up                                   start the local cluster (idempotent)
  npm run cluster:down                                 stop it and remove its state (keeps the binary cache)
  npm run cluster:status                               show its processes
  npm run cluster:user -- NAME [--group GROUP]...      mint a kubeconfig for that identity and print its path
  npm run cluster:apiservice -- GROUP VERSION PORT CA_FILE
                                                       route GROUP/VERSION to an aggregated API server on ${HOST_IP}:PORT`;

function parseUser(args: string[]): { name: string; groups: string[] } {
  const groups: string[] = [];
  let name: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? '';
    if (a === '--group' || a === '-g') {
      const g = args[++i];
      if (!g) throw new Error(`${a} needs a group name\n${USAGE}`);
      groups.push(g);
    } else if (a.startsWith('--group=')) {
      groups.push(a.slice('--group='.length));
    } else if (!name && !a.startsWith('-')) {
      name = a;
    } else {
      throw new Error(`unexpected argument "${a}"\n${USAGE}`);
    }
  }
  if (!name) throw new Error(`cluster:user needs a user name\n${USAGE}`);
  return { name, groups };
}

async function main(argv: string[]): Promise<void> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'up':
      await up();
      return;
    case 'down':
      await down();
      return;
    case 'status':
      console.log(status());
      return;
    case 'user': {
      const { name, groups } = parseUser(rest);
      console.log(await writeUserKubeconfig(paths.users, name, groups));
      return;
    }
    case 'apiservice': {
      const [group, version, port, caFile] = rest;
      if (!group || !version || !caFile || !/^\d+$/.test(port ?? '')) throw new Error(USAGE);
      await registerApiService({ group, version, port: Number(port), caFile });
      console.log(`${version}.${group} -> https://${HOST_IP}:${port}`);
      return;
    }
    default:
      throw new Error(USAGE);
  }
}

main(process.argv.slice(2)).catch((e: unknown) => {
  process.stderr.write(`cluster: ${(e as Error).message}\n`);
  process.exit(1);
});
