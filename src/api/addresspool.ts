// AddressPool (herald.dev/v1alpha1): the addresses Herald may hand to Services.
import type { Condition, ObjectMeta } from "./meta.ts";
import {
  conditionsSchema,
  labelSelectorSchema,
  objectSchema,
  type ObjectSchema,
  type StringSchema,
  type ValidationRule,
} from "./openapi.ts";
import type { LabelSelector } from "./selector.ts";

export const GROUP = "herald.dev";
export const VERSION = "v1alpha1";
export const API_VERSION = `${GROUP}/${VERSION}`;

export const ANNOUNCE_MODES = ["Auto", "Local", "Routed"] as const;

/**
 * Auto: Local on nodes with an interface whose subnet holds the address, else Routed.
 * Local: one elected node puts the address on its interface; the kernel answers ARP/NDP.
 * Routed: every eligible node puts it on kube-lb0 and a routing daemon advertises it.
 */
export type AnnounceMode = (typeof ANNOUNCE_MODES)[number];

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

// CEL for one `addresses` entry. Kubernetes CEL has isIP/isCIDR but no range type, so a
// range is split at its dash; spaces around the dash are allowed, as MetalLB allows them.
const IS_RANGE = "self.split('-').size() == 2";
const LOW = "self.split('-')[0].trim()";
const HIGH = "self.split('-')[1].trim()";
const IS_IP_RANGE = `${IS_RANGE} && isIP(${LOW}) && isIP(${HIGH})`;
const IS_IPV4_RANGE = `${IS_IP_RANGE} && ip(${LOW}).family() == 4 && ip(${HIGH}).family() == 4`;

/** An IPv4 address as an integer; CEL has no IP ordering, so the octets are summed. */
function ipv4Integer(address: string): string {
  const octet = (i: number) => `int(${address}.split('.')[${i}])`;
  return `(${octet(0)} * 16777216 + ${octet(1)} * 65536 + ${octet(2)} * 256 + ${octet(3)})`;
}

const addressEntryRules: ValidationRule[] = [
  {
    rule: `isIP(self) || isCIDR(self) || (${IS_IP_RANGE})`,
    message:
      'must be a CIDR ("10.0.5.0/28"), a range ("192.168.10.240-192.168.10.250") or a single IP address',
  },
  {
    // Go's ParseCIDR would quietly round down; a typo would hand out another block than
    // the one meant, so the network address must be written. (No messageExpression naming
    // the network: kube-apiserver costs string(cidr(…)) as unbounded and refuses the CRD.)
    rule: "!isCIDR(self) || cidr(self).ip() == cidr(self).masked().ip()",
    message: "a CIDR must not have host bits set; write its network address, or a range",
  },
  {
    rule: `!(${IS_IP_RANGE}) || ip(${LOW}).family() == ip(${HIGH}).family()`,
    message: "a range's two ends must be addresses of one family",
  },
  {
    // Kubernetes CEL cannot compare or parse IPv6 addresses as numbers (no IP ordering,
    // no hex parsing), so a reversed IPv6 range is left to the controller's pool check.
    rule: `!(${IS_IPV4_RANGE}) || ${ipv4Integer(LOW)} <= ${ipv4Integer(HIGH)}`,
    message: "a range must start with its lower address",
  },
];

const ADDRESS_ENTRY_MAX = 100;

const addressEntrySchema: StringSchema = {
  type: "string",
  minLength: 1,
  maxLength: ADDRESS_ENTRY_MAX,
  "x-kubernetes-validations": addressEntryRules,
};

/**
 * Aggregation must not be shorter than the prefix of any CIDR or single address of its
 * family, or kube-lb0 would announce addresses outside the pool. Ranges need alignment
 * arithmetic that CEL cannot do for IPv6; the controller checks those (ipam alignedTo).
 */
function aggregationRule(field: "ipv4" | "ipv6", family: 4 | 6, bits: number): ValidationRule {
  const length = `self.aggregation.${field}`;
  return {
    rule:
      `!has(self.aggregation) || !has(${length}) || self.addresses.all(a, ` +
      `isCIDR(a) ? cidr(a).ip().family() != ${family} || cidr(a).prefixLength() <= ${length} : ` +
      `!isIP(a) || ip(a).family() != ${family} || ${length} >= ${bits})`,
    message: `aggregation.${field} must not be shorter than the prefix of any ${field === "ipv4" ? "IPv4" : "IPv6"} CIDR or address in addresses (a single address is a /${bits}): a shorter prefix would announce addresses outside the pool`,
    fieldPath: `.aggregation.${field}`,
  };
}

const DNS_LABEL_PATTERN = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";

export const addressPoolSpecSchema: ObjectSchema<AddressPoolSpec> = objectSchema<AddressPoolSpec>()(
  {
    addresses: {
      type: "array",
      items: addressEntrySchema,
      minItems: 1,
      maxItems: 64,
      "x-kubernetes-list-type": "set",
    },
    announce: { type: "string", enum: ANNOUNCE_MODES, default: "Auto" },
    autoAssign: { type: "boolean", default: true },
    avoidBuggyIPs: { type: "boolean", default: false },
    priority: { type: "integer", format: "int32", minimum: 0, maximum: 2147483647 },
    allocation: objectSchema<AllocationScope>()(
      {
        namespaces: {
          type: "array",
          items: { type: "string", maxLength: 63, pattern: DNS_LABEL_PATTERN },
          maxItems: 256,
          "x-kubernetes-list-type": "set",
        },
        namespaceSelector: labelSelectorSchema,
        serviceSelector: labelSelectorSchema,
      },
      [],
    ),
    aggregation: objectSchema<{ ipv4?: number; ipv6?: number }>()(
      {
        ipv4: { type: "integer", minimum: 0, maximum: 32 },
        ipv6: { type: "integer", minimum: 0, maximum: 128 },
      },
      [],
    ),
    nodeSelector: labelSelectorSchema,
    interfaces: {
      type: "array",
      items: { type: "string", minLength: 1, maxLength: 256 },
      maxItems: 16,
      "x-kubernetes-list-type": "set",
    },
  },
  ["addresses"],
  {
    "x-kubernetes-validations": [aggregationRule("ipv4", 4, 32), aggregationRule("ipv6", 6, 128)],
  },
);

const COUNT_PATTERN = "^(0|[1-9][0-9]*)$";

const familyCountsSchema = objectSchema<FamilyCounts>()(
  {
    // 2^128 has 39 digits.
    ipv4: { type: "string", pattern: COUNT_PATTERN, maxLength: 39 },
    ipv6: { type: "string", pattern: COUNT_PATTERN, maxLength: 39 },
  },
  ["ipv4", "ipv6"],
);

export const addressPoolStatusSchema: ObjectSchema<AddressPoolStatus> =
  objectSchema<AddressPoolStatus>()(
    {
      capacity: familyCountsSchema,
      allocated: familyCountsSchema,
      available: familyCountsSchema,
      conditions: conditionsSchema,
      observedGeneration: { type: "integer", format: "int64", minimum: 0 },
    },
    [],
  );
