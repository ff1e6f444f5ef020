/**
 * The node's network namespace, joined to the host by a veth pair. The kubelet
 * refuses a loopback node IP, so it gets the node side; kube-apiserver binds the
 * host side. Only these harness-made addresses are ever used.
 */
import { existsSync, rmSync } from 'node:fs';
import { HOST_IP, NETNS, NODE_IP, POD_CIDR, VETH_HOST, VETH_NODE, VETH_PREFIX } from './config.js';
import { run } from './proc.js';

export function netnsExists(): boolean {
  return existsSync(`/var/run/netns/${NETNS}`);
}

async function linkExists(name: string): Promise<boolean> {
  const out = await run('ip', ['-o', 'link', 'show', 'dev', name], { allowFail: true });
  return out.includes(name);
}

export async function ensureNetwork(): Promise<void> {
  if (netnsExists() && (await linkExists(VETH_HOST))) return;
  if (netnsExists() || (await linkExists(VETH_HOST))) await removeNetwork();
  await run('ip', ['netns', 'add', NETNS]);
  await run('ip', ['link', 'add', VETH_HOST, 'type', 'veth', 'peer', 'name', VETH_NODE, 'netns', NETNS]);
  await run('ip', ['addr', 'add', `${HOST_IP}/${VETH_PREFIX}`, 'dev', VETH_HOST]);
  await run('ip', ['link', 'set', VETH_HOST, 'up']);
  const inNs = (args: string[]): Promise<string> => run('ip', ['-n', NETNS, ...args]);
  await inNs(['addr', 'add', `${NODE_IP}/${VETH_PREFIX}`, 'dev', VETH_NODE]);
  await inNs(['link', 'set', VETH_NODE, 'up']);
  await inNs(['link', 'set', 'lo', 'up']);
  await inNs(['route', 'add', 'default', 'via', HOST_IP]);
  // Replies from the host (kube-apiserver) to pods, for example through a ClusterIP Service;
  // the route goes with the veth when the namespace is deleted.
  await run('ip', ['route', 'add', POD_CIDR, 'via', NODE_IP, 'dev', VETH_HOST]);
}

/** Deletes the namespace (which takes the veth pair with it) and a stray host-side veth. */
export async function removeNetwork(): Promise<string[]> {
  const removed: string[] = [];
  if (netnsExists()) {
    await run('ip', ['netns', 'del', NETNS]);
    removed.push(`network namespace ${NETNS}`);
  }
  // Deleting the namespace destroys the veth pair asynchronously; only a stray one is ours to delete.
  if (await linkExists(VETH_HOST)) {
    await run('ip', ['link', 'del', VETH_HOST], { allowFail: true });
    removed.push(`veth ${VETH_HOST}`);
  }
  return removed;
}

/** Removes the named network namespaces that containerd made for pod sandboxes. */
export async function removeSandboxNetns(files: string[]): Promise<void> {
  for (const file of files) {
    if (!existsSync(file)) continue;
    await run('umount', [file], { allowFail: true });
    rmSync(file, { force: true });
  }
}
