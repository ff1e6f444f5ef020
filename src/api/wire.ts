/**
 * How the operator writes custom resources on the wire: absent and "" are one
 * value. The status it patches and the status seal it signs (src/signing/seal.ts)
 * both go through this, so what is signed is what is stored.
 */

/**
 * Drops empty strings from an object, recursively. Some API servers (the local
 * Kubernetes 1.20 build among them) read "" in a custom resource as null and then
 * reject it as not a string; an absent field means the same to every reader.
 */
export function withoutEmptyStrings<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v: unknown) => withoutEmptyStrings(v)) as T;
  if (value === null || typeof value !== 'object' || value instanceof Date) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v !== '') out[k] = withoutEmptyStrings(v);
  }
  return out as T;
}
