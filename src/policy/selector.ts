// metav1.LabelSelector semantics, as the API server applies them, for pod and
// namespace selectors in policies.
import type { LabelSelector, LabelSelectorRequirement } from './types.js';
import { SELECTOR_OPERATORS } from './types.js';

type Labels = Readonly<Record<string, string>>;

/** True when `labels` satisfy one requirement. */
function matchesRequirement(labels: Labels, req: LabelSelectorRequirement): boolean {
  const has = Object.hasOwn(labels, req.key);
  const values = req.values ?? [];
  switch (req.operator) {
    case 'In':
      return has && values.includes(labels[req.key] ?? '');
    case 'NotIn':
      return !has || !values.includes(labels[req.key] ?? '');
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    default:
      // An unknown operator never matches (validateSelector reports it).
      return false;
  }
}

/**
 * True when `labels` satisfy every matchLabels entry and every matchExpressions
 * requirement. An absent or empty selector matches everything.
 */
export function matchesSelector(selector: LabelSelector | undefined, labels: Labels): boolean {
  if (!selector) return true;
  const pairs = Object.entries(selector.matchLabels ?? {});
  if (!pairs.every(([key, value]) => Object.hasOwn(labels, key) && labels[key] === value)) return false;
  return (selector.matchExpressions ?? []).every((req) => matchesRequirement(labels, req));
}

/** Problems with one requirement, as the API server's ValidateLabelSelector would report them. */
function requirementProblems(req: LabelSelectorRequirement, path: string): string[] {
  const count = req.values?.length ?? 0;
  if (!req.key) return [`${path}.key is empty`];
  if (!(SELECTOR_OPERATORS as readonly string[]).includes(req.operator)) {
    return [`${path}.operator ${JSON.stringify(req.operator)} is not one of ${SELECTOR_OPERATORS.join(', ')}`];
  }
  const needsValues = req.operator === 'In' || req.operator === 'NotIn';
  if (needsValues && count === 0) return [`${path}.values must not be empty for operator ${req.operator}`];
  if (!needsValues && count > 0) return [`${path}.values must be empty for operator ${req.operator}`];
  return [];
}

/** Problems that make a selector unusable; `path` prefixes each, e.g. `spec.targets.podSelector`. */
export function validateSelector(selector: LabelSelector | undefined, path: string): string[] {
  return (selector?.matchExpressions ?? []).flatMap((req, i) => requirementProblems(req, `${path}.matchExpressions[${i}]`));
}
