// Which fields of a peer's objects a migration accounted for. The rule of `herald migrate`
// is that no field disappears without a finding: each one is either carried into Herald's
// objects or named by a warning or note. The paths here are spelled as findings spell
// them ("spec.virtualRouters[0].neighbors[1].peerASN"), so the two can be compared.
import { isPlainObject } from "../../src/api/validation.ts";
import type { Finding } from "../../src/migrate/findings.ts";

export interface Leaf {
  /** "spec.addresses[0]", "metadata.labels.exposure". */
  readonly path: string;
  readonly value: unknown;
}

/**
 * Every value of an object a user configures: below `spec`, and the labels and
 * annotations (which select pools and mark defaults). `status` is the peer's own output,
 * and the name and namespace say which object it is, not what it does.
 */
export function configuredLeaves(object: Record<string, unknown>): Leaf[] {
  const metadata = isPlainObject(object.metadata) ? object.metadata : {};
  return [
    ...leavesOf(object.spec, "spec"),
    ...leavesOf(metadata.labels, "metadata.labels"),
    ...leavesOf(metadata.annotations, "metadata.annotations"),
  ];
}

/** The scalars below `value`; an empty list or object is a leaf itself. null is no value. */
export function leavesOf(value: unknown, path: string): Leaf[] {
  if (value === undefined || value === null) return [];
  if (Array.isArray(value)) {
    if (value.length === 0) return [{ path, value }];
    return value.flatMap((item, i) => leavesOf(item, `${path}[${i}]`));
  }
  if (isPlainObject(value)) {
    const entries = Object.entries(value);
    if (entries.length === 0) return [{ path, value }];
    return entries.flatMap(([key, child]) => leavesOf(child, `${path}.${key}`));
  }
  return [{ path, value }];
}

/** Whether `path` is `field` or lies below it. */
export function isWithin(path: string, field: string): boolean {
  return (
    path === field ||
    (path.startsWith(field) && (path[field.length] === "." || path[field.length] === "["))
  );
}

/** The finding about the object read from `source` that names `path` (or a field above it). */
export function findingNaming(
  findings: readonly Finding[],
  source: string,
  path: string,
): Finding | undefined {
  return findings.find(
    (finding) =>
      finding.origin?.source === source &&
      finding.field !== undefined &&
      isWithin(path, finding.field),
  );
}

/** The value at a finding-style path: "spec.blocks[1].cidr". Keys may hold dots (labels). */
export function valueAt(root: unknown, path: string): unknown {
  let value: unknown = root;
  let rest = path;
  while (rest !== "") {
    if (rest.startsWith("[")) {
      const end = rest.indexOf("]");
      if (!Array.isArray(value)) return undefined;
      value = value[Number(rest.slice(1, end))];
      rest = rest.slice(end + 1);
    } else {
      if (rest.startsWith(".")) rest = rest.slice(1);
      if (!isPlainObject(value)) return undefined;
      // The longest key that matches wins, so "kubernetes.io/hostname" is one key.
      const key = Object.keys(value)
        .filter(
          (k) => rest.startsWith(k) && (rest.length === k.length || ".[".includes(rest[k.length]!)),
        )
        .sort((a, b) => b.length - a.length)[0];
      if (key === undefined) return undefined;
      value = value[key];
      rest = rest.slice(key.length);
    }
  }
  return value;
}
