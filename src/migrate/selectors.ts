// Label selectors between the peers' shapes and Herald's. MetalLB takes lists of selectors
// that are OR-ed; Herald takes one selector per field, so a list becomes one selector only
// when that can be done exactly.
import type { LabelSelector, LabelSelectorRequirement } from "../api/selector.ts";

export function isEmptySelector(selector: LabelSelector): boolean {
  return (
    Object.keys(selector.matchLabels ?? {}).length === 0 &&
    (selector.matchExpressions ?? []).length === 0
  );
}

export function selectorsEqual(a: LabelSelector, b: LabelSelector): boolean {
  return JSON.stringify(normalise(a)) === JSON.stringify(normalise(b));
}

function normalise(selector: LabelSelector): unknown {
  const labels = Object.entries(selector.matchLabels ?? {}).sort(([x], [y]) => x.localeCompare(y));
  const expressions = (selector.matchExpressions ?? [])
    .map((r) => ({ key: r.key, operator: r.operator, values: [...(r.values ?? [])].sort() }))
    .sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y)));
  return { labels, expressions };
}

/** A selector as Herald writes it: empty parts left out. */
export function compactSelector(selector: LabelSelector): LabelSelector {
  const result: LabelSelector = {};
  if (Object.keys(selector.matchLabels ?? {}).length > 0)
    result.matchLabels = { ...selector.matchLabels };
  if ((selector.matchExpressions ?? []).length > 0)
    result.matchExpressions = selector.matchExpressions!.map((r) => ({ ...r }));
  return result;
}

export type Alternatives =
  /** Matches what any of the selectors matched; `undefined` selector: everything. */
  { exact: true; selector: LabelSelector | undefined } | { exact: false };

/**
 * One selector matching what any of `selectors` matches. An empty list, or any empty
 * selector in it, matches everything. Beyond equal selectors, the one union Kubernetes
 * selectors can express is "key In (a, b)", which is what per-host lists such as
 * `[{matchLabels: {kubernetes.io/hostname: a}}, {matchLabels: {…: b}}]` need.
 */
export function anyOf(selectors: readonly LabelSelector[]): Alternatives {
  if (selectors.length === 0 || selectors.some(isEmptySelector)) {
    return { exact: true, selector: undefined };
  }
  const [first, ...rest] = selectors;
  if (rest.every((selector) => selectorsEqual(selector, first!))) {
    return { exact: true, selector: compactSelector(first!) };
  }
  const single = selectors.map(singleKeyValues);
  const key = single[0]?.key;
  if (single.every((s) => s !== undefined && s.key === key) && key !== undefined) {
    const values = [...new Set(single.flatMap((s) => s!.values))];
    return {
      exact: true,
      selector: { matchExpressions: [{ key, operator: "In", values }] },
    };
  }
  return { exact: false };
}

/** The key and values of a selector that is exactly "key In values" (or key=value). */
function singleKeyValues(selector: LabelSelector): { key: string; values: string[] } | undefined {
  const labels = Object.entries(selector.matchLabels ?? {});
  const expressions: readonly LabelSelectorRequirement[] = selector.matchExpressions ?? [];
  if (labels.length === 1 && expressions.length === 0) {
    const [key, value] = labels[0]!;
    return { key, values: [value] };
  }
  if (labels.length === 0 && expressions.length === 1 && expressions[0]!.operator === "In") {
    return { key: expressions[0]!.key, values: [...(expressions[0]!.values ?? [])] };
  }
  return undefined;
}

/** "tier=gold, app in (a, b)": for messages. */
export function describeSelector(selector: LabelSelector): string {
  const parts = Object.entries(selector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const r of selector.matchExpressions ?? []) {
    const values = r.values && r.values.length > 0 ? ` (${r.values.join(", ")})` : "";
    parts.push(`${r.key} ${r.operator}${values}`);
  }
  return parts.length > 0 ? parts.join(", ") : "everything";
}
