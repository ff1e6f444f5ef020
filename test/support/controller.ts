/**
 * What tests that build a Reconciler share: a logger that prints nothing, and a
 * ControllerConfig with test defaults (the local cluster's runtime paths, a fake
 * helper image, an hour's retention), given the stamp key and any overrides.
 */
import type { ControllerConfig } from '../../src/controller/types.js';
import { CONTAINERD_PATHS } from '../../src/exec/helper-client.js';
import type { Logger } from '../../src/log/logger.js';

export const QUIET: Logger = { debug() {}, info() {}, warn() {}, error() {} };

export function controllerConfig(key: Buffer, overrides: Partial<ControllerConfig> = {}): ControllerConfig {
  return {
    namespace: 'execsession-system', helperImage: 'helper:test', helperPullPolicy: 'Never', runtimePaths: CONTAINERD_PATHS, backend: 'auto',
    retentionMs: 3_600_000, startTimeoutMs: 120_000, outputLimit: 1024, recordedOutputLimit: 1 << 20, stampKey: () => key,
    ...overrides,
  };
}
