// Which routed prefixes this node sends to which BGP peer, and with which attributes: the
// decision behind each peer's export filter in bird.conf, made on plain data.
import type { BGPAdvertisementSpec } from "../../api/bgpadvertisement.ts";
import type { BGPPeerSpec } from "../../api/bgppeer.ts";
import { selectorMatches, type Labels, type LabelSelector } from "../../api/selector.ts";
import { FAMILY_BITS, formatAddress, parseAddress, type Family } from "../../ip.ts";
import {
  compareTuples,
  parseCommunity,
  parseLargeCommunity,
  type Community,
  type LargeCommunity,
} from "./communities.ts";

/** The well-known GRACEFUL_SHUTDOWN community, 65535:0 (RFC 8326). */
export const GRACEFUL_SHUTDOWN: Community = [65535, 0];

export interface NamedPeer {
  name: string;
  /** The BGPPeer's own labels, which BGPAdvertisement.peerSelector matches. */
  labels?: Labels;
  spec: BGPPeerSpec;
}

export interface NamedAdvertisement {
  name: string;
  spec: BGPAdvertisementSpec;
}

/** A prefix this node puts on the virtual interface for a routed address. */
export interface RoutedPrefix {
  /** "198.19.0.5/32"; host bits are cleared, as the kernel and BIRD do for the route. */
  prefix: string;
  pool: string;
  family: Family;
  /** The node is leaving: send it with GRACEFUL_SHUTDOWN (RFC 8326) until it is withdrawn. */
  gracefulShutdown?: boolean;
}

/** A routed prefix checked and in canonical form. */
export interface ParsedPrefix {
  prefix: string;
  family: Family;
  value: bigint;
  length: number;
  pools: string[];
  gracefulShutdown: boolean;
}

/** Prefixes exported to one peer with the same attributes: one clause of its filter. */
export interface ExportGroup {
  /** Canonical, sorted. */
  prefixes: string[];
  communities: Community[];
  largeCommunities: LargeCommunity[];
  /** Only for iBGP sessions: BIRD drops LOCAL_PREF towards eBGP peers (RFC 4271 §5.1.5). */
  localPreference?: number;
}

/** An advertisement with its attribute strings parsed. */
export interface CompiledAdvertisement {
  name: string;
  spec: BGPAdvertisementSpec;
  communities: Community[];
  largeCommunities: LargeCommunity[];
}

