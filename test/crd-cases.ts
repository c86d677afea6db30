// The CRDs' validation cases: a full sample of each kind, and for every OpenAPI and CEL
// rule objects it must accept or reject with the causes the API server reports. One
// table, run against the schema engine (src/api/crds_test.ts) and against an API server
// through HTTP, devkube or a real kube-apiserver (test/crds-apiserver_test.ts).
import type { FieldCause } from "../src/schema/schema.ts";
import type { AddressPool } from "../src/api/addresspool.ts";
import type { AgentConfig } from "../src/api/agentconfig.ts";
import type { BGPAdvertisement } from "../src/api/bgpadvertisement.ts";
import type { BGPPeer } from "../src/api/bgppeer.ts";
import type { NodeState } from "../src/api/nodestate.ts";

const meta = (name: string) => ({ name, creationTimestamp: "2024-05-01T10:00:00Z" });
const selector = {
  matchLabels: { "herald.dev/zone": "a" },
  matchExpressions: [{ key: "tier", operator: "In" as const, values: ["edge"] }],
};
const ready = {
  type: "Ready",
  status: "True" as const,
  reason: "Allocated",
  message: "ok",
  lastTransitionTime: "2024-05-01T10:00:00Z",
  observedGeneration: 1,
};

// Every field of every type set, so pruning would show any field the schema misses.
export const samples = {
  AddressPool: {
    apiVersion: "herald.dev/v1alpha1",
    kind: "AddressPool",
    metadata: meta("edge"),
    spec: {
      addresses: ["192.168.10.240-192.168.10.250", "10.0.5.0/28", "2001:db8:10::/64", "10.9.9.9"],
      announce: "Auto",
      autoAssign: true,
      avoidBuggyIPs: false,
      priority: 10,
      allocation: {
        namespaces: ["team-a"],
        namespaceSelector: selector,
        serviceSelector: selector,
      },
      aggregation: { ipv4: 32, ipv6: 128 },
      nodeSelector: selector,
      interfaces: ["^bond0$"],
    },
    status: {
      capacity: { ipv4: "28", ipv6: "18446744073709551616" },
      allocated: { ipv4: "1", ipv6: "0" },
      available: { ipv4: "27", ipv6: "18446744073709551616" },
      conditions: [ready],
      observedGeneration: 1,
    },
  } satisfies AddressPool,
  BGPPeer: {
    apiVersion: "herald.dev/v1alpha1",
    kind: "BGPPeer",
    metadata: meta("tor"),
    spec: {
      peerAddress: "10.0.0.1",
      peerASN: 4200000000,
      localASN: 65000,
      port: 179,
      holdTime: 90,
      keepaliveTime: 30,
      ebgpMultihop: 2,
      passwordSecretRef: { namespace: "herald-system", name: "tor-password", key: "password" },
      bfd: { minRxMs: 300, minTxMs: 300, multiplier: 3 },
      routerID: "10.0.0.10",
      nodeSelector: selector,
      families: ["IPv4", "IPv6"],
    },
    status: { conditions: [ready], observedGeneration: 1 },
  } satisfies BGPPeer,
  BGPAdvertisement: {
    apiVersion: "herald.dev/v1alpha1",
    kind: "BGPAdvertisement",
    metadata: meta("edge-to-tor"),
    spec: {
      pools: ["edge"],
      peerSelector: selector,
      communities: ["65000:100", "no-export"],
      largeCommunities: ["4200000000:1:2"],
      localPreference: 200,
    },
    status: { conditions: [ready], observedGeneration: 1 },
  } satisfies BGPAdvertisement,
  AgentConfig: {
    apiVersion: "herald.dev/v1alpha1",
    kind: "AgentConfig",
    metadata: meta("default"),
    spec: {
      virtualInterface: "kube-lb0",
      localInterfaces: ["^eth[0-9]+$"],
      routing: "Bird",
      failureDetector: { intervalMs: 100, suspicionMs: 300, timeoutMs: 700, port: 7474 },
      garp: { count: 3, intervalMs: 1000 },
    },
    status: { conditions: [ready], observedGeneration: 1 },
  } satisfies AgentConfig,
  NodeState: {
    apiVersion: "herald.dev/v1alpha1",
    kind: "NodeState",
    metadata: meta("node-1"),
    status: {
      announced: [
        { address: "192.168.10.240", services: ["default/web"], mode: "Local", interface: "eth0" },
        { address: "10.0.5.1", services: ["a/x", "b/y"], mode: "Routed", interface: "kube-lb0" },
      ],
      bgpSessions: [
        {
          peer: "tor",
          state: "Established",
          since: "2024-05-01T10:00:00Z",
          prefixesSent: 2,
          prefixesReceived: 0,
        },
      ],
      detector: { members: ["node-1", "node-2"], suspects: [], dead: ["node-3"] },
      counts: { local: 1, routed: 1, sessionsEstablished: 1, sessions: 1, suspects: 0, dead: 1 },
      updateTime: "2024-05-01T10:00:05Z",
    },
  } satisfies NodeState,
};

