// Label and field selectors as they arrive in a query string ("app=web,tier in (a,b)",
// "spec.nodeName=node1"), parsed once and matched against stored objects.
import { failure } from "./status.ts";

type Requirement =
  | { key: string; op: "exists" | "notexists" }
  | { key: string; op: "in" | "notin"; values: string[] };

export interface Selector {
  matches(object: Record<string, unknown>): boolean;
}

export const EVERYTHING: Selector = { matches: () => true };

export class SelectorError extends Error {}

/** Parses Kubernetes label selector syntax; throws SelectorError with a reason. */
export function parseLabelSelector(text: string | null): Selector {
  if (!text || text.trim() === "") return EVERYTHING;
  const requirements: Requirement[] = [];
  for (const part of splitTopLevel(text)) {
    const term = part.trim();
    if (term === "") continue;
    let match: RegExpMatchArray | null;
    if ((match = term.match(/^!\s*([^\s=!(),]+)$/))) {
      requirements.push({ key: match[1]!, op: "notexists" });
    } else if ((match = term.match(/^([^\s=!(),]+)\s+(in|notin)\s+\(([^)]*)\)$/))) {
      const values = match[3]!.split(",").map((v) => v.trim());
      requirements.push({ key: match[1]!, op: match[2] as "in" | "notin", values });
    } else if ((match = term.match(/^([^\s=!(),]+)\s*(==|=|!=)\s*([^\s=!(),]*)$/))) {
      requirements.push({
        key: match[1]!,
        op: match[2] === "!=" ? "notin" : "in",
        values: [match[3]!],
      });
    } else if ((match = term.match(/^([^\s=!(),]+)$/))) {
      requirements.push({ key: match[1]!, op: "exists" });
    } else {
      throw new SelectorError(`unable to parse requirement: "${term}"`);
    }
  }
  return {
    matches(object) {
      const labels = ((object.metadata as { labels?: Record<string, string> } | undefined)
        ?.labels ?? {}) as Record<string, string>;
      return requirements.every((r) => {
        const has = Object.hasOwn(labels, r.key);
        switch (r.op) {
          case "exists":
            return has;
          case "notexists":
            return !has;
          case "in":
            return has && r.values.includes(labels[r.key]!);
          case "notin":
            return !has || !r.values.includes(labels[r.key]!);
        }
      });
    },
  };
}

/** Splits on commas outside parentheses: "a in (x,y),b" → ["a in (x,y)", "b"]. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === "(") depth++;
    else if (text[i] === ")") depth--;
    else if (text[i] === "," && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

/**
 * Parses a field selector; only `allowed` fields (plus metadata.name and
 * metadata.namespace) may be used, as the API server refuses the rest.
 */
export function parseFieldSelector(text: string | null, allowed: readonly string[]): Selector {
  if (!text || text.trim() === "") return EVERYTHING;
  const terms = text.split(",").map((term) => {
    const match = term.trim().match(/^([^=!]+?)\s*(==|=|!=)\s*(.*)$/);
    if (!match) throw new SelectorError(`invalid field selector: "${term}"`);
    const [, field, op, value] = match;
    if (field !== "metadata.name" && field !== "metadata.namespace" && !allowed.includes(field!)) {
      throw new SelectorError(`field label not supported: ${field}`);
    }
    return { path: field!.split("."), negate: op === "!=", value: value! };
  });
  return {
    matches(object) {
      return terms.every(({ path, negate, value }) => {
        let current: unknown = object;
        for (const step of path) current = (current as Record<string, unknown> | undefined)?.[step];
        const text = current === undefined || current === null ? "" : String(current);
        return (text === value) !== negate;
      });
    },
  };
}

/** Both selectors of a list, watch or collection delete; a bad one answers 400. */
export function requestedSelectors(url: URL, selectableFields: readonly string[]): Selector[] {
  try {
    return [
      parseLabelSelector(url.searchParams.get("labelSelector")),
      parseFieldSelector(url.searchParams.get("fieldSelector"), selectableFields),
    ];
  } catch (error) {
    if (error instanceof SelectorError) throw failure(400, error.message);
    throw error;
  }
}
