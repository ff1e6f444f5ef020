/**
 * The channel protocol of attach (docs/api.md), the same as pods/exec speaks:
 * every binary message is one channel byte and then the payload.
 */
import type { Status } from './errors.js';

/** WebSocket subprotocols offered, preferred first. */
export const PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'] as const;

/** Channel numbers (docs/api.md, "attach"). */
export const Channel = { stdin: 0, stdout: 1, stderr: 2, status: 3, resize: 4, close: 255 } as const;

/** One message: channel byte, then the payload. */
export function encodeFrame(channel: number, data: Uint8Array | string): Buffer {
  const payload = typeof data === 'string' ? Buffer.from(data) : data;
  const frame = Buffer.allocUnsafe(payload.length + 1);
  frame[0] = channel;
  frame.set(payload, 1);
  return frame;
}

/** Splits a message into its channel and payload; undefined for an empty message. */
export function decodeFrame(message: Buffer): { channel: number; data: Buffer } | undefined {
  if (message.length === 0) return undefined;
  return { channel: message[0]!, data: message.subarray(1) };
}

/** The terminal size message (channel 4). */
export function resizeFrame(width: number, height: number): Buffer {
  return encodeFrame(Channel.resize, JSON.stringify({ Width: width, Height: height }));
}

/** v5 only: closes the remote stdin, so the process sees end of file. */
export function closeStdinFrame(): Buffer {
  return Buffer.from([Channel.close, Channel.stdin]);
}

/** How a finished attach ends the CLI: an exit code, and a message for stderr on failure. */
export interface AttachOutcome {
  exitCode: number;
  message?: string;
}

/**
 * Channel 3's Status to an exit code: Success is 0; NonZeroExitCode is the
 * process's code (details.causes[reason=ExitCode]); any other failure (expired,
 * revoked, internal error) is 1 with the server's message.
 */
export function statusToOutcome(status: Status): AttachOutcome {
  if (status.status === 'Success') return { exitCode: 0 };
  if (status.reason === 'NonZeroExitCode') {
    const cause = status.details?.causes?.find((c) => c.reason === 'ExitCode');
    const code = Number(cause?.message);
    if (Number.isInteger(code) && code > 0 && code < 256) return { exitCode: code };
  }
  const message = status.message || `session ended: ${status.reason ?? 'unknown reason'}`;
  return { exitCode: 1, message };
}

/** Parses channel 3's payload; a payload that is not JSON is an internal failure. */
export function parseStatusFrame(data: Buffer): Status {
  try {
    return JSON.parse(data.toString('utf8')) as Status;
  } catch {
    return { status: 'Failure', reason: 'InternalError', message: `unreadable exit status from the server: ${data.toString('utf8').slice(0, 200)}` };
  }
}
