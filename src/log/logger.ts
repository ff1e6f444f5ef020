/**
 * The logging calls every part makes, in pino's shape. A leaf: the controller,
 * the webhook, the aggregated API and the Kubernetes adapters all take a Logger
 * through their constructors, and main.ts hands them pino.
 */

/** The logging calls the operator's parts make (pino's shape). */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}
