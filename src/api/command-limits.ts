/**
 * How large spec.command (and an attach's command) may be. The command reaches
 * the target through exec arguments, where the kernel refuses one string above
 * 128 KiB and all of them together above a quarter of the stack limit
 * ("argument list too long", E2BIG); the container's environment travels with it.
 * A documented limit, well below, is refused at admission with a message rather
 * than failing on the node.
 */

/** Arguments a command may have (the CRD's maxItems). */
export const MAX_COMMAND_ARGS = 256;

/** Bytes a command may take in all: the UTF-8 bytes of its arguments, one more for each (its NUL, as execve counts). */
export const MAX_COMMAND_BYTES = 64 * 1024;

/** The size of a command as execve counts it: UTF-8 bytes plus a NUL per argument. */
export function commandBytes(command: readonly string[]): number {
  return command.reduce((n, a) => n + Buffer.byteLength(a, 'utf8') + 1, 0);
}

/** Why a command is too large, or undefined when it fits; `field` names it in the message. */
export function commandTooLarge(command: readonly string[], field: string): string | undefined {
  if (command.length > MAX_COMMAND_ARGS) {
    return `${field}: ${command.length} arguments, the limit is ${MAX_COMMAND_ARGS}; pass long lists through a script or a file in the container`;
  }
  const bytes = commandBytes(command);
  if (bytes > MAX_COMMAND_BYTES) {
    return `${field}: ${bytes} bytes in all, the limit is ${MAX_COMMAND_BYTES} (64 KiB, counting each argument's UTF-8 bytes and one more); put a long script in a file in the container and run that`;
  }
  return undefined;
}
