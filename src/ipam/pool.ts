// One AddressPool on its own: validation with messages a person can act on, and the
// compiled form the allocator works with. Problems between pools are in pool-set.ts.
import type { AddressPoolSpec, AllocationScope, AnnounceMode } from "../api/addresspool.ts";
import { DEFAULT_AGGREGATION } from "../api/addresspool.ts";
import {
  selectorMatches,
  selectorProblems,
  type Labels,
  type LabelSelector,
} from "../api/selector.ts";
import { isDnsLabel, isDnsSubdomain, isPlainObject, unknownFields } from "../api/validation.ts";
import { FAMILIES, FAMILY_BITS, isBuggyIPv4, type Family } from "../ip.ts";
import {
  alignedTo,
  countBuggyIPv4,
  formatRange,
  parseRange,
  rangesOverlap,
  type AddressRange,
} from "./range.ts";
import { AddressSpace } from "./space.ts";

export interface Pool {
  readonly name: string;
  /** metadata.creationTimestamp; decides which of two overlapping pools keeps working. */
  readonly createdAt: string | undefined;
  readonly announce: AnnounceMode;
  readonly autoAssign: boolean;
  readonly avoidBuggyIPs: boolean;
  readonly priority: number | undefined;
  /** undefined: unrestricted, any service may use the pool. */
  readonly scope: AllocationScope | undefined;
  readonly aggregation: Readonly<Record<Family, number>>;
  /** Every entry of spec.addresses, in spec order. */
  readonly ranges: readonly AddressRange[];
  readonly spaces: Readonly<Partial<Record<Family, AddressSpace>>>;
  /** Addresses that can be handed out, per family (avoidBuggyIPs already taken off). */
  readonly capacity: Readonly<Record<Family, bigint>>;
  readonly spec: AddressPoolSpec;
  /**
   * Why the pool hands out no new addresses although it still owns its addresses (so
   * that what services hold stays put): its spec became invalid.
   */
  readonly disabled?: string;
}

export type CompiledPool = { pool: Pool; problems?: undefined } | { problems: string[] };

const SPEC_FIELDS = [
  "addresses",
  "announce",
  "autoAssign",
  "avoidBuggyIPs",
  "priority",
  "allocation",
  "aggregation",
  "nodeSelector",
  "interfaces",
] as const;
const ALLOCATION_FIELDS = ["namespaces", "namespaceSelector", "serviceSelector"] as const;
const ANNOUNCE_MODES: readonly AnnounceMode[] = ["Auto", "Local", "Routed"];
const MAX_PRIORITY = 2 ** 31 - 1;

/**
 * Checks an AddressPool read from anywhere (YAML, the API) and compiles it. Every
 * problem is reported, not just the first, each naming the field it is about.
 */
export function compilePool(object: unknown): CompiledPool {
  if (!isPlainObject(object)) return { problems: ["an AddressPool must be an object"] };
  const metadata = isPlainObject(object.metadata) ? object.metadata : {};
  const problems: string[] = [];
  const name = metadata.name;
  if (typeof name !== "string" || name === "") {
    problems.push("metadata.name: required");
  } else if (!isDnsSubdomain(name)) {
    problems.push(
      `metadata.name: "${name}" must be lower-case letters, digits, "-" and ".", starting and ending alphanumeric`,
    );
  }
  const createdAt =
    typeof metadata.creationTimestamp === "string" ? metadata.creationTimestamp : undefined;
  const spec = object.spec;
  if (!isPlainObject(spec)) {
    problems.push("spec: required, with at least spec.addresses");
    return { problems };
  }
  problems.push(...unknownFields(spec, SPEC_FIELDS, "spec"));

  const ranges = addressProblems(spec.addresses, problems);

  const announce = spec.announce ?? "Auto";
  if (!ANNOUNCE_MODES.includes(announce as AnnounceMode)) {
    problems.push(`spec.announce: "${String(announce)}" must be Auto, Local or Routed`);
  }
  for (const field of ["autoAssign", "avoidBuggyIPs"] as const) {
    if (spec[field] !== undefined && typeof spec[field] !== "boolean") {
      problems.push(`spec.${field}: must be true or false, not ${JSON.stringify(spec[field])}`);
    }
  }
  const priority = spec.priority;
  if (
    priority !== undefined &&
    (!Number.isInteger(priority) || (priority as number) < 0 || (priority as number) > MAX_PRIORITY)
  ) {
    problems.push(
      `spec.priority: must be a whole number from 0 to ${MAX_PRIORITY}; lower is tried first`,
    );
  }
  const scope = allocationScope(spec.allocation, problems);
  const aggregation = aggregationOf(spec.aggregation, ranges, spec.addresses, problems);
  if (spec.nodeSelector !== undefined) {
    problems.push(...selectorProblems(spec.nodeSelector, "spec.nodeSelector"));
  }
  interfaceProblems(spec.interfaces, problems);

  if (problems.length > 0) return { problems };

  const avoidBuggyIPs = spec.avoidBuggyIPs === true;
  const spaces: Partial<Record<Family, AddressSpace>> = {};
  const capacity: Record<Family, bigint> = { IPv4: 0n, IPv6: 0n };
  for (const family of FAMILIES) {
    const ofFamily = ranges.filter((range) => range.family === family);
    if (ofFamily.length === 0) continue;
    const space = new AddressSpace(family, ofFamily);
    spaces[family] = space;
    capacity[family] = space.size;
    if (avoidBuggyIPs && family === "IPv4") {
      for (const range of ofFamily) capacity.IPv4 -= countBuggyIPv4(range);
    }
  }
  return {
    pool: {
      name: name as string,
      createdAt,
      announce: announce as AnnounceMode,
      autoAssign: spec.autoAssign !== false,
      avoidBuggyIPs,
      priority: priority as number | undefined,
      scope,
      aggregation,
      ranges,
      spaces,
      capacity,
      spec: spec as unknown as AddressPoolSpec,
    },
  };
}