/** BGPPeers whose nodeSelector admits this node (absent selector: every node). */
export function peersForNode(peers: readonly NamedPeer[], nodeLabels: Labels): NamedPeer[] {
  return peers
    .filter((p) => !p.spec.nodeSelector || selectorMatches(p.spec.nodeSelector, nodeLabels))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** The families a peer carries: `families`, else the family of its address (as MetalLB). */
export function peerFamilies(spec: BGPPeerSpec, transport: Family): Family[] {
  const wanted = new Set(spec.families ?? [transport]);
  return (["IPv4", "IPv6"] as const).filter((f) => wanted.has(f));
}

export function parseRoutes(
  routes: readonly RoutedPrefix[],
): { prefixes: ParsedPrefix[] } | { error: string } {
  const byPrefix = new Map<string, ParsedPrefix>();
  for (const route of routes) {
    const [addressText = "", lengthText = "", extra] = route.prefix.split("/");
    const address = parseAddress(addressText);
    const length = Number(lengthText);
    if (
      !address ||
      extra !== undefined ||
      !/^[0-9]{1,3}$/.test(lengthText) ||
      length > FAMILY_BITS[address.family]
    ) {
      return { error: `routed prefix "${route.prefix}" is not an address with a prefix length` };
    }
    if (address.family !== route.family) {
      return { error: `routed prefix "${route.prefix}" is not ${route.family}` };
    }
    const bits = BigInt(FAMILY_BITS[address.family]);
    const hostBits = bits - BigInt(length);
    const value = (address.value >> hostBits) << hostBits;
    const prefix = `${formatAddress({ family: address.family, value })}/${length}`;
    const entry = byPrefix.get(prefix) ?? {
      prefix,
      family: address.family,
      value,
      length,
      pools: [],
      gracefulShutdown: route.gracefulShutdown === true,
    };
    // A prefix shared by several routes is in graceful shutdown only when all of them are.
    if (!byPrefix.has(prefix)) entry.gracefulShutdown = route.gracefulShutdown === true;
    else entry.gracefulShutdown &&= route.gracefulShutdown === true;
    if (!entry.pools.includes(route.pool)) entry.pools.push(route.pool);
    byPrefix.set(prefix, entry);
  }
  return { prefixes: [...byPrefix.values()].sort(comparePrefixes) };
}

function comparePrefixes(a: ParsedPrefix, b: ParsedPrefix): number {
  if (a.family !== b.family) return a.family === "IPv4" ? -1 : 1;
  if (a.value !== b.value) return a.value < b.value ? -1 : 1;
  return a.length - b.length;
}

export function compileAdvertisement(
  advertisement: NamedAdvertisement,
): CompiledAdvertisement | { error: string } {
  const { name, spec } = advertisement;
  const where = `BGPAdvertisement "${name}"`;
  if (spec.pools && spec.poolSelector) {
    return { error: `${where} sets both pools and poolSelector; set one` };
  }
  if (spec.peers && spec.peerSelector) {
    return { error: `${where} sets both peers and peerSelector; set one` };
  }
  const communities: Community[] = [];
  for (const text of spec.communities ?? []) {
    const community = parseCommunity(text);
    if (!community) {
      return {
        error: `${where}: community "${text}" is neither two numbers up to 65535 ("65000:100") nor a well-known name`,
      };
    }
    communities.push(community);
  }
  const largeCommunities: LargeCommunity[] = [];
  for (const text of spec.largeCommunities ?? []) {
    const large = parseLargeCommunity(text);
    if (!large) {
      return {
        error: `${where}: large community "${text}" is not three numbers up to 4294967295 ("65000:1:2")`,
      };
    }
    largeCommunities.push(large);
  }
  const pref = spec.localPreference;
  if (pref !== undefined && !(Number.isInteger(pref) && pref >= 0 && pref <= 0xffffffff)) {
    return { error: `${where}: localPreference ${pref} is not a number from 0 to 4294967295` };
  }
  return { name, spec, communities, largeCommunities };
}

// An advertisement chooses pools and peers alike: by name, else by a selector on their
// labels, else all of them (as MetalLB's BGPAdvertisement).
function chooses(
  names: readonly string[] | undefined,
  selector: LabelSelector | undefined,
  name: string,
  labels: Labels,
): boolean {
  if (names) return names.includes(name);
  if (selector) return selectorMatches(selector, labels);
  return true;
}

function selectsPeer(advertisement: BGPAdvertisementSpec, peer: NamedPeer): boolean {
  return chooses(advertisement.peers, advertisement.peerSelector, peer.name, peer.labels ?? {});
}

/** Whether the advertisement's pools or poolSelector take the pool with these labels. */
export function selectsPool(
  advertisement: BGPAdvertisementSpec,
  pool: string,
  labels: Labels,
): boolean {
  return chooses(advertisement.pools, advertisement.poolSelector, pool, labels);
}

function uniqueSorted<T extends readonly number[]>(values: readonly T[]): T[] {
  const seen = new Map<string, T>();
  for (const value of values) seen.set(value.join(":"), value);
  return [...seen.values()].sort(compareTuples);
}

/**
 * The export groups of one peer and family. A prefix goes to the peer when at least one
 * advertisement selects both the peer and one of the prefix's pools; with several, it
 * carries the union of their communities and the highest local preference, so no
 * advertisement's intent is lost. No advertisement at all: nothing is exported (as MetalLB:
 * an address is announced over BGP only when some BGPAdvertisement asks for it).
 */
export function exportGroups(
  peer: NamedPeer,
  internal: boolean,
  family: Family,
  advertisements: readonly CompiledAdvertisement[],
  prefixes: readonly ParsedPrefix[],
  poolLabels: ReadonlyMap<string, Labels>,
): ExportGroup[] {
  const mine = advertisements.filter((a) => selectsPeer(a.spec, peer));
  const groups = new Map<string, ExportGroup>();
  for (const prefix of prefixes) {
    if (prefix.family !== family) continue;
    const matching = mine.filter((a) =>
      prefix.pools.some((pool) => selectsPool(a.spec, pool, poolLabels.get(pool) ?? {})),
    );
    if (matching.length === 0) continue;
    const preferences = matching
      .map((a) => a.spec.localPreference)
      .filter((p): p is number => p !== undefined);
    const group: ExportGroup = {
      prefixes: [],
      communities: uniqueSorted([
        ...matching.flatMap((a) => a.communities),
        ...(prefix.gracefulShutdown ? [GRACEFUL_SHUTDOWN] : []),
      ]),
      largeCommunities: uniqueSorted(matching.flatMap((a) => a.largeCommunities)),
    };
    if (internal && preferences.length > 0) group.localPreference = Math.max(...preferences);
    // RFC 8326 §4: towards iBGP peers the sender may lower LOCAL_PREF itself, so that the
    // route loses even where the receiver does not act on the community.
    if (internal && prefix.gracefulShutdown) group.localPreference = 0;
    const key = JSON.stringify([group.communities, group.largeCommunities, group.localPreference]);
    const existing = groups.get(key) ?? group;
    existing.prefixes.push(prefix.prefix);
    groups.set(key, existing);
  }
  // Prefixes arrive sorted, so each group's list is sorted; order groups by first prefix.
  return [...groups.values()];
}
