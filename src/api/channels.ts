/**
 * The channel protocols of `pods/exec` (v4.channel.k8s.io, v5.channel.k8s.io):
 * every binary message starts with a channel byte. Pure helpers shared by the
 * attach bridge and the CLI.
 */

export const PROTOCOL_V4 = 'v4.channel.k8s.io';
export const PROTOCOL_V5 = 'v5.channel.k8s.io';
/** What the attach endpoint speaks, most preferred first. */
export const PROTOCOLS = [PROTOCOL_V5, PROTOCOL_V4] as const;

export const Channel = {
  Stdin: 0,
  Stdout: 1,
  Stderr: 2,
  Status: 3,
  Resize: 4,
  /** v5 only: `[255, n]` closes stream n. */
  Close: 255,
} as const;

/** A metav1.Status as sent on the status channel. */
export interface ExecStatus {
  kind?: 'Status';
  apiVersion?: 'v1';
  metadata?: Record<string, never>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  code?: number;
  details?: { causes?: { reason?: string; message?: string }[] };
}

/** The subprotocol to answer with: v5 when offered, else v4, else none. */
export function chooseProtocol(offered: Iterable<string>): string | undefined {
  const set = new Set(offered);
  return PROTOCOLS.find((p) => set.has(p));
}

/** One frame: the channel byte, then the payload. */
export function frame(channel: number, payload: Buffer | string): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  return Buffer.concat([Buffer.of(channel), body]);
}

/** The exit code a status carries: 0 for Success, the ExitCode cause for NonZeroExitCode, else undefined. */
export function exitCodeOf(s: ExecStatus): number | undefined {
  if (s.status === 'Success') return 0;
  if (s.reason !== 'NonZeroExitCode') return undefined;
  const cause = s.details?.causes?.find((c) => c.reason === 'ExitCode');
  const code = Number(cause?.message);
  return Number.isInteger(code) ? code : undefined;
}

/** The status for a process that exited with `code`. */
export function exitStatus(code: number): ExecStatus {
  if (code === 0) return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success' };
  return {
    kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'NonZeroExitCode',
    message: `command terminated with non-zero exit code ${code}`,
    details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
  };
}

/** A failure status for the end of an attach that is not the process's own exit. */
export function failureStatus(reason: string, message: string, code = 500): ExecStatus {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason, message, code };
}

/** Parses a status frame's payload; undefined when it is not a Status. */
export function parseStatus(payload: Buffer): ExecStatus | undefined {
  try {
    const v = JSON.parse(payload.toString('utf8')) as ExecStatus;
    return v && (v.status === 'Success' || v.status === 'Failure') ? v : undefined;
  } catch {
    return undefined;
  }
}

/** A resize payload, `{"Width":80,"Height":24}`, or undefined when malformed. */
export function parseResize(payload: Buffer): { Width: number; Height: number } | undefined {
  try {
    const v = JSON.parse(payload.toString('utf8')) as { Width?: unknown; Height?: unknown };
    const ok = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 65535;
    return ok(v.Width) && ok(v.Height) ? { Width: v.Width, Height: v.Height } : undefined;
  } catch {
    return undefined;
  }
}