function addressProblems(addresses: unknown, problems: string[]): AddressRange[] {
  if (!Array.isArray(addresses) || addresses.length === 0) {
    problems.push(
      'spec.addresses: required, a list of CIDRs, ranges or addresses such as "192.168.10.240-192.168.10.250" or "2001:db8:10::/64"',
    );
    return [];
  }
  const ranges: AddressRange[] = [];
  const entries: { range: AddressRange; index: number }[] = [];
  addresses.forEach((entry, index) => {
    if (typeof entry !== "string") {
      problems.push(`spec.addresses[${index}]: must be a string, not ${JSON.stringify(entry)}`);
      return;
    }
    const parsed = parseRange(entry);
    if ("error" in parsed) {
      problems.push(`spec.addresses[${index}] "${entry}" ${parsed.error}`);
      return;
    }
    for (const earlier of entries) {
      if (rangesOverlap(earlier.range, parsed.range)) {
        problems.push(
          `spec.addresses[${index}] "${entry}" overlaps spec.addresses[${earlier.index}] "${String(addresses[earlier.index])}"; list each address once`,
        );
      }
    }
    entries.push({ range: parsed.range, index });
    ranges.push(parsed.range);
  });
  return ranges;
}

function allocationScope(value: unknown, problems: string[]): AllocationScope | undefined {
  if (value === undefined) return undefined;
  if (!isPlainObject(value)) {
    problems.push(
      "spec.allocation: must be an object with namespaces, namespaceSelector or serviceSelector",
    );
    return undefined;
  }
  problems.push(...unknownFields(value, ALLOCATION_FIELDS, "spec.allocation"));
  const { namespaces, namespaceSelector, serviceSelector } = value;
  if (namespaces !== undefined) {
    if (!Array.isArray(namespaces)) {
      problems.push("spec.allocation.namespaces: must be a list of namespace names");
    } else {
      namespaces.forEach((namespace, i) => {
        if (typeof namespace !== "string" || !isDnsLabel(namespace)) {
          problems.push(
            `spec.allocation.namespaces[${i}]: ${JSON.stringify(namespace)} is not a namespace name`,
          );
        }
      });
    }
  }
  for (const [field, selector] of [
    ["namespaceSelector", namespaceSelector],
    ["serviceSelector", serviceSelector],
  ] as const) {
    if (selector !== undefined)
      problems.push(...selectorProblems(selector, `spec.allocation.${field}`));
  }
  const scope: AllocationScope = {};
  if (Array.isArray(namespaces) && namespaces.length > 0) scope.namespaces = namespaces as string[];
  if (namespaceSelector !== undefined) scope.namespaceSelector = namespaceSelector as LabelSelector;
  if (serviceSelector !== undefined) scope.serviceSelector = serviceSelector as LabelSelector;
  // An empty allocation block restricts nothing: the pool is unrestricted.
  return Object.keys(scope).length > 0 ? scope : undefined;
}

