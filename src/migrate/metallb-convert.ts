// MetalLB's model into Herald's kinds. MetalLB says how a pool is announced with separate
// advertisement objects; Herald says it on the pool (`announce`, `aggregation`,
// `nodeSelector`, `interfaces`), so each pool gathers what its advertisements said.
import type { AllocationScope, AddressPoolSpec, AnnounceMode } from "../api/addresspool.ts";
import type { BGPAdvertisementSpec } from "../api/bgpadvertisement.ts";
import type { BGPPeerSpec, BFDSettings } from "../api/bgppeer.ts";
import { selectorMatches, type LabelSelector } from "../api/selector.ts";
import { isDnsLabel, isDnsSubdomain } from "../api/validation.ts";
import { FAMILY_BITS, parseAddress } from "../ipam/address.ts";
import { aggregationProblem } from "./addresses.ts";
import { CommunitySet, parseCommunity } from "./communities.ts";
import type {
  MetalLBAdvertisement,
  MetalLBBGPAdvertisement,
  MetalLBConfig,
  MetalLBL2Advertisement,
  MetalLBPeer,
  MetalLBPool,
} from "./metallb-model.ts";
import { addressPool, bgpAdvertisement, bgpPeer, type Output } from "./output.ts";
import { copiedSecret, inlinePassword } from "./passwords.ts";
import type { FieldReader } from "./reader.ts";
import { anyOf, describeSelector } from "./selectors.ts";
import { checkTimers, ebgpMultihopOf, interfacePatterns } from "./common.ts";

/** FRR's `ebgp-multihop` without a count, which is what MetalLB's boolean renders to. */
const FRR_MULTIHOP_TTL = 255;

export function convertMetalLB(config: MetalLBConfig, output: Output): void {
  for (const pool of config.pools) convertPool(pool, config, output);
  for (const peer of config.peers) convertPeer(peer, config, output);
  for (const advertisement of config.bgpAdvertisements) {
    convertBGPAdvertisement(advertisement, config, output);
  }
}

/** MetalLB: an advertisement with neither pool names nor selectors covers every pool. */
function advertises(advertisement: MetalLBAdvertisement, pool: MetalLBPool): boolean {
  const names = advertisement.pools ?? [];
  const selectors = advertisement.poolSelectors ?? [];
  if (names.length === 0 && selectors.length === 0) return true;
  return (
    names.includes(pool.name) ||
    selectors.some((selector) => selectorMatches(selector, pool.labels))
  );
}

function namesOf(advertisements: readonly MetalLBAdvertisement[]): string {
  return advertisements.map((a) => a.name).join(", ");
}

function convertPool(pool: MetalLBPool, config: MetalLBConfig, output: Output): void {
  const l2 = config.l2Advertisements.filter((a) => advertises(a, pool));
  const bgp = config.bgpAdvertisements.filter((a) => advertises(a, pool));
  const comments: string[] = [];
  let announce: AnnounceMode;
  if (l2.length > 0 && bgp.length === 0) {
    announce = "Local";
    comments.push(
      `announce: Local, as MetalLB announced it by L2 only (L2Advertisement ${namesOf(l2)}).`,
    );
  } else if (bgp.length > 0 && l2.length === 0) {
    announce = "Routed";
    comments.push(
      `announce: Routed, as MetalLB announced it by BGP only (BGPAdvertisement ${namesOf(bgp)}).`,
    );
  } else if (l2.length > 0) {
    announce = "Auto";
    comments.push(
      `announce: Auto, as MetalLB announced it by L2 (${namesOf(l2)}) and by BGP (${namesOf(bgp)}).`,
    );
    pool.reader.warn(
      undefined,
      `is announced by L2Advertisement ${namesOf(l2)} and BGPAdvertisement ${namesOf(bgp)}; Herald's announce: Auto puts an address on the interface of one node (ARP/NDP) where a node has a matching subnet, and routes it (BGP) from every node only where none has: never both at once`,
    );
  } else {
    announce = "Auto";
    comments.push("announce: Auto; MetalLB did not announce this pool at all.");
    pool.reader.warn(
      undefined,
      "is selected by no L2Advertisement or BGPAdvertisement, so MetalLB allocated from it without announcing; Herald announces every pool (announce: Auto here)",
    );
  }
  const spec: AddressPoolSpec = { addresses: pool.addresses.map((e) => e.entry), announce };
  if (pool.autoAssign === false) spec.autoAssign = false;
  if (pool.avoidBuggyIPs) spec.avoidBuggyIPs = true;
  if (pool.priority !== undefined) spec.priority = pool.priority;
  const allocation = allocationOf(pool);
  if (allocation) spec.allocation = allocation;
  const aggregation = aggregationOf(pool, bgp);
  if (aggregation) spec.aggregation = aggregation;
  const nodeSelector = nodeSelectorOf(pool, [...l2, ...bgp]);
  if (nodeSelector) spec.nodeSelector = nodeSelector;
  if (announce !== "Routed") {
    const interfaces = interfacesOf(l2);
    if (interfaces) spec.interfaces = interfaces;
  }
  output.add(pool.reader.origin, addressPool(pool.name, spec, pool.labels), comments);
}

