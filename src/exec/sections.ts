/**
 * Parses the helper's output: sections of `NAME LENGTH\n` followed by exactly
 * LENGTH bytes. Lengths, not delimiters, so a container's /etc/passwd can never
 * forge another section.
 */

/** Section name to raw bytes. */
export type Sections = Map<string, Buffer>;

/** Parses length-prefixed sections; throws on a malformed stream. */
export function parseSections(data: Buffer): Sections {
  const out: Sections = new Map();
  let at = 0;
  while (at < data.length) {
    const nl = data.indexOf(0x0a, at);
    if (nl < 0) throw new Error(`helper output is malformed at byte ${at}: no section header`);
    const header = /^([a-z_.]+) (\d+)$/.exec(data.subarray(at, nl).toString('utf8'));
    if (!header) throw new Error(`helper output is malformed at byte ${at}: bad section header`);
    const size = Number(header[2]);
    const start = nl + 1;
    if (start + size > data.length) throw new Error(`helper output is truncated in section ${header[1]}`);
    out.set(header[1] ?? '', data.subarray(start, start + size));
    at = start + size;
  }
  return out;
}

/** A section as UTF-8 text, or undefined when absent. */
export function text(s: Sections, name: string): string | undefined {
  return s.get(name)?.toString('utf8');
}