export type Kind = keyof typeof samples;

/** The sample with its spec (or status) fields replaced; undefined removes a field. */
function withSpec(kind: Exclude<Kind, "NodeState">, fields: Record<string, unknown>) {
  const sample = samples[kind];
  return { ...sample, spec: strip({ ...sample.spec, ...fields }) };
}

function withStatus(kind: Kind, fields: Record<string, unknown>) {
  const sample = samples[kind];
  return { ...sample, status: strip({ ...sample.status, ...fields }) };
}

function strip(object: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined));
}

const blocked: FieldCause = {
  reason: "FieldValueInvalid",
  field: "",
  message:
    "Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation",
};

/**
 * Whether a case changes the sample's status (tried as a write through /status, which
 * names fields from status in its messages) rather than its spec (tried as a create).
 */
export function isStatusCase(testCase: Case): boolean {
  const object = testCase.object as { status?: unknown };
  return JSON.stringify(object.status) !== JSON.stringify(samples[testCase.kind].status);
}

export interface Case {
  name: string;
  kind: Kind;
  object: unknown;
  /** undefined: accepted. */
  expect?: FieldCause[];
}

const invalidValue = (field: string, message: string): FieldCause => ({
  reason: "FieldValueInvalid",
  field,
  message,
});

const pool = (fields: Record<string, unknown>) => withSpec("AddressPool", fields);
const peer = (fields: Record<string, unknown>) => withSpec("BGPPeer", fields);
const advertisement = (fields: Record<string, unknown>) =>
  withSpec("BGPAdvertisement", { pools: undefined, peerSelector: undefined, ...fields });
const agent = (fields: Record<string, unknown>) => withSpec("AgentConfig", fields);

const ADDRESS_FORM =
  'must be a CIDR ("10.0.5.0/28"), a range ("192.168.10.240-192.168.10.250") or a single IP address';
const AGGREGATION_V4 =
  "aggregation.ipv4 must not be shorter than the prefix of any IPv4 CIDR or address in addresses (a single address is a /32): a shorter prefix would announce addresses outside the pool";
const AGGREGATION_V6 =
  "aggregation.ipv6 must not be shorter than the prefix of any IPv6 CIDR or address in addresses (a single address is a /128): a shorter prefix would announce addresses outside the pool";
const COMMUNITY =
  'must be two numbers from 0 to 65535 as "65000:100", or one of no-export, no-advertise, no-export-subconfed, no-peer, blackhole, graceful-shutdown, accept-own, llgr-stale, no-llgr';
const LARGE_COMMUNITY = 'must be three numbers from 0 to 4294967295 as "65000:1:2"';

