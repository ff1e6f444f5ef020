/**
 * Reads one sample of an OperatorMetrics registry, as a scraper would see it:
 * by sample name (`..._count`, `..._sum`, `..._bucket` for histograms) and the
 * labels it must carry. undefined when there is no such sample.
 */
import type { OperatorMetrics } from '../../src/metrics/metrics.js';

export async function sample(m: OperatorMetrics, name: string, labels: Record<string, string | number> = {}): Promise<number | undefined> {
  for (const metric of await m.registry.getMetricsAsJSON()) {
    for (const v of metric.values) {
      const sampleName = (v as { metricName?: string }).metricName ?? metric.name;
      if (sampleName !== name) continue;
      const have = v.labels as Record<string, string | number>;
      if (Object.entries(labels).every(([k, want]) => String(have[k]) === String(want))) return v.value;
    }
  }
  return undefined;
}
