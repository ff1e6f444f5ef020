/**
 * client-node's KubeConfig, alone: imported statically here so the bundler can
 * leave out the rest of client-node (its generated API is most of it; see
 * scripts/bundle.ts), and loaded by client.ts only when a command needs the cluster.
 */
export { KubeConfig } from '@kubernetes/client-node';
