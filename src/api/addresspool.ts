// AddressPool (herald.dev/v1alpha1): the addresses Herald may hand to Services.
import type { Condition, ObjectMeta } from "./meta.ts";
import type { LabelSelector } from "./selector.ts";

export const GROUP = "herald.dev";
export const VERSION = "v1alpha1";
export const API_VERSION = `${GROUP}/${VERSION}`;

/**
 * Auto: Local on nodes with an interface whose subnet holds the address, else Routed.
 * Local: one elected node puts the address on its interface; the kernel answers ARP/NDP.
 * Routed: every eligible node puts it on kube-lb0 and a routing daemon advertises it.
 */
export type AnnounceMode = "Auto" | "Local" | "Routed";

export interface AllocationScope {
  namespaces?: string[];
  namespaceSelector?: LabelSelector;
  serviceSelector?: LabelSelector;
}

export interface AddressPoolSpec {
  /** CIDRs ("10.0.5.0/28"), ranges ("192.168.10.240-192.168.10.250") or single addresses. */
  addresses: string[];
  announce?: AnnounceMode;
  /** false: only services that name the pool or request one of its addresses get one. */
  autoAssign?: boolean;
  /** Skip IPv4 addresses ending in .0 or .255. */
  avoidBuggyIPs?: boolean;
  /** Lower is tried first; pools without a priority come after all that have one. */
  priority?: number;
  /** Absent: any service may use the pool. */
  allocation?: AllocationScope;
  /** Prefix length put on kube-lb0 for routed addresses (defaults /32 and /128). */
  aggregation?: { ipv4?: number; ipv6?: number };
  /** Nodes allowed to announce the pool's addresses. */
  nodeSelector?: LabelSelector;
  /** Local mode: regexes of interface names (default: the interface whose subnet fits). */
  interfaces?: string[];
}

/** Counts per family as decimal strings: an IPv6 /64 holds 2^64 addresses. */
export interface FamilyCounts {
  ipv4: string;
  ipv6: string;
}

export interface AddressPoolStatus {
  capacity?: FamilyCounts;
  allocated?: FamilyCounts;
  available?: FamilyCounts;
  conditions?: Condition[];
  observedGeneration?: number;
}

export interface AddressPool {
  apiVersion: typeof API_VERSION;
  kind: "AddressPool";
  metadata: ObjectMeta;
  spec: AddressPoolSpec;
  status?: AddressPoolStatus;
}

export const DEFAULT_AGGREGATION = { ipv4: 32, ipv6: 128 } as const;
