// MetalLB's configuration as one model, whether it came from CRDs (metallb.io) or from the
// legacy ConfigMap: the two readers fill it, metallb-convert.ts turns it into Herald's kinds.
import type { LabelSelector, Labels } from "../api/selector.ts";
import type { PoolEntry } from "./addresses.ts";
import type { FieldReader } from "./reader.ts";

/** How each form spells the fields the conversion mentions in its messages. */
export interface Spelling {
  readonly addresses: string;
  readonly aggregationLength: string;
  readonly aggregationLengthV6: string;
  readonly communities: string;
  readonly nodeSelectors: string;
  readonly peers: string;
  readonly poolSelectors: string;
  readonly bfdProfile: string;
  readonly ebgpMultiHop: string;
  readonly password: string;
  readonly serviceSelectors: string;
  readonly namespaceSelectors: string;
  readonly bgpAdvertisements: string;
}

export const CRD_SPELLING: Spelling = {
  addresses: "addresses",
  aggregationLength: "aggregationLength",
  aggregationLengthV6: "aggregationLengthV6",
  communities: "communities",
  nodeSelectors: "nodeSelectors",
  peers: "peers",
  poolSelectors: "ipAddressPoolSelectors",
  bfdProfile: "bfdProfile",
  ebgpMultiHop: "ebgpMultiHop",
  password: "password",
  serviceSelectors: "serviceAllocation.serviceSelectors",
  namespaceSelectors: "serviceAllocation.namespaceSelectors",
  bgpAdvertisements: "bgpAdvertisements",
};

export const LEGACY_SPELLING: Spelling = {
  addresses: "addresses",
  aggregationLength: "aggregation-length",
  aggregationLengthV6: "aggregation-length-v6",
  communities: "communities",
  nodeSelectors: "node-selectors",
  peers: "peers",
  poolSelectors: "ipaddress-pool-selectors",
  bfdProfile: "bfd-profile",
  ebgpMultiHop: "ebgp-multihop",
  password: "password",
  serviceSelectors: "service-selectors",
  namespaceSelectors: "namespace-selectors",
  bgpAdvertisements: "bgp-advertisements",
};

interface Located {
  /** Reads and reports on the object (or the ConfigMap entry) this came from. */
  readonly reader: FieldReader;
  readonly spelling: Spelling;
}

export interface MetalLBPool extends Located {
  readonly name: string;
  readonly labels: Labels;
  readonly addresses: PoolEntry[];
  readonly autoAssign?: boolean;
  readonly avoidBuggyIPs?: boolean;
  readonly priority?: number;
  readonly namespaces?: string[];
  readonly namespaceSelectors?: LabelSelector[];
  readonly serviceSelectors?: LabelSelector[];
}

/** What L2 and BGP advertisements share: which pools, from which nodes. */
export interface MetalLBAdvertisement extends Located {
  readonly name: string;
  /** Neither pools nor poolSelectors: every pool. */
  readonly pools?: string[];
  readonly poolSelectors?: LabelSelector[];
  /** Absent or empty: every node. */
  readonly nodeSelectors?: LabelSelector[];
}

export interface MetalLBL2Advertisement extends MetalLBAdvertisement {
  /** Interface names (not patterns); absent: every interface. */
  readonly interfaces?: string[];
}

export interface MetalLBBGPAdvertisement extends MetalLBAdvertisement {
  /** Absent: every peer. */
  readonly peers?: string[];
  readonly aggregationLength?: number;
  readonly aggregationLengthV6?: number;
  readonly localPref?: number;
  /** "65000:100", "large:1:2:3" or the name of an alias. */
  readonly communities?: string[];
}

export interface MetalLBPeer extends Located {
  readonly name: string;
  readonly myASN?: number;
  /** MetalLB's per-session local AS, which it renders as FRR's `local-as <n> no-prepend replace-as`. */
  readonly localASN?: number;
  readonly peerASN?: number;
  readonly dynamicASN?: "internal" | "external";
  readonly peerAddress?: string;
  readonly port?: number;
  /** Seconds. */
  readonly holdTime?: number;
  readonly keepaliveTime?: number;
  readonly ebgpMultiHop?: boolean;
  readonly password?: string;
  readonly passwordSecret?: { name: string; namespace: string };
  readonly bfdProfile?: string;
  readonly nodeSelectors?: LabelSelector[];
  readonly routerID?: string;
  readonly dualStack?: boolean;
}

export interface MetalLBBFDProfile extends Located {
  readonly name: string;
  readonly receiveInterval?: number;
  readonly transmitInterval?: number;
  readonly detectMultiplier?: number;
}

export interface CommunityAlias {
  readonly value: string;
  /** Where the alias is defined, to say so when no advertisement uses it. */
  readonly reader: FieldReader;
  readonly field: string | undefined;
}

export interface MetalLBConfig {
  readonly pools: MetalLBPool[];
  readonly l2Advertisements: MetalLBL2Advertisement[];
  readonly bgpAdvertisements: MetalLBBGPAdvertisement[];
  readonly peers: MetalLBPeer[];
  readonly bfdProfiles: MetalLBBFDProfile[];
  /** Community alias -> its value, from Community objects or `bgp-communities`. */
  readonly communityAliases: Map<string, CommunityAlias>;
}

export function emptyConfig(): MetalLBConfig {
  return {
    pools: [],
    l2Advertisements: [],
    bgpAdvertisements: [],
    peers: [],
    bfdProfiles: [],
    communityAliases: new Map(),
  };
}

/**
 * A BFD profile, from a BFDProfile's spec (camelCase) or a ConfigMap's `bfd-profiles`
 * entry (kebab-case): the same fields, so one reader, naming each in its own spelling.
 */
export function readBFDProfile(
  reader: FieldReader,
  name: string,
  spelling: Spelling,
  config: MetalLBConfig,
): void {
  const key = (camel: string) =>
    spelling === LEGACY_SPELLING ? camel.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`) : camel;
  config.bfdProfiles.push({
    reader,
    spelling,
    name,
    receiveInterval: reader.integer(key("receiveInterval"), { min: 10, max: 60000 }),
    transmitInterval: reader.integer(key("transmitInterval"), { min: 10, max: 60000 }),
    detectMultiplier: reader.integer(key("detectMultiplier"), { min: 2, max: 255 }),
  });
  const echo =
    spelling === LEGACY_SPELLING
      ? "BIRD's BFD runs without echo"
      : "BIRD's BFD runs without echo, at the intervals above";
  reader.unsupportedIfTrue(key("echoMode"), echo);
  reader.unsupported(key("echoInterval"), "BIRD's BFD runs without echo");
  reader.unsupportedIfTrue(key("passiveMode"), "BIRD's BFD sessions are active on both ends");
  reader.unsupported(key("minimumTtl"), "BIRD's multihop BFD accepts any TTL");
}