function allocationOf(pool: MetalLBPool): AllocationScope | undefined {
  const { reader, spelling } = pool;
  const allocation: AllocationScope = {};
  const namespaces = (pool.namespaces ?? []).filter((namespace) => {
    if (isDnsLabel(namespace)) return true;
    reader.warn("serviceAllocation.namespaces", `"${namespace}" is not a namespace name; left out`);
    return false;
  });
  if (namespaces.length > 0) allocation.namespaces = namespaces;
  const namespaceSelector = oneOf(
    pool,
    pool.namespaceSelectors,
    spelling.namespaceSelectors,
    "namespace",
  );
  if (namespaceSelector === "everything") {
    // A selector matching every namespace admits every namespace, listed or not.
    delete allocation.namespaces;
  } else if (namespaceSelector) {
    allocation.namespaceSelector = namespaceSelector;
  }
  const serviceSelector = oneOf(pool, pool.serviceSelectors, spelling.serviceSelectors, "service");
  if (serviceSelector && serviceSelector !== "everything")
    allocation.serviceSelector = serviceSelector;
  return Object.keys(allocation).length > 0 ? allocation : undefined;
}

/**
 * MetalLB ORs a list of selectors, Herald takes one. When no one selector says the same,
 * the first is kept: the pool admits fewer, never more, than it did.
 */
function oneOf(
  pool: MetalLBPool,
  selectors: LabelSelector[] | undefined,
  field: string,
  what: string,
): LabelSelector | "everything" | undefined {
  if (!selectors || selectors.length === 0) return undefined;
  const merged = anyOf(selectors);
  if (merged.exact) return merged.selector ?? "everything";
  pool.reader.warn(
    field,
    `MetalLB admits a ${what} matching any of ${selectors.length} selectors; Herald takes one ${what}Selector, so only the first (${describeSelector(selectors[0]!)}) is kept and ${what}s matching only the others lose this pool: merge them into one selector`,
  );
  return selectors[0];
}

function aggregationOf(
  pool: MetalLBPool,
  advertisements: readonly MetalLBBGPAdvertisement[],
): { ipv4?: number; ipv6?: number } | undefined {
  const result: { ipv4?: number; ipv6?: number } = {};
  for (const family of ["IPv4", "IPv6"] as const) {
    const ranges = pool.addresses.filter((e) => e.range.family === family).map((e) => e.range);
    if (ranges.length === 0 || advertisements.length === 0) continue;
    const bits = FAMILY_BITS[family];
    const lengths = advertisements.map((advertisement) => ({
      advertisement,
      length:
        (family === "IPv4" ? advertisement.aggregationLength : advertisement.aggregationLengthV6) ??
        bits,
    }));
    const distinct = [...new Set(lengths.map((l) => l.length))];
    const chosen = Math.max(...distinct);
    if (distinct.length > 1) {
      pool.reader.warn(
        undefined,
        `its BGPAdvertisements aggregate ${family} differently (${lengths.map((l) => `${l.advertisement.name} /${l.length}`).join(", ")}); Herald has one aggregation per pool, so /${chosen}, the most specific, goes to every peer`,
      );
    }
    if (chosen === bits) continue;
    const problem = aggregationProblem(ranges, family, chosen);
    const source = lengths.find((l) => l.length === chosen)!.advertisement;
    if (problem) {
      source.reader.warn(
        family === "IPv4" ? source.spelling.aggregationLength : source.spelling.aggregationLengthV6,
        `${problem}; Herald would refuse that for pool ${pool.name}, which is announced with /${bits} routes instead`,
      );
      continue;
    }
    result[family === "IPv4" ? "ipv4" : "ipv6"] = chosen;
  }
  return Object.keys(result).length > 0 ? result : undefined;
}

