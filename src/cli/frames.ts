/**
 * The channel protocol of attach (docs/api.md), the same as pods/exec speaks,
 * from the client's side. The protocol itself (subprotocols, channel numbers,
 * framing, exit codes) is src/api/channels.ts, which the server uses too.
 */
import { Channel as Ch, PROTOCOLS, exitCodeOf, frame, type ExecStatus } from '../api/channels.js';
import type { Status } from './errors.js';

/** WebSocket subprotocols offered, preferred first. */
export { PROTOCOLS };

/** Channel numbers (docs/api.md, "attach"). */
export const Channel = { stdin: Ch.Stdin, stdout: Ch.Stdout, stderr: Ch.Stderr, status: Ch.Status, resize: Ch.Resize, close: Ch.Close } as const;

/** One message: channel byte, then the payload. */
export function encodeFrame(channel: number, data: Uint8Array | string): Buffer {
  return frame(channel, typeof data === 'string' ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength));
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
  const code = exitCodeOf(status as ExecStatus);
  if (code !== undefined && code > 0 && code < 256) return { exitCode: code };
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