export const cases: Case[] = [
  // AddressPool: addresses.
  {
    name: "a spec is required",
    kind: "AddressPool",
    object: { ...samples.AddressPool, spec: undefined },
    expect: [{ reason: "FieldValueRequired", field: "spec", message: "Required value" }, blocked],
  },
  {
    name: "addresses is required",
    kind: "AddressPool",
    object: pool({ addresses: undefined }),
    expect: [
      { reason: "FieldValueRequired", field: "spec.addresses", message: "Required value" },
      blocked,
    ],
  },
  {
    name: "addresses may not be empty",
    kind: "AddressPool",
    object: pool({ addresses: [] }),
    expect: [
      invalidValue(
        "spec.addresses",
        "Invalid value: 0: spec.addresses in body should have at least 1 items",
      ),
    ],
  },
  {
    name: "at most 64 address entries",
    kind: "AddressPool",
    object: pool({ addresses: Array.from({ length: 65 }, (_, i) => `10.1.${i}.0/24`) }),
    expect: [
      {
        reason: "FieldValueTooMany",
        field: "spec.addresses",
        message: "Too many: 65: must have at most 64 items",
      },
      blocked,
    ],
  },
  {
    name: "an address entry is listed once",
    kind: "AddressPool",
    object: pool({ addresses: ["10.0.5.0/28", "10.0.5.0/28"] }),
    expect: [
      {
        reason: "FieldValueDuplicate",
        field: "spec.addresses[1]",
        message: 'Duplicate value: "10.0.5.0/28"',
      },
    ],
  },
  {
    name: "an address entry is at most 100 characters",
    kind: "AddressPool",
    object: pool({ addresses: ["1".repeat(101)] }),
    expect: [
      {
        reason: "FieldValueTooLong",
        field: "spec.addresses[0]",
        message: "Too long: may not be more than 100 bytes",
      },
      blocked,
    ],
  },
  {
    name: "an address entry may not be empty",
    kind: "AddressPool",
    object: pool({ addresses: [""] }),
    expect: [
      invalidValue(
        "spec.addresses[0]",
        'Invalid value: "": spec.addresses[0] in body should be at least 1 chars long',
      ),
      invalidValue("spec.addresses[0]", `Invalid value: "": ${ADDRESS_FORM}`),
    ],
  },
  {
    name: "single addresses, CIDRs and ranges with spaces are accepted",
    kind: "AddressPool",
    object: pool({
      addresses: [
        "10.0.0.1",
        "2001:db8::1",
        "10.1.0.0/16",
        "2001:db8:1::/48",
        "10.2.0.1 - 10.2.0.9",
        "2001:db8:2::1-2001:db8:2::9",
      ],
    }),
  },
  {
    name: "an entry that is no address form",
    kind: "AddressPool",
    object: pool({ addresses: ["edge"] }),
    expect: [invalidValue("spec.addresses[0]", `Invalid value: "edge": ${ADDRESS_FORM}`)],
  },
  {
    name: "a range end that is not an IP",
    kind: "AddressPool",
    object: pool({ addresses: ["10.0.0.1-10.0.0.300"] }),
    expect: [
      invalidValue("spec.addresses[0]", `Invalid value: "10.0.0.1-10.0.0.300": ${ADDRESS_FORM}`),
    ],
  },
  {
    name: "a CIDR with a prefix too long for its family",
    kind: "AddressPool",
    object: pool({ addresses: ["10.0.0.0/33"] }),
    expect: [invalidValue("spec.addresses[0]", `Invalid value: "10.0.0.0/33": ${ADDRESS_FORM}`)],
  },
  {
    name: "a CIDR with host bits set names its network",
    kind: "AddressPool",
    object: pool({ addresses: ["10.0.5.3/28"] }),
    expect: [
      invalidValue(
        "spec.addresses[0]",
        'Invalid value: "10.0.5.3/28": a CIDR must not have host bits set; write its network address, or a range',
      ),
    ],
  },
  {
    name: "an IPv6 CIDR with host bits set",
    kind: "AddressPool",
    object: pool({ addresses: ["2001:db8::1/64"] }),
    expect: [
      invalidValue(
        "spec.addresses[0]",
        'Invalid value: "2001:db8::1/64": a CIDR must not have host bits set; write its network address, or a range',
      ),
    ],
  },
  {
    name: "a range mixing families",
    kind: "AddressPool",
    object: pool({ addresses: ["10.0.0.1-2001:db8::1"] }),
    expect: [
      invalidValue(
        "spec.addresses[0]",
        `Invalid value: "10.0.0.1-2001:db8::1": a range's two ends must be addresses of one family`,
      ),
    ],
  },
  {
    name: "a reversed IPv4 range",
    kind: "AddressPool",
    object: pool({ addresses: ["10.0.0.9-10.0.0.1"] }),
    expect: [
      invalidValue(
        "spec.addresses[0]",
        'Invalid value: "10.0.0.9-10.0.0.1": a range must start with its lower address',
      ),
    ],
  },
  {
    name: "a reversed IPv4 range across octets",
    kind: "AddressPool",
    object: pool({ addresses: ["10.1.0.0-10.0.255.255"] }),
    expect: [
      invalidValue(
        "spec.addresses[0]",
        'Invalid value: "10.1.0.0-10.0.255.255": a range must start with its lower address',
      ),
    ],
  },
  {
    name: "a one-address IPv4 range is ordered",
    kind: "AddressPool",
    object: pool({ addresses: ["10.0.0.9-10.0.0.9", "9.255.255.255-10.0.0.0"] }),
  },
  // Kubernetes CEL cannot order IPv6 addresses; the controller reports this one.
  {
    name: "a reversed IPv6 range passes the schema",
    kind: "AddressPool",
    object: pool({ addresses: ["2001:db8::9-2001:db8::1"] }),
  },
  // AddressPool: other fields.
  {
    name: "announce is one of Auto, Local, Routed",
    kind: "AddressPool",
    object: pool({ announce: "BGP" }),
    expect: [
      {
        reason: "FieldValueNotSupported",
        field: "spec.announce",
        message: 'Unsupported value: "BGP": supported values: "Auto", "Local", "Routed"',
      },
      blocked,
    ],
  },
  {
    name: "priority is a whole number",
    kind: "AddressPool",
    object: pool({ priority: "high" }),
    expect: [
      {
        reason: "FieldValueTypeInvalid",
        field: "spec.priority",
        message: 'Invalid value: "string": spec.priority in body must be of type integer: "string"',
      },
      blocked,
    ],
  },
  {
    name: "priority is not negative",
    kind: "AddressPool",
    object: pool({ priority: -1 }),
    expect: [
      invalidValue(
        "spec.priority",
        "Invalid value: -1: spec.priority in body should be greater than or equal to 0",
      ),
    ],
  },
  {
    name: "priority fits int32",
    kind: "AddressPool",
    object: pool({ priority: 2147483648 }),
    expect: [
      // kube-openapi's format check says this too, with no field.
      invalidValue(
        "",
        'Invalid value: "": Checked value must be of type integer with format int32 in spec.priority',
      ),
      invalidValue(
        "spec.priority",
        "Invalid value: 2147483648: spec.priority in body should be less than or equal to 2147483647",
      ),
    ],
  },
  {
    name: "namespaces are namespace names",
    kind: "AddressPool",
    object: pool({ allocation: { namespaces: ["Team_A"] } }),
    expect: [
      invalidValue(
        "spec.allocation.namespaces[0]",
        "Invalid value: \"Team_A\": spec.allocation.namespaces[0] in body should match '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$'",
      ),
    ],
  },
  {
    name: "a selector operator is one Kubernetes knows",
    kind: "AddressPool",
    object: pool({ nodeSelector: { matchExpressions: [{ key: "a", operator: "Is" }] } }),
    expect: [
      {
        reason: "FieldValueNotSupported",
        field: "spec.nodeSelector.matchExpressions[0].operator",
        message:
          'Unsupported value: "Is": supported values: "In", "NotIn", "Exists", "DoesNotExist"',
      },
      blocked,
    ],
  },
  {
    name: "In needs values",
    kind: "AddressPool",
    object: pool({ nodeSelector: { matchExpressions: [{ key: "a", operator: "In" }] } }),
    expect: [
      invalidValue(
        "spec.nodeSelector.matchExpressions[0]",
        "Invalid value: In and NotIn need at least one value; Exists and DoesNotExist take none",
      ),
    ],
  },
  {
    name: "Exists takes no values",
    kind: "AddressPool",
    object: pool({
      nodeSelector: { matchExpressions: [{ key: "a", operator: "Exists", values: ["x"] }] },
    }),
    expect: [
      invalidValue(
        "spec.nodeSelector.matchExpressions[0]",
        "Invalid value: In and NotIn need at least one value; Exists and DoesNotExist take none",
      ),
    ],
  },
  {
    name: "Exists without values is fine",
    kind: "AddressPool",
    object: pool({ nodeSelector: { matchExpressions: [{ key: "a", operator: "Exists" }] } }),
  },
  {
    name: "a label value is at most 63 characters",
    kind: "AddressPool",
    object: pool({ nodeSelector: { matchLabels: { a: "x".repeat(64) } } }),
    expect: [
      {
        reason: "FieldValueTooLong",
        field: "spec.nodeSelector.matchLabels.a",
        message: "Too long: may not be more than 63 bytes",
      },
      blocked,
    ],
  },
  {
    name: "aggregation.ipv4 is a prefix length",
    kind: "AddressPool",
    object: pool({ aggregation: { ipv4: 33 } }),
    expect: [
      invalidValue(
        "spec.aggregation.ipv4",
        "Invalid value: 33: spec.aggregation.ipv4 in body should be less than or equal to 32",
      ),
    ],
  },
  {
    name: "aggregation.ipv6 is a prefix length",
    kind: "AddressPool",
    object: pool({ aggregation: { ipv6: 129 } }),
    expect: [
      invalidValue(
        "spec.aggregation.ipv6",
        "Invalid value: 129: spec.aggregation.ipv6 in body should be less than or equal to 128",
      ),
    ],
  },
  {
    name: "aggregation.ipv4 as long as the CIDR",
    kind: "AddressPool",
    object: pool({ addresses: ["10.0.5.0/28", "2001:db8::1"], aggregation: { ipv4: 28 } }),
  },
  {
    name: "aggregation.ipv4 shorter than a CIDR",
    kind: "AddressPool",
    object: pool({ addresses: ["10.0.5.0/28"], aggregation: { ipv4: 24 } }),
    expect: [invalidValue("spec.aggregation.ipv4", `Invalid value: ${AGGREGATION_V4}`)],
  },
  {
    name: "aggregation.ipv4 shorter than a single address",
    kind: "AddressPool",
    object: pool({ addresses: ["10.0.5.0/28", "10.0.9.9"], aggregation: { ipv4: 28 } }),
    expect: [invalidValue("spec.aggregation.ipv4", `Invalid value: ${AGGREGATION_V4}`)],
  },
  {
    name: "aggregation.ipv6 shorter than a CIDR",
    kind: "AddressPool",
    object: pool({
      addresses: ["2001:db8:10::/64", "10.0.0.0/8"],
      aggregation: { ipv6: 48, ipv4: 8 },
    }),
    expect: [invalidValue("spec.aggregation.ipv6", `Invalid value: ${AGGREGATION_V6}`)],
  },
  {
    name: "aggregation.ipv6 as long as the CIDR",
    kind: "AddressPool",
    object: pool({ addresses: ["2001:db8:10::/64"], aggregation: { ipv6: 64 } }),
  },
  {
    name: "an interface regex is not empty",
    kind: "AddressPool",
    object: pool({ interfaces: [""] }),
    expect: [
      invalidValue(
        "spec.interfaces[0]",
        'Invalid value: "": spec.interfaces[0] in body should be at least 1 chars long',
      ),
    ],
  },
  {
    name: "counts are decimal strings",
    kind: "AddressPool",
    object: withStatus("AddressPool", { allocated: { ipv4: "0x10", ipv6: "0" } }),
    expect: [
      invalidValue(
        "status.allocated.ipv4",
        "Invalid value: \"0x10\": allocated.ipv4 in body should match '^(0|[1-9][0-9]*)$'",
      ),
    ],
  },
  {
    name: "counts give both families",
    kind: "AddressPool",
    object: withStatus("AddressPool", { allocated: { ipv4: "1" } }),
    expect: [
      { reason: "FieldValueRequired", field: "status.allocated.ipv6", message: "Required value" },
      blocked,
    ],
  },
  {
    name: "a condition status is True, False or Unknown",
    kind: "AddressPool",
    object: withStatus("AddressPool", { conditions: [{ ...ready, status: "Yes" }] }),
    expect: [
      {
        reason: "FieldValueNotSupported",
        field: "status.conditions[0].status",
        message: 'Unsupported value: "Yes": supported values: "True", "False", "Unknown"',
      },
      blocked,
    ],
  },
  {
    name: "a condition reason is CamelCase",
    kind: "AddressPool",
    object: withStatus("AddressPool", { conditions: [{ ...ready, reason: "not ok" }] }),
    expect: [
      invalidValue(
        "status.conditions[0].reason",
        "Invalid value: \"not ok\": conditions[0].reason in body should match '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$'",
      ),
    ],
  },
  {
    name: "a condition type appears once",
    kind: "AddressPool",
    object: withStatus("AddressPool", { conditions: [ready, ready] }),
    expect: [
      {
        reason: "FieldValueDuplicate",
        field: "status.conditions[1]",
        message: 'Duplicate value: {"type":"Ready"}',
      },
    ],
  },
  {
    name: "a condition time is a date-time",
    kind: "AddressPool",
    object: withStatus("AddressPool", { conditions: [{ ...ready, lastTransitionTime: "now" }] }),
    expect: [
      {
        reason: "FieldValueTypeInvalid",
        field: "status.conditions[0].lastTransitionTime",
        message:
          'Invalid value: "now": conditions[0].lastTransitionTime in body must be of type date-time: "now"',
      },
      blocked,
    ],
  },

  // BGPPeer.
  {
    name: "peerAddress, peerASN and localASN are required",
    kind: "BGPPeer",
    object: { ...samples.BGPPeer, spec: {} },
    expect: [
      { reason: "FieldValueRequired", field: "spec.peerAddress", message: "Required value" },
      { reason: "FieldValueRequired", field: "spec.peerASN", message: "Required value" },
      { reason: "FieldValueRequired", field: "spec.localASN", message: "Required value" },
      blocked,
    ],
  },
  {
    name: "peerAddress is an IP",
    kind: "BGPPeer",
    object: peer({ peerAddress: "tor.example.com" }),
    expect: [
      invalidValue(
        "spec.peerAddress",
        'Invalid value: "tor.example.com": must be an IPv4 or IPv6 address',
      ),
    ],
  },
  { name: "an IPv6 peerAddress", kind: "BGPPeer", object: peer({ peerAddress: "2001:db8::1" }) },
  {
    name: "peerASN is at least 1",
    kind: "BGPPeer",
    object: peer({ peerASN: 0 }),
    expect: [
      invalidValue(
        "spec.peerASN",
        "Invalid value: 0: spec.peerASN in body should be greater than or equal to 1",
      ),
    ],
  },
  {
    name: "localASN fits 32 bits",
    kind: "BGPPeer",
    object: peer({ localASN: 4294967296 }),
    expect: [
      invalidValue(
        "spec.localASN",
        "Invalid value: 4294967296: spec.localASN in body should be less than or equal to 4294967295",
      ),
    ],
  },
  { name: "port defaults to 179", kind: "BGPPeer", object: peer({ port: undefined }) },
  {
    name: "port is a TCP port",
    kind: "BGPPeer",
    object: peer({ port: 65536 }),
    expect: [
      invalidValue(
        "spec.port",
        "Invalid value: 65536: spec.port in body should be less than or equal to 65535",
      ),
    ],
  },
  {
    name: "holdTime 0 with keepaliveTime 0",
    kind: "BGPPeer",
    object: peer({ holdTime: 0, keepaliveTime: 0 }),
  },
  {
    name: "holdTime is 0 or at least 3",
    kind: "BGPPeer",
    object: peer({ holdTime: 2, keepaliveTime: undefined }),
    expect: [
      invalidValue(
        "spec.holdTime",
        "Invalid value: 2: must be 0 (no keepalives) or from 3 to 65535 seconds",
      ),
    ],
  },
  {
    name: "holdTime fits 16 bits",
    kind: "BGPPeer",
    object: peer({ holdTime: 65536 }),
    expect: [
      invalidValue(
        "spec.holdTime",
        "Invalid value: 65536: spec.holdTime in body should be less than or equal to 65535",
      ),
    ],
  },
  {
    name: "keepaliveTime below holdTime",
    kind: "BGPPeer",
    object: peer({ holdTime: 9, keepaliveTime: 9 }),
    expect: [
      invalidValue(
        "spec.keepaliveTime",
        "Invalid value: keepaliveTime must be less than holdTime (and 0 when holdTime is 0)",
      ),
    ],
  },
  {
    name: "keepaliveTime 0 when holdTime is 0",
    kind: "BGPPeer",
    object: peer({ holdTime: 0, keepaliveTime: 5 }),
    expect: [
      invalidValue(
        "spec.keepaliveTime",
        "Invalid value: keepaliveTime must be less than holdTime (and 0 when holdTime is 0)",
      ),
    ],
  },
  {
    name: "keepaliveTime alone",
    kind: "BGPPeer",
    object: peer({ holdTime: undefined, keepaliveTime: 60 }),
  },
  {
    name: "keepaliveTime at most a third of the largest hold time",
    kind: "BGPPeer",
    object: peer({ holdTime: undefined, keepaliveTime: 21846 }),
    expect: [
      invalidValue(
        "spec.keepaliveTime",
        "Invalid value: 21846: spec.keepaliveTime in body should be less than or equal to 21845",
      ),
    ],
  },
  {
    name: "ebgpMultihop is a TTL",
    kind: "BGPPeer",
    object: peer({ ebgpMultihop: 256 }),
    expect: [
      invalidValue(
        "spec.ebgpMultihop",
        "Invalid value: 256: spec.ebgpMultihop in body should be less than or equal to 255",
      ),
    ],
  },
  {
    name: "ebgpMultihop only for eBGP",
    kind: "BGPPeer",
    object: peer({ peerASN: 65000, localASN: 65000 }),
    expect: [
      invalidValue(
        "spec.ebgpMultihop",
        "Invalid value: ebgpMultihop applies to eBGP only; this session is iBGP because peerASN equals localASN",
      ),
    ],
  },
  {
    name: "iBGP without ebgpMultihop",
    kind: "BGPPeer",
    object: peer({ peerASN: 65000, localASN: 65000, ebgpMultihop: undefined }),
  },
  {
    name: "a password Secret needs namespace and name",
    kind: "BGPPeer",
    object: peer({ passwordSecretRef: { key: "x" } }),
    expect: [
      {
        reason: "FieldValueRequired",
        field: "spec.passwordSecretRef.namespace",
        message: "Required value",
      },
      {
        reason: "FieldValueRequired",
        field: "spec.passwordSecretRef.name",
        message: "Required value",
      },
      blocked,
    ],
  },
  {
    name: "a password Secret's key defaults",
    kind: "BGPPeer",
    object: peer({ passwordSecretRef: { namespace: "a", name: "b" } }),
  },
  {
    name: "a Secret name is a DNS subdomain",
    kind: "BGPPeer",
    object: peer({ passwordSecretRef: { namespace: "a", name: "B_1" } }),
    expect: [
      invalidValue(
        "spec.passwordSecretRef.name",
        "Invalid value: \"B_1\": spec.passwordSecretRef.name in body should match '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$'",
      ),
    ],
  },
  {
    name: "BFD timers are at least 10 ms",
    kind: "BGPPeer",
    object: peer({ bfd: { minRxMs: 5 } }),
    expect: [
      invalidValue(
        "spec.bfd.minRxMs",
        "Invalid value: 5: spec.bfd.minRxMs in body should be greater than or equal to 10",
      ),
    ],
  },
  {
    name: "BFD multiplier is at least 2",
    kind: "BGPPeer",
    object: peer({ bfd: { multiplier: 1 } }),
    expect: [
      invalidValue(
        "spec.bfd.multiplier",
        "Invalid value: 1: spec.bfd.multiplier in body should be greater than or equal to 2",
      ),
    ],
  },
  {
    name: "routerID is IPv4",
    kind: "BGPPeer",
    object: peer({ routerID: "::1" }),
    expect: [
      invalidValue(
        "spec.routerID",
        'Invalid value: "::1": must be an IPv4 address (a BGP router ID is 32 bits)',
      ),
    ],
  },
  {
    name: "routerID is an address",
    kind: "BGPPeer",
    object: peer({ routerID: "1.2.3" }),
    expect: [
      invalidValue(
        "spec.routerID",
        'Invalid value: "1.2.3": must be an IPv4 address (a BGP router ID is 32 bits)',
      ),
    ],
  },
  {
    name: "families are IPv4 and IPv6",
    kind: "BGPPeer",
    object: peer({ families: ["IPv5"] }),
    expect: [
      {
        reason: "FieldValueNotSupported",
        field: "spec.families[0]",
        message: 'Unsupported value: "IPv5": supported values: "IPv4", "IPv6"',
      },
      blocked,
    ],
  },
  {
    name: "a family is listed once",
    kind: "BGPPeer",
    object: peer({ families: ["IPv4", "IPv4"] }),
    expect: [
      {
        reason: "FieldValueDuplicate",
        field: "spec.families[1]",
        message: 'Duplicate value: "IPv4"',
      },
    ],
  },

  // BGPAdvertisement.
  {
    name: "neither pools nor peers: all of them",
    kind: "BGPAdvertisement",
    object: advertisement({}),
  },
  {
    name: "pools or poolSelector, not both",
    kind: "BGPAdvertisement",
    object: advertisement({ pools: ["a"], poolSelector: selector }),
    expect: [invalidValue("spec", "Invalid value: set pools or poolSelector, not both")],
  },
  {
    name: "peers or peerSelector, not both",
    kind: "BGPAdvertisement",
    object: advertisement({ peers: ["a"], peerSelector: selector }),
    expect: [invalidValue("spec", "Invalid value: set peers or peerSelector, not both")],
  },
  {
    name: "pool names are object names",
    kind: "BGPAdvertisement",
    object: advertisement({ pools: ["Edge"] }),
    expect: [
      invalidValue(
        "spec.pools[0]",
        "Invalid value: \"Edge\": spec.pools[0] in body should match '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$'",
      ),
    ],
  },
  {
    name: "communities at the limits and well-known names",
    kind: "BGPAdvertisement",
    object: advertisement({
      communities: ["0:0", "65535:65535", "no-advertise", "graceful-shutdown"],
    }),
  },
  {
    name: "a community part above 65535",
    kind: "BGPAdvertisement",
    object: advertisement({ communities: ["65536:1"] }),
    expect: [invalidValue("spec.communities[0]", `Invalid value: "65536:1": ${COMMUNITY}`)],
  },
  {
    name: "a community that is a large one",
    kind: "BGPAdvertisement",
    object: advertisement({ communities: ["1:2:3"] }),
    expect: [invalidValue("spec.communities[0]", `Invalid value: "1:2:3": ${COMMUNITY}`)],
  },
  {
    name: "an unknown community name",
    kind: "BGPAdvertisement",
    object: advertisement({ communities: ["no_export"] }),
    expect: [invalidValue("spec.communities[0]", `Invalid value: "no_export": ${COMMUNITY}`)],
  },
  {
    name: "a large community at the limit",
    kind: "BGPAdvertisement",
    object: advertisement({ largeCommunities: ["4294967295:0:4294967295"] }),
  },
  {
    name: "a large community part above 32 bits",
    kind: "BGPAdvertisement",
    object: advertisement({ largeCommunities: ["4294967296:0:1"] }),
    expect: [
      invalidValue(
        "spec.largeCommunities[0]",
        `Invalid value: "4294967296:0:1": ${LARGE_COMMUNITY}`,
      ),
    ],
  },
  {
    name: "a large community with two parts",
    kind: "BGPAdvertisement",
    object: advertisement({ largeCommunities: ["1:2"] }),
    expect: [invalidValue("spec.largeCommunities[0]", `Invalid value: "1:2": ${LARGE_COMMUNITY}`)],
  },
  {
    name: "localPreference fits 32 bits",
    kind: "BGPAdvertisement",
    object: advertisement({ localPreference: 4294967296 }),
    expect: [
      invalidValue(
        "spec.localPreference",
        "Invalid value: 4294967296: spec.localPreference in body should be less than or equal to 4294967295",
      ),
    ],
  },

  // AgentConfig.
  {
    name: "an AgentConfig named other than default",
    kind: "AgentConfig",
    object: { ...samples.AgentConfig, metadata: meta("mine") },
    expect: [
      invalidValue("", "Invalid value: there is one AgentConfig and it must be named default"),
    ],
  },
  {
    name: "an AgentConfig without spec gets the defaults",
    kind: "AgentConfig",
    object: { ...samples.AgentConfig, spec: undefined },
  },
  {
    name: "the virtual interface name fits IFNAMSIZ",
    kind: "AgentConfig",
    object: agent({ virtualInterface: "a-very-long-name" }),
    expect: [
      {
        reason: "FieldValueTooLong",
        field: "spec.virtualInterface",
        message: "Too long: may not be more than 15 bytes",
      },
      blocked,
    ],
  },
  {
    name: "the virtual interface name has no slash",
    kind: "AgentConfig",
    object: agent({ virtualInterface: "kube/lb" }),
    expect: [
      invalidValue(
        "spec.virtualInterface",
        "Invalid value: \"kube/lb\": spec.virtualInterface in body should match '^[A-Za-z0-9_.:-]+$'",
      ),
    ],
  },
  {
    name: "routing is Bird or External",
    kind: "AgentConfig",
    object: agent({ routing: "FRR" }),
    expect: [
      {
        reason: "FieldValueNotSupported",
        field: "spec.routing",
        message: 'Unsupported value: "FRR": supported values: "Bird", "External"',
      },
      blocked,
    ],
  },
  {
    name: "detector timings in order",
    kind: "AgentConfig",
    object: agent({ failureDetector: { intervalMs: 500, suspicionMs: 300 } }),
    expect: [
      invalidValue(
        "spec.failureDetector",
        "Invalid value: must have intervalMs < suspicionMs < timeoutMs",
      ),
    ],
  },
  {
    name: "detector defaults are in order",
    kind: "AgentConfig",
    object: agent({ failureDetector: {} }),
  },
  {
    name: "detector port is a UDP port",
    kind: "AgentConfig",
    object: agent({ failureDetector: { port: 0 } }),
    expect: [
      invalidValue(
        "spec.failureDetector.port",
        "Invalid value: 0: spec.failureDetector.port in body should be greater than or equal to 1",
      ),
    ],
  },
  {
    name: "GARP count is bounded",
    kind: "AgentConfig",
    object: agent({ garp: { count: 101 } }),
    expect: [
      invalidValue(
        "spec.garp.count",
        "Invalid value: 101: spec.garp.count in body should be less than or equal to 100",
      ),
    ],
  },

  // NodeState.
  {
    name: "an address is announced once per node",
    kind: "NodeState",
    object: withStatus("NodeState", {
      announced: [samples.NodeState.status.announced[0]!, samples.NodeState.status.announced[0]!],
    }),
    expect: [
      {
        reason: "FieldValueDuplicate",
        field: "status.announced[1]",
        message: 'Duplicate value: {"address":"192.168.10.240"}',
      },
    ],
  },
  {
    name: "an announcement mode is Local or Routed",
    kind: "NodeState",
    object: withStatus("NodeState", {
      announced: [{ ...samples.NodeState.status.announced[0]!, mode: "Auto" }],
    }),
    expect: [
      {
        reason: "FieldValueNotSupported",
        field: "status.announced[0].mode",
        message: 'Unsupported value: "Auto": supported values: "Local", "Routed"',
      },
    ],
  },
  {
    name: "a session state is a BGP FSM state",
    kind: "NodeState",
    object: withStatus("NodeState", { bgpSessions: [{ peer: "tor", state: "Up" }] }),
    expect: [
      {
        reason: "FieldValueNotSupported",
        field: "status.bgpSessions[0].state",
        message:
          'Unsupported value: "Up": supported values: "Idle", "Connect", "Active", "OpenSent", "OpenConfirm", "Established"',
      },
    ],
  },
  {
    name: "prefix counts are not negative",
    kind: "NodeState",
    object: withStatus("NodeState", {
      bgpSessions: [{ peer: "tor", state: "Idle", prefixesSent: -1 }],
    }),
    expect: [
      invalidValue(
        "status.bgpSessions[0].prefixesSent",
        "Invalid value: -1: bgpSessions[0].prefixesSent in body should be greater than or equal to 0",
      ),
    ],
  },
  {
    name: "the detector view has all three lists",
    kind: "NodeState",
    object: withStatus("NodeState", { detector: { members: [] } }),
    expect: [
      {
        reason: "FieldValueRequired",
        field: "status.detector.suspects",
        message: "Required value",
      },
      { reason: "FieldValueRequired", field: "status.detector.dead", message: "Required value" },
    ],
  },
  {
    name: "updateTime is a date-time",
    kind: "NodeState",
    object: withStatus("NodeState", { updateTime: "soon" }),
    expect: [
      {
        reason: "FieldValueTypeInvalid",
        field: "status.updateTime",
        message: 'Invalid value: "soon": updateTime in body must be of type date-time: "soon"',
      },
    ],
  },
  {
    name: "a NodeState has no spec",
    kind: "NodeState",
    object: { ...samples.NodeState, spec: { anything: 1 } },
  },
];
