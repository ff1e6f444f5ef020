/**
 * The adapter over @dot-i/k8s-operator. We use its Operator class as the
 * process's lifecycle shell (start runs init, stop ends it) and nothing else:
 * its watch exits the process on any error and replays every object on each
 * re-watch, and its client is client-node 0.20, so watching, queueing, status
 * writes and leader election are ours (docs/adr/0004-operator-runtime.md).
 */
import dotI from '@dot-i/k8s-operator';

type OperatorClass = typeof import('@dot-i/k8s-operator').default;
// The package is CommonJS with `exports.default`; under ESM the class sits on `.default`.
const Operator: OperatorClass = ((dotI as unknown as { default?: OperatorClass }).default ?? dotI) as OperatorClass;

/** What the shell starts and stops. */
export interface Runnable {
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Runs a Runnable inside @dot-i/k8s-operator's lifecycle. */
export class OperatorShell extends Operator {
  constructor(private readonly inner: Runnable) {
    super({ debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined });
  }

  protected async init(): Promise<void> {
    await this.inner.start();
  }

  /** Stops the inner work; the base class's own watches are never used, so there is nothing else. */
  async shutdown(): Promise<void> {
    super.stop();
    await this.inner.stop();
  }
}