function nodeSelectorOf(
  pool: MetalLBPool,
  advertisements: readonly MetalLBAdvertisement[],
): LabelSelector | undefined {
  if (advertisements.length === 0) return undefined;
  // An advertisement without node selectors announces from every node.
  const all = advertisements.flatMap((a) =>
    a.nodeSelectors && a.nodeSelectors.length > 0 ? a.nodeSelectors : [{}],
  );
  const merged = anyOf(all);
  if (merged.exact) return merged.selector;
  pool.reader.warn(
    undefined,
    `its advertisements (${namesOf(advertisements)}) announce from different sets of nodes; Herald has one nodeSelector per pool, left unset here, so every eligible node may announce: add one that covers them all`,
  );
  return undefined;
}

function interfacesOf(advertisements: readonly MetalLBL2Advertisement[]): string[] | undefined {
  // One advertisement without interfaces announces on all of them.
  if (advertisements.length === 0 || advertisements.some((a) => !a.interfaces?.length)) {
    return undefined;
  }
  return interfacePatterns(advertisements.flatMap((a) => a.interfaces ?? []));
}

function convertPeer(peer: MetalLBPeer, config: MetalLBConfig, output: Output): void {
  const { reader, spelling } = peer;
  const skip = (why: string) => reader.warn(undefined, `${why}; this peer is not converted`);
  if (peer.peerAddress === undefined)
    return skip("has no peerAddress (unnumbered BGP over an interface has no Herald equivalent)");
  if (!parseAddress(peer.peerAddress))
    return skip(`peerAddress "${peer.peerAddress}" is not an IP address`);
  if (peer.myASN === undefined || peer.myASN < 1) return skip("has no myASN");
  let peerASN = peer.peerASN;
  if (peerASN === undefined || peerASN === 0) {
    if (peer.dynamicASN === "internal") {
      peerASN = peer.myASN;
      reader.note("dynamicASN", `internal: written as peerASN ${peerASN}, our own ASN`);
    } else if (peer.dynamicASN === "external") {
      return skip(
        "dynamicASN external has no Herald equivalent: BIRD needs the peer's ASN; set peerASN",
      );
    } else {
      return skip("has no peerASN");
    }
  }
  const spec: BGPPeerSpec = { peerAddress: peer.peerAddress, peerASN, localASN: peer.myASN };
  const comments: string[] = [];
  if (peer.port !== undefined && peer.port !== 179) spec.port = peer.port;
  Object.assign(spec, checkTimers(reader, peer.holdTime, peer.keepaliveTime));
  if (peer.ebgpMultiHop) {
    const ttl = ebgpMultihopOf(reader, spelling.ebgpMultiHop, spec, FRR_MULTIHOP_TTL);
    if (ttl !== undefined) {
      spec.ebgpMultihop = ttl;
      comments.push(`ebgpMultihop: ${ttl}, the TTL FRR uses for MetalLB's ebgpMultiHop: true.`);
    }
  }
  if (peer.passwordSecret) {
    if (peer.password) {
      reader.warn(spelling.password, "is set together with passwordSecret; the Secret is used");
    }
    const ref = copiedSecret(
      reader,
      "passwordSecret",
      peer.passwordSecret.name,
      peer.passwordSecret.namespace,
    );
    if (ref) spec.passwordSecretRef = ref;
  } else if (peer.password) {
    spec.passwordSecretRef = inlinePassword(
      reader,
      spelling.password,
      peer.name,
      peer.password,
      output,
    );
  }
  if (peer.bfdProfile !== undefined) spec.bfd = bfdOf(peer, config);
  if (peer.nodeSelectors && peer.nodeSelectors.length > 0) {
    const merged = anyOf(peer.nodeSelectors);
    if (merged.exact) {
      if (merged.selector) spec.nodeSelector = merged.selector;
    } else {
      reader.warn(
        spelling.nodeSelectors,
        "MetalLB peers from nodes matching any of these selectors; Herald takes one nodeSelector, left unset here, so every node opens this session: write one selector that covers them",
      );
    }
  }
  if (peer.routerID !== undefined) {
    const address = parseAddress(peer.routerID);
    if (address?.family === "IPv4") spec.routerID = peer.routerID;
    else
      reader.warn(
        "routerID",
        `"${peer.routerID}" is not an IPv4 address; left out (each node's IPv4 address is used)`,
      );
  }
  if (peer.dualStack) spec.families = ["IPv4", "IPv6"];
  output.add(reader.origin, bgpPeer(peer.name, spec), comments);
}