function aggregationOf(
  value: unknown,
  ranges: readonly AddressRange[],
  addresses: unknown,
  problems: string[],
): Record<Family, number> {
  const result: Record<Family, number> = {
    IPv4: DEFAULT_AGGREGATION.ipv4,
    IPv6: DEFAULT_AGGREGATION.ipv6,
  };
  if (value === undefined) return result;
  if (!isPlainObject(value)) {
    problems.push("spec.aggregation: must be an object such as {ipv4: 32, ipv6: 128}");
    return result;
  }
  problems.push(...unknownFields(value, ["ipv4", "ipv6"], "spec.aggregation"));
  for (const family of FAMILIES) {
    const field = family === "IPv4" ? "ipv4" : "ipv6";
    const length = value[field];
    if (length === undefined) continue;
    const bits = FAMILY_BITS[family];
    if (!Number.isInteger(length) || (length as number) < 0 || (length as number) > bits) {
      problems.push(`spec.aggregation.${field}: must be a prefix length from 0 to ${bits}`);
      continue;
    }
    result[family] = length as number;
    ranges.forEach((range, index) => {
      if (range.family !== family || alignedTo(range, length as number)) return;
      const entry = Array.isArray(addresses) ? String(addresses[index]) : formatRange(range);
      problems.push(
        `spec.aggregation.${field}: /${String(length)} is shorter than spec.addresses[${index}] "${entry}": ` +
          `each address would be announced as a /${String(length)} that reaches outside the pool; ` +
          `use /${bits} or addresses aligned to /${String(length)}`,
      );
    });
  }
  return result;
}

function interfaceProblems(value: unknown, problems: string[]): void {
  if (value === undefined) return;
  if (!Array.isArray(value)) {
    problems.push('spec.interfaces: must be a list of interface-name regexes such as "^bond0$"');
    return;
  }
  value.forEach((pattern, i) => {
    if (typeof pattern !== "string" || pattern === "") {
      problems.push(`spec.interfaces[${i}]: must be a non-empty regex string`);
      return;
    }
    try {
      new RegExp(pattern);
    } catch (error) {
      problems.push(
        `spec.interfaces[${i}] "${pattern}" is not a valid regex: ${(error as Error).message}`,
      );
    }
  });
}

/**
 * A stand-in for a pool whose spec is invalid and for which no valid version is known:
 * the address entries that still parse, and nothing else, so that held addresses in them
 * stay valid while the pool hands out nothing new. Undefined when no entry parses.
 */
export function salvagePool(object: unknown, reason: string): Pool | undefined {
  if (!isPlainObject(object) || !isPlainObject(object.spec)) return undefined;
  const metadata = isPlainObject(object.metadata) ? object.metadata : {};
  const entries = Array.isArray(object.spec.addresses) ? object.spec.addresses : [];
  const kept: string[] = [];
  const ranges: AddressRange[] = [];
  for (const entry of entries) {
    if (typeof entry !== "string") continue;
    const parsed = parseRange(entry);
    if ("error" in parsed || ranges.some((range) => rangesOverlap(range, parsed.range))) continue;
    kept.push(entry);
    ranges.push(parsed.range);
  }
  const compiled = compilePool({
    metadata: { name: metadata.name, creationTimestamp: metadata.creationTimestamp },
    spec: { addresses: kept },
  });
  return compiled.problems ? undefined : { ...compiled.pool, disabled: reason };
}

/** Why the pool does not admit a service, or undefined when it does. */
export function scopeRefusal(
  pool: Pool,
  namespace: string,
  namespaceLabels: Labels,
  serviceLabels: Labels,
): string | undefined {
  const scope = pool.scope;
  if (!scope) return undefined;
  // As in MetalLB, a namespace qualifies by being listed or by matching the selector.
  if (scope.namespaces !== undefined || scope.namespaceSelector !== undefined) {
    const listed = scope.namespaces?.includes(namespace) ?? false;
    const selected =
      scope.namespaceSelector !== undefined &&
      selectorMatches(scope.namespaceSelector, namespaceLabels);
    if (!listed && !selected) return `pool "${pool.name}" does not admit namespace ${namespace}`;
  }
  if (
    scope.serviceSelector !== undefined &&
    !selectorMatches(scope.serviceSelector, serviceLabels)
  ) {
    return `pool "${pool.name}" admits only services matching its serviceSelector`;
  }
  return undefined;
}

/** Whether an address of the pool may be handed out at all (avoidBuggyIPs). */
export function usableInPool(pool: Pool, family: Family, value: bigint): boolean {
  return !(pool.avoidBuggyIPs && family === "IPv4" && isBuggyIPv4(value));
}
