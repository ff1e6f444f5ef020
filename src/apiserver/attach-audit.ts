/**
 * The audit events of one attach (src/audit): attached and detached with who
 * and which command, and its recording once the store holds it whole. An
 * attach is served by one replica once, so its id is made here, at random.
 */
import { randomUUID } from 'node:crypto';
import type { Auditor } from '../audit/auditor.js';
import { attachStep, recordingStored } from '../audit/steps.js';
import { castName } from '../recording/store.js';
import type { AttachPlan } from './attach-plan.js';

/** Emits an attach's events; a no-op without an Auditor. */
export class AttachAudit {
  /** Names this attach in its three events. */
  readonly id = randomUUID();

  constructor(private readonly plan: AttachPlan, private readonly audit: Auditor | undefined, private readonly now: () => Date) {}

  attached(): void {
    const { plan } = this;
    this.audit?.emit(attachStep(plan.session, 'attached', this.id, plan.caller, { command: plan.command, now: this.now() }));
  }

  /** `exitCode` of the process, else why the attach ended (`Expired`, `Revoked`, ...; `Disconnected` without a status). */
  detached(exitCode: number | undefined, endedBy: string | undefined): void {
    const { plan } = this;
    this.audit?.emit(attachStep(plan.session, 'detached', this.id, plan.caller, { command: plan.command, exitCode, endedBy: endedBy ?? 'Disconnected', now: this.now() }));
  }

  /** The store holds recording number `n` of this attach, complete. */
  stored(store: string, n: number): void {
    const { namespace, name, uid } = this.plan;
    this.audit?.emit(recordingStored(this.plan.session, this.id, `${store} ${namespace}/${name}/${uid}/${castName(n)}`, this.now()));
  }
}
