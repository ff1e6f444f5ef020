/**
 * What an attach is set up with: the flags' settings, and the plan decided
 * before the WebSocket is accepted (attach.ts runs it).
 */
import type { ExecSession, Person } from '../api/types.js';
import type { HelperRef } from '../exec/helper-client.js';
import type { AttachRecording } from './recording.js';

/** Attach settings (flags in src/config.ts). */
export interface AttachConfig {
  /** Attaches to one session at the same time. */
  limitPerSession: number;
  /** An attach with no byte in either direction for this long is closed. */
  idleTimeoutMs: number;
  /** WebSocket ping interval; a client that misses a pong by the next ping is dropped. */
  pingIntervalMs: number;
  /** How often sessions with attaches are re-read (revocation, extension) on this replica. */
  pollMs: number;
}

export const DEFAULT_ATTACH_CONFIG: AttachConfig = { limitPerSession: 4, idleTimeoutMs: 30 * 60_000, pingIntervalMs: 30_000, pollMs: 2_000 };

/** Everything decided before the WebSocket is accepted. */
export interface AttachPlan {
  key: string;
  namespace: string;
  name: string;
  uid: string;
  caller: Person;
  helper: HelperRef;
  /** The session as read when the attach was accepted (for Events about it). */
  session: ExecSession;
  /** The helper argv, given the terminal's first size when known. */
  argvFor: (size?: TerminalSize) => string[];
  command: string[];
  tty: boolean;
  stdin: boolean;
  expiresAt: number;
  /** How this attach is recorded; its writer is aborted by release unless the attach started. */
  recording: AttachRecording;
  /**
   * Gives back the attach slot prepare reserved, once: called when the attach
   * starts (the slot becomes a live attach) and on every way it can fail before.
   */
  release: () => void;
}

/** A terminal size, as the resize channel carries it. */
export type TerminalSize = { Width: number; Height: number };
