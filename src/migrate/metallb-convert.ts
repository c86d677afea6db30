// MetalLB's model into Herald's kinds. MetalLB says how a pool is announced with separate
// advertisement objects; Herald says it on the pool (`announce`, `aggregation`,
// `nodeSelector`, `interfaces`), so each pool gathers what its advertisements said.
import type { AllocationScope, AddressPoolSpec, AnnounceMode } from "../api/addresspool.ts";
import type { BGPAdvertisementSpec } from "../api/bgpadvertisement.ts";
import type { BGPPeerSpec, BFDSettings } from "../api/bgppeer.ts";
import { selectorMatches, type LabelSelector } from "../api/selector.ts";
import { isDnsLabel, isDnsSubdomain } from "../api/validation.ts";
import { FAMILY_BITS, parseAddress, type Family } from "../ip.ts";
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
  for (const advertisement of config.l2Advertisements) reportPoolFields(advertisement, [], config);
  for (const advertisement of config.bgpAdvertisements) {
    reportPoolFields(
      advertisement,
      [
        [advertisement.spelling.aggregationLength, advertisement.aggregationLength, "IPv4"],
        [advertisement.spelling.aggregationLengthV6, advertisement.aggregationLengthV6, "IPv6"],
      ],
      config,
    );
  }
  for (const peer of config.peers) convertPeer(peer, config, output);
  const usedAliases = new Set<string>();
  for (const advertisement of config.bgpAdvertisements) {
    convertBGPAdvertisement(advertisement, config, output, usedAliases);
  }
  reportUnused(config, usedAliases);
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
    const fieldOf = (a: MetalLBBGPAdvertisement) =>
      family === "IPv4" ? a.spelling.aggregationLength : a.spelling.aggregationLengthV6;
    const lengths = advertisements.map((advertisement) => ({
      advertisement,
      length:
        (family === "IPv4" ? advertisement.aggregationLength : advertisement.aggregationLengthV6) ??
        bits,
    }));
    const chosen = Math.max(...lengths.map((l) => l.length));
    // Only an explicit length can lose: an advertisement without one asks for host routes,
    // the most specific there is.
    for (const lost of lengths.filter((l) => l.length !== chosen)) {
      lost.advertisement.reader.warn(
        fieldOf(lost.advertisement),
        `the BGPAdvertisements of pool ${pool.name} aggregate ${family} differently (${lengths.map((l) => `${l.advertisement.name} /${l.length}`).join(", ")}); Herald has one aggregation per pool and family, so /${chosen}, the most specific, is carried and /${lost.length} is not: the routers get /${chosen} routes only, each with the communities and local preference of all the pool's advertisements to that peer combined, and no /${lost.length} (let the router aggregate, or split the pool)`,
      );
    }
    if (chosen === bits) continue;
    const problem = aggregationProblem(ranges, family, chosen);
    const source = lengths.find((l) => l.length === chosen)!.advertisement;
    if (problem) {
      source.reader.warn(
        fieldOf(source),
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
  for (const advertisement of advertisements) {
    if (!advertisement.nodeSelectors?.length) continue;
    advertisement.reader.warn(
      advertisement.spelling.nodeSelectors,
      `the advertisements of pool ${pool.name} (${namesOf(advertisements)}) announce it from different sets of nodes; Herald has one nodeSelector per pool, left unset here, so every eligible node may announce it: add one that covers them all`,
    );
  }
  return undefined;
}

/**
 * Herald keeps on the pool what MetalLB says on an advertisement (aggregation, nodes,
 * interfaces). An advertisement that selects no pool of the input has nowhere to put it.
 */
function reportPoolFields(
  advertisement: MetalLBL2Advertisement | MetalLBBGPAdvertisement,
  lengths: ReadonlyArray<readonly [field: string, length: number | undefined, family: Family]>,
  config: MetalLBConfig,
): void {
  const { reader, spelling } = advertisement;
  const pools = config.pools.filter((p) => advertises(advertisement, p));
  if (pools.length > 0) {
    for (const [field, length, family] of lengths) {
      if (length === undefined) continue;
      if (pools.some((p) => p.addresses.some((e) => e.range.family === family))) continue;
      reader.note(
        field,
        `the pools it selects (${pools.map((p) => p.name).join(", ")}) hold no ${family} address; nothing to carry`,
      );
    }
    return;
  }
  const names = advertisement.pools ?? [];
  const why =
    config.pools.length === 0
      ? "the input has no IPAddressPool"
      : `it selects no pool of the input${names.length > 0 ? ` (it names ${names.join(", ")})` : ""}`;
  if (lengths.length === 0) {
    // An L2Advertisement says only how its pools are announced, which Herald says on them.
    const kept = [
      advertisement.nodeSelectors?.length && spelling.nodeSelectors,
      "interfaces" in advertisement && advertisement.interfaces?.length && "interfaces",
    ].filter(Boolean);
    const message = `Herald says on the AddressPool how it is announced, and ${why}: nothing of this advertisement is carried${kept.length > 0 ? ` (Herald would put its ${kept.join(" and ")} on those pools)` : ""}; convert the pools together with their advertisements`;
    reader.leaveOut(message, kept.length > 0 ? "warning" : "note");
    return;
  }
  const notCarried = (field: string, herald: string) =>
    reader.warn(
      field,
      `Herald keeps this on the AddressPool (${herald}), and ${why}: not carried; convert the pools together with their advertisements`,
    );
  for (const [field, length, family] of lengths) {
    if (length === undefined) continue;
    if (length === FAMILY_BITS[family]) {
      reader.note(field, `/${length} is Herald's default (host routes); nothing to carry`);
    } else {
      notCarried(field, `aggregation.${family === "IPv4" ? "ipv4" : "ipv6"}: ${length}`);
    }
  }
  if (advertisement.nodeSelectors?.length) notCarried(spelling.nodeSelectors, "nodeSelector");
}

/** Profiles and aliases no object uses carry nothing; said so, as nothing goes unmentioned. */
function reportUnused(config: MetalLBConfig, usedAliases: ReadonlySet<string>): void {
  const profiles = new Set(config.peers.map((p) => p.bfdProfile));
  for (const profile of config.bfdProfiles) {
    if (!profiles.has(profile.name)) {
      profile.reader.leaveOut(
        "no BGPPeer of the input uses this BFD profile; nothing to carry",
        "note",
      );
    }
  }
  for (const [name, alias] of config.communityAliases) {
    if (!usedAliases.has(name)) {
      alias.reader.note(
        alias.field,
        `community alias ${name} is used by no BGPAdvertisement of the input; nothing to carry (Herald writes communities by value)`,
      );
    }
  }
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
  const skip = (why: string) => reader.leaveOut(`${why}; this peer is not converted`);
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
  const comments: string[] = [];
  const localASN = localASNOf(peer, peerASN, comments);
  const spec: BGPPeerSpec = { peerAddress: peer.peerAddress, peerASN, localASN };
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

/**
 * MetalLB runs one FRR router per VRF with AS `myASN`; its `localASN` makes one session
 * present another AS with `local-as <n> no-prepend replace-as`, so the router sees only
 * that AS. Herald has no router-wide AS: each BGPPeer's localASN is what BIRD sends, as
 * `local as <n>` in that session, which the router sees exactly the same way.
 */
function localASNOf(peer: MetalLBPeer, peerASN: number, comments: string[]): number {
  const { reader } = peer;
  const myASN = peer.myASN!;
  if (peer.localASN === undefined) return myASN;
  if (peerASN === myASN) {
    reader.warn(
      "localASN",
      `is set on an iBGP session (peerASN ${peerASN} equals myASN), where FRR does not accept local-as and MetalLB refuses it; left out: the session stays iBGP, localASN ${myASN}`,
    );
    return myASN;
  }
  if (peer.localASN === peerASN) {
    reader.warn(
      "localASN",
      `${peer.localASN} equals peerASN: the router already saw an iBGP session, and Herald runs it as one too (BIRD compares local and peer AS), so it sends LOCAL_PREF and needs no eBGP multihop`,
    );
  }
  reader.note(
    "localASN",
    `${peer.localASN} becomes this BGPPeer's localASN, which BIRD sends as "local as ${peer.localASN}": the router still sees AS ${peer.localASN} in the OPEN message and as the only AS in the AS path of the service routes, as with the "local-as ${peer.localASN} no-prepend replace-as" MetalLB had FRR write; nothing changes on the router`,
  );
  reader.note(
    "myASN",
    `${myASN} is not written: Herald has no router-wide AS, and this session's localASN is MetalLB's localASN ${peer.localASN} (myASN ${myASN} never reached this router either)`,
  );
  comments.push(
    `localASN: ${peer.localASN}, MetalLB's per-session localASN (its myASN ${myASN} is the router-wide AS Herald does not have).`,
  );
  return peer.localASN;
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
  usedAliases: Set<string>,
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
  // Without usable names the advertisement selected no pool in MetalLB; left as it is, it
  // would select every pool in Herald.
  if ((advertisement.pools?.length ?? 0) > 0 && named.length === 0 && selectors.length === 0) {
    reader.leaveOut(
      "names no pool that can exist; MetalLB advertised nothing with it: not converted",
    );
    return;
  }
  const merged = selectors.length > 0 ? anyOf(selectors) : undefined;
  if (named.length > 0 && selectors.length === 0) {
    spec.pools = [...named];
  } else if (named.length === 0 && merged?.exact) {
    if (merged.selector) spec.poolSelector = merged.selector;
  } else if (named.length > 0 || selectors.length > 0) {
    const pools = config.pools.filter((p) => advertises(advertisement, p)).map((p) => p.name);
    if (pools.length === 0) {
      reader.leaveOut("selects no pool of the input; not converted");
      return;
    }
    spec.pools = pools;
    reader.warn(
      spelling.poolSelectors,
      `MetalLB combines pool names and several selectors; Herald takes names or one selector, so this lists the pools they select now (${pools.join(", ")}): pools created later must be added`,
    );
  }
  const peers = validNames(reader, spelling.peers, advertisement.peers ?? []);
  if ((advertisement.peers?.length ?? 0) > 0 && peers.length === 0) {
    reader.leaveOut("names no peer that can exist; MetalLB advertised to none: not converted");
    return;
  }
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
    const alias = config.communityAliases.get(text);
    if (alias) usedAliases.add(text);
    const value = alias?.value ?? text;
    const parsed = parseCommunity(value);
    if ("error" in parsed) {
      reader.warn(
        spelling.communities,
        alias
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