function bfdOf(peer: MetalLBPeer, config: MetalLBConfig): BFDSettings {
  const profile = config.bfdProfiles.find((p) => p.name === peer.bfdProfile);
  if (!profile) {
    peer.reader.warn(
      peer.spelling.bfdProfile,
      `names BFD profile "${peer.bfdProfile}", which is not in the input; BFD is on with Herald's defaults (300 ms, 300 ms, 3, as MetalLB's)`,
    );
    return {};
  }
  const bfd: BFDSettings = {};
  if (profile.receiveInterval !== undefined) bfd.minRxMs = profile.receiveInterval;
  if (profile.transmitInterval !== undefined) bfd.minTxMs = profile.transmitInterval;
  if (profile.detectMultiplier !== undefined) bfd.multiplier = profile.detectMultiplier;
  return bfd;
}

function convertBGPAdvertisement(
  advertisement: MetalLBBGPAdvertisement,
  config: MetalLBConfig,
  output: Output,
): void {
  const { reader, spelling } = advertisement;
  const spec: BGPAdvertisementSpec = {};
  const comments: string[] = [];
  const moved = [
    advertisement.aggregationLength !== undefined && spelling.aggregationLength,
    advertisement.aggregationLengthV6 !== undefined && spelling.aggregationLengthV6,
    advertisement.nodeSelectors?.length && spelling.nodeSelectors,
  ].filter(Boolean);
  if (moved.length > 0) {
    comments.push(`Its ${moved.join(", ")}: on the pools it selects, where Herald keeps them.`);
  }
  const named = validNames(reader, "ipAddressPools", advertisement.pools ?? []);
  const selectors = advertisement.poolSelectors ?? [];
  const known = new Set(config.pools.map((p) => p.name));
  for (const name of named) {
    if (!known.has(name))
      reader.note("ipAddressPools", `names pool "${name}", which is not in the input`);
  }
  const merged = selectors.length > 0 ? anyOf(selectors) : undefined;
  if (named.length > 0 && selectors.length === 0) {
    spec.pools = [...named];
  } else if (named.length === 0 && merged?.exact) {
    if (merged.selector) spec.poolSelector = merged.selector;
  } else if (named.length > 0 || selectors.length > 0) {
    const pools = config.pools.filter((p) => advertises(advertisement, p)).map((p) => p.name);
    if (pools.length === 0) {
      reader.warn(undefined, "selects no pool of the input; not converted");
      return;
    }
    spec.pools = pools;
    reader.warn(
      spelling.poolSelectors,
      `MetalLB combines pool names and several selectors; Herald takes names or one selector, so this lists the pools they select now (${pools.join(", ")}): pools created later must be added`,
    );
  }
  const peers = validNames(reader, spelling.peers, advertisement.peers ?? []);
  if (peers.length > 0) {
    const peerNames = new Set(config.peers.map((p) => p.name));
    for (const name of peers) {
      if (!peerNames.has(name))
        reader.note(spelling.peers, `names peer "${name}", which is not in the input`);
    }
    spec.peers = peers;
  }
  const communities = new CommunitySet();
  for (const text of advertisement.communities ?? []) {
    const value = config.communityAliases.get(text) ?? text;
    const parsed = parseCommunity(value);
    if ("error" in parsed) {
      reader.warn(
        spelling.communities,
        config.communityAliases.has(text)
          ? `alias "${text}" stands for ${parsed.error}; left out`
          : `${parsed.error}, nor an alias defined by a Community in the input; left out`,
      );
    } else {
      communities.add(parsed);
    }
  }
  if (communities.standard.length > 0) spec.communities = communities.standard;
  if (communities.large.length > 0) spec.largeCommunities = communities.large;
  if (advertisement.localPref !== undefined) spec.localPreference = advertisement.localPref;
  output.add(reader.origin, bgpAdvertisement(advertisement.name, spec), comments);
}

/** The names that can name an object; the others are left out with a warning. */
function validNames(reader: FieldReader, field: string, names: readonly string[]): string[] {
  return [...new Set(names)].filter((name) => {
    if (isDnsSubdomain(name)) return true;
    reader.warn(field, `"${name}" is not an object name; left out`);
    return false;
  });
}
