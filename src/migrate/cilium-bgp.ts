// Cilium's BGP control plane in Herald's terms: CiliumBGPPeeringPolicy (v2alpha1) and its
// successor CiliumBGPClusterConfig + CiliumBGPPeerConfig + CiliumBGPAdvertisement become
// BGPPeers and BGPAdvertisements.
import type { BGPAdvertisementSpec } from "../api/bgpadvertisement.ts";
import type { AddressFamily, BGPPeerSpec, SecretKeyRef } from "../api/bgppeer.ts";
import { selectorMatches, type LabelSelector } from "../api/selector.ts";
import type { Family } from "../ip.ts";
import { convertEntry } from "./addresses.ts";
import { selectorFinding } from "./cilium-selectors.ts";
import { checkTimers, ebgpMultihopOf, gracefulRestartFinding } from "./common.ts";
import { CommunitySet, parseCommunity } from "./communities.ts";
import { metadataOf, originOf, type Findings, type SourceObject } from "./findings.ts";
import { addressName, bgpAdvertisement, bgpPeer, objectName, type Output } from "./output.ts";
import { copiedSecret } from "./passwords.ts";
import { FieldReader } from "./reader.ts";

export interface BGPInput {
  readonly peeringPolicies: readonly SourceObject[];
  readonly clusterConfigs: readonly SourceObject[];
  readonly peerConfigs: readonly SourceObject[];
  readonly advertisements: readonly SourceObject[];
}

/** Where Cilium's Helm chart keeps BGP Secrets (bgpControlPlane.secretNamespace.name). */
const CILIUM_SECRET_NAMESPACE = "kube-system";

/** Cilium's timers when unset (its docs); BIRD's own defaults are slower (240 s hold). */
const CILIUM_HOLD_TIME = 90;
const CILIUM_KEEPALIVE_TIME = 30;

const ASN = { min: 1, max: 4294967295 } as const;

/** A prefix length a CiliumBGPAdvertisement asks for, which Herald keeps on the pools. */
export interface AggregationRequest {
  readonly family: Family;
  readonly length: number;
  /** The advertisement entry's `service` reader and the field, for findings. */
  readonly reader: FieldReader;
  readonly field: string;
}

/** BGPPeers and BGPAdvertisements; returns the aggregation the pools are to carry. */
export function convertBGP(
  input: BGPInput,
  findings: Findings,
  output: Output,
): AggregationRequest[] {
  for (const item of input.peeringPolicies) convertPeeringPolicy(item, findings, output);
  const v2 = input.clusterConfigs.length + input.peerConfigs.length + input.advertisements.length;
  return v2 > 0 ? convertClusterConfigs(input, findings, output) : [];
}

/** A session's settings, whether from a v2alpha1 neighbor or a CiliumBGPPeerConfig. */
interface SessionSettings {
  port?: number;
  holdTime?: number;
  keepaliveTime?: number;
  ebgpMultihop?: number;
  password?: SecretKeyRef;
  families?: AddressFamily[];
}

/** Reads the fields v2alpha1 neighbors and CiliumBGPPeerConfig share, in either spelling. */
function readSession(reader: FieldReader, timers: FieldReader | undefined): SessionSettings {
  const settings: SessionSettings = {};
  const timerReader = timers ?? reader;
  timerReader.unsupported(
    "connectRetryTimeSeconds",
    "BIRD retries a connection after its own connect retry time",
  );
  gracefulRestartFinding(reader, "gracefulRestart");
  const hold = timerReader.integer("holdTimeSeconds", { min: 0, max: 65535 });
  const keepalive = timerReader.integer("keepAliveTimeSeconds", { min: 0, max: 65535 });
  Object.assign(
    settings,
    checkTimers(timerReader, hold ?? CILIUM_HOLD_TIME, keepalive ?? CILIUM_KEEPALIVE_TIME, {
      hold: "holdTimeSeconds",
      keepalive: "keepAliveTimeSeconds",
    }),
  );
  const secret = reader.string("authSecretRef");
  if (secret) {
    settings.password = copiedSecret(reader, "authSecretRef", secret, CILIUM_SECRET_NAMESPACE);
  }
  return settings;
}

/** v2alpha1 `families: [{afi, safi}]` and v2 `families: [{afi, safi, advertisements}]`. */
function readFamilies(reader: FieldReader): {
  families?: AddressFamily[];
  selectors: LabelSelector[];
  /** Each family's advertisement selector with the family's reader, for findings. */
  chosen?: Array<{ selector: LabelSelector; reader: FieldReader }>;
} {
  const items = reader.items("families");
  if (!items) return { selectors: [] };
  const families: AddressFamily[] = [];
  const selectors: LabelSelector[] = [];
  const chosen: Array<{ selector: LabelSelector; reader: FieldReader }> = [];
  for (const item of items) {
    const afi = item.string("afi");
    const safi = item.string("safi");
    const advertisements = item.selector("advertisements");
    if (advertisements) {
      selectors.push(advertisements);
      chosen.push({ selector: advertisements, reader: item });
    }
    if (safi !== undefined && safi !== "unicast") {
      item.warn("safi", `${safi}: Herald announces unicast routes only; left out`);
    } else if (afi === "ipv4") families.push("IPv4");
    else if (afi === "ipv6") families.push("IPv6");
    else item.warn("afi", `"${afi ?? ""}" is neither ipv4 nor ipv6; left out`);
  }
  return {
    families: families.length > 0 ? [...new Set(families)] : undefined,
    selectors,
    chosen,
  };
}

function peerSpec(
  reader: FieldReader,
  field: string,
  multihop: { reader: FieldReader; field: string },
  address: string | undefined,
  peerASN: number | undefined,
  localASN: number | undefined,
  settings: SessionSettings,
  nodeSelector: LabelSelector | undefined,
): BGPPeerSpec | undefined {
  const skip = (why: string) => {
    reader.warn(undefined, `${why}; this neighbor is not converted`);
    return undefined;
  };
  if (address === undefined) return skip(`has no ${field}`);
  // v2alpha1 writes the neighbor as a host prefix, "10.0.0.1/32".
  const converted = convertEntry(address);
  if ("error" in converted || converted.range.first !== converted.range.last) {
    return skip(`${field} "${address}" is not one IP address (or a /32, /128)`);
  }
  const peerAddress = converted.entry.split("/")[0]!;
  if (peerASN === undefined) return skip("has no peerASN");
  if (localASN === undefined) return skip("its BGP instance has no localASN");
  const spec: BGPPeerSpec = { peerAddress, peerASN, localASN };
  if (settings.port !== undefined && settings.port !== 179) spec.port = settings.port;
  if (settings.holdTime !== undefined) spec.holdTime = settings.holdTime;
  if (settings.keepaliveTime !== undefined) spec.keepaliveTime = settings.keepaliveTime;
  if (settings.ebgpMultihop !== undefined && settings.ebgpMultihop > 1) {
    const ttl = ebgpMultihopOf(multihop.reader, multihop.field, spec, settings.ebgpMultihop);
    if (ttl !== undefined) spec.ebgpMultihop = ttl;
  }
  if (settings.password) spec.passwordSecretRef = settings.password;
  if (settings.families) spec.families = settings.families;
  if (nodeSelector && Object.keys(nodeSelector).length > 0) spec.nodeSelector = nodeSelector;
  return spec;
}

const TIMER_COMMENT = `holdTime ${CILIUM_HOLD_TIME} / keepaliveTime ${CILIUM_KEEPALIVE_TIME} unless set: Cilium's defaults, not BIRD's.`;

// ---- v2alpha1 CiliumBGPPeeringPolicy ----

function convertPeeringPolicy(item: SourceObject, findings: Findings, output: Output): void {
  const origin = originOf(item);
  const policy = metadataOf(item).name ?? "policy";
  const reader = FieldReader.of(item.object.spec, "spec", origin, findings);
  const nodeSelector = reader.selector("nodeSelector");
  for (const router of reader.items("virtualRouters") ?? []) {
    const localASN = router.integer("localASN", ASN);
    if (router.boolean("exportPodCIDR")) {
      router.warn("exportPodCIDR", "true: Herald announces service addresses only, not pod CIDRs");
    }
    router.unsupported(
      "podIPPoolSelector",
      "Herald announces service addresses only, not pod CIDRs",
    );
    const serviceSelector = router.selector("serviceSelector");
    const kinds = router.strings("serviceAdvertisements") ?? ["LoadBalancerIP"];
    const peers: string[] = [];
    const attributes: Array<PathAttributes & { peer: string }> = [];
    for (const neighbor of router.items("neighbors") ?? []) {
      // Read first, so that whatever becomes of the neighbor, each entry gets its finding.
      const pathAttributes = (neighbor.items("advertisedPathAttributes") ?? []).map(
        readPathAttributes,
      );
      const address = neighbor.string("peerAddress");
      const settings = readSession(neighbor, undefined);
      settings.port = neighbor.integer("peerPort", { min: 1, max: 65535 });
      settings.ebgpMultihop = neighbor.integer("eBGPMultihopTTL", { min: 1, max: 255 });
      settings.families = readFamilies(neighbor).families;
      const spec = peerSpec(
        neighbor,
        "peerAddress",
        { reader: neighbor, field: "eBGPMultihopTTL" },
        address,
        neighbor.integer("peerASN", ASN),
        localASN,
        settings,
        nodeSelector,
      );
      const name = spec ? addressName(policy, spec.peerAddress) : undefined;
      if (!spec || !name || !output.add(origin, bgpPeer(name, spec), [TIMER_COMMENT])) {
        for (const attribute of pathAttributes) {
          attribute.reader.leaveOut("belongs to a neighbor that is not converted", "note");
        }
        continue;
      }
      peers.push(name);
      for (const attribute of pathAttributes) attributes.push({ peer: name, ...attribute });
    }
    if (peers.length === 0) {
      router.leaveOut("no neighbor of this virtual router is converted; nothing to carry", "note");
      continue;
    }
    for (const kind of kinds) {
      if (kind !== "LoadBalancerIP") {
        router.warn(
          "serviceAdvertisements",
          `${kind}: Herald announces the addresses it allocates only`,
        );
      }
    }
    if (serviceSelector === undefined || !kinds.includes("LoadBalancerIP")) {
      router.note(
        undefined,
        "advertised no LoadBalancer address (it needs a serviceSelector and LoadBalancerIP), so no BGPAdvertisement is written for its neighbors",
      );
      for (const { reader: attribute, type } of attributes) {
        if (type !== "CiliumLoadBalancerIPPool") continue;
        attribute.leaveOut(
          "sets attributes of this virtual router's LoadBalancer routes, and it advertises none (no serviceSelector): nothing to carry, in Cilium nothing was sent either",
          "note",
        );
      }
      continue;
    }
    selectorFinding(router, "serviceSelector", serviceSelector, "advertises");
    const base = objectName(`${policy}-${localASN ?? "router"}`);
    output.add(origin, bgpAdvertisement(base, { peers }), [
      `What virtual router ${localASN} of ${policy} advertised: every pool, to its neighbors.`,
    ]);
    attributes
      .filter((attribute) => attribute.type === "CiliumLoadBalancerIPPool")
      .forEach((attribute, i) =>
        convertPathAttributes(attribute, `${base}-attributes-${i + 1}`, output),
      );
  }
  reader.finish();
}

/** One entry of a neighbor's advertisedPathAttributes, read. */
interface PathAttributes {
  readonly reader: FieldReader;
  readonly type: string | undefined;
  readonly selector: LabelSelector | undefined;
  readonly attributes: Pick<
    BGPAdvertisementSpec,
    "communities" | "largeCommunities" | "localPreference"
  >;
}

function readPathAttributes(reader: FieldReader): PathAttributes {
  const type = reader.string("selectorType");
  const selector = reader.selector("selector");
  const attributes = attributesOf(reader);
  if (type !== "CiliumLoadBalancerIPPool") {
    // The entry is about routes Herald does not announce: it names all its fields at once.
    reader.leaveOut(
      `selectorType ${type ?? "(none)"}: sets attributes of ${type === "PodCIDR" || type === "CiliumPodIPPool" ? "pod CIDR routes" : "routes"}, and Herald announces service addresses only; left out`,
    );
  }
  return { reader, type, selector, attributes };
}

/** advertisedPathAttributes: communities and local preference for the pools selected. */
function convertPathAttributes(
  entry: PathAttributes & { peer: string },
  name: string,
  output: Output,
): void {
  const spec: BGPAdvertisementSpec = { peers: [entry.peer], ...entry.attributes };
  // Cilium: no selector selects every pool, as a BGPAdvertisement without one does.
  if (entry.selector && Object.keys(entry.selector).length > 0) spec.poolSelector = entry.selector;
  output.add(entry.reader.origin, bgpAdvertisement(name, spec), [
    "Path attributes for the pools selected (the pools keep the labels Cilium selected them by).",
  ]);
}

/** `communities {standard, wellKnown, large}` and `localPreference`, in Herald's fields. */
function attributesOf(
  reader: FieldReader,
): Pick<BGPAdvertisementSpec, "communities" | "largeCommunities" | "localPreference"> {
  const result: Pick<BGPAdvertisementSpec, "communities" | "largeCommunities" | "localPreference"> =
    {};
  const communities = reader.child("communities");
  const set = new CommunitySet();
  for (const field of ["standard", "wellKnown", "large"]) {
    for (const text of communities?.strings(field) ?? []) {
      const parsed = parseCommunity(text);
      if ("error" in parsed) communities!.warn(field, `${parsed.error}; left out`);
      else set.add(parsed);
    }
  }
  if (set.standard.length > 0) result.communities = set.standard;
  if (set.large.length > 0) result.largeCommunities = set.large;
  const preference = reader.integer("localPreference", { min: 0, max: 4294967295 });
  if (preference !== undefined) result.localPreference = preference;
  return result;
}

// ---- v2: CiliumBGPClusterConfig, CiliumBGPPeerConfig, CiliumBGPAdvertisement ----

interface PeerConfig {
  readonly reader: FieldReader;
  readonly settings: SessionSettings;
  /** Selectors of CiliumBGPAdvertisements, over all families. */
  readonly advertisements: LabelSelector[];
}

interface Advertisement {
  readonly item: SourceObject;
  readonly labels: Record<string, string>;
  /** Herald BGPPeer names whose peer config selects this advertisement. */
  readonly peers: Set<string>;
}

function convertClusterConfigs(
  input: BGPInput,
  findings: Findings,
  output: Output,
): AggregationRequest[] {
  const peerConfigs = new Map<string, PeerConfig>();
  const readers = new Map<string, FieldReader>();
  const familySelectors = new Map<
    string,
    Array<{ selector: LabelSelector; reader: FieldReader }>
  >();
  for (const item of input.peerConfigs) {
    const reader = FieldReader.of(item.object.spec, "spec", originOf(item), findings);
    const settings = readSession(reader, reader.child("timers"));
    const transport = reader.child("transport");
    settings.port = transport?.integer("peerPort", { min: 1, max: 65535 });
    transport?.unsupported("localPort", "BIRD connects from an ephemeral port");
    settings.ebgpMultihop = reader.integer("ebgpMultihop", { min: 1, max: 255 });
    const { families, selectors, chosen } = readFamilies(reader);
    settings.families = families;
    reader.finish();
    peerConfigs.set(metadataOf(item).name ?? "", { reader, settings, advertisements: selectors });
    readers.set(metadataOf(item).name ?? "", reader);
    familySelectors.set(metadataOf(item).name ?? "", chosen ?? []);
  }
  const usedConfigs = new Set<string>();
  const advertisements: Advertisement[] = input.advertisements.map((item) => ({
    item,
    labels: metadataOf(item).labels,
    peers: new Set(),
  }));
  for (const item of input.clusterConfigs) {
    const origin = originOf(item);
    const reader = FieldReader.of(item.object.spec, "spec", origin, findings);
    const nodeSelector = reader.selector("nodeSelector");
    for (const instance of reader.items("bgpInstances") ?? []) {
      const instanceName = instance.string("name") ?? "instance";
      const localASN = instance.integer("localASN", ASN);
      instance.unsupported("localPort", "Herald's BIRD listening port is not configurable");
      let converted = 0;
      for (const peer of instance.items("peers") ?? []) {
        const written = convertClusterPeer(
          peer,
          instanceName,
          localASN,
          nodeSelector,
          peerConfigs,
          output,
        );
        if (written?.config) usedConfigs.add(written.config);
        if (!written) continue;
        converted++;
        for (const advertisement of advertisements) {
          if (written.selectors.some((s) => selectorMatches(s, advertisement.labels))) {
            advertisement.peers.add(written.name);
          }
        }
      }
      if (converted === 0) {
        instance.leaveOut("no peer of this BGP instance is converted; nothing to carry", "note");
      }
    }
    reader.finish();
  }
  for (const [name, reader] of readers) {
    if (usedConfigs.has(name)) continue;
    reader.leaveOut(
      "no converted peer of a CiliumBGPClusterConfig in the input refers to this CiliumBGPPeerConfig; nothing to carry",
      "note",
    );
  }
  const requests: AggregationRequest[] = [];
  const written: Array<Record<string, string>> = [];
  for (const advertisement of advertisements) {
    const result = convertAdvertisement(advertisement, findings, output);
    if (result) {
      requests.push(...result);
      written.push(advertisement.labels);
    }
  }
  // A family whose selector takes no converted advertisement sends its peers nothing of it.
  for (const [name, chosen] of familySelectors) {
    if (!usedConfigs.has(name)) continue;
    for (const { selector, reader } of chosen) {
      if (written.some((labels) => selectorMatches(selector, labels))) continue;
      reader.note(
        "advertisements",
        "selects no CiliumBGPAdvertisement of the input that Herald converts (none, or only pod CIDR, interface, ClusterIP or ExternalIP ones); nothing to carry",
      );
    }
  }
  return requests;
}

function convertClusterPeer(
  peer: FieldReader,
  instance: string,
  localASN: number | undefined,
  nodeSelector: LabelSelector | undefined,
  peerConfigs: ReadonlyMap<string, PeerConfig>,
  output: Output,
): { name: string; selectors: LabelSelector[]; config: string | undefined } | undefined {
  const peerName = peer.string("name") ?? "peer";
  const address = peer.string("peerAddress");
  const peerASN = peer.integer("peerASN", ASN);
  // Cilium's docs show localPort on a peer, but it belongs to the BGP instance; either way
  // BIRD's listening port is not configurable.
  peer.unsupported(
    "localPort",
    "is not a field of Cilium's peers (the BGP instance has localPort), and Herald's BIRD listening port is not configurable",
  );
  if (peer.has("autoDiscovery") && address === undefined) {
    peer.leaveOut(
      "autoDiscovery has no Herald equivalent (BIRD needs the router's address); this peer is not converted: give peerAddress",
    );
    return undefined;
  }
  peer.unsupported("autoDiscovery", "peerAddress is used");
  const ref = peer.child("peerConfigRef");
  const configName = ref?.string("name");
  ref?.consume("group");
  ref?.consume("kind");
  const config = configName === undefined ? undefined : peerConfigs.get(configName);
  if (configName !== undefined && !config) {
    peer.warn(
      "peerConfigRef",
      `names CiliumBGPPeerConfig ${configName}, which is not in the input; the session gets Cilium's defaults and no advertisement`,
    );
  } else if (configName === undefined) {
    peer.note("peerConfigRef", "is unset: Cilium's default settings, and nothing advertised");
  }
  const settings: SessionSettings = config?.settings ?? {
    holdTime: CILIUM_HOLD_TIME,
    keepaliveTime: CILIUM_KEEPALIVE_TIME,
  };
  const spec = peerSpec(
    peer,
    "peerAddress",
    config
      ? { reader: config.reader, field: "ebgpMultihop" }
      : { reader: peer, field: "peerConfigRef" },
    address,
    peerASN,
    localASN,
    settings,
    nodeSelector,
  );
  if (!spec) return undefined;
  let name = objectName(peerName);
  if (output.has("BGPPeer", name)) name = objectName(`${instance}-${peerName}`);
  if (!output.add(peer.origin, bgpPeer(name, spec), [TIMER_COMMENT])) return undefined;
  return { name, selectors: config?.advertisements ?? [], config: config ? configName : undefined };
}

function convertAdvertisement(
  advertisement: Advertisement,
  findings: Findings,
  output: Output,
): AggregationRequest[] | undefined {
  const { item, peers } = advertisement;
  const origin = originOf(item);
  const reader = FieldReader.of(item.object.spec, "spec", origin, findings);
  const entries = reader.items("advertisements") ?? [];
  const name = metadataOf(item).name ?? "advertisement";
  const services = entries.filter((entry, i) => {
    const type = entry.string("advertisementType");
    if (type !== "Service") {
      const what =
        type === "PodCIDR" || type === "CiliumPodIPPool"
          ? "pod CIDRs"
          : type === "Interface"
            ? "the addresses of a node's interface"
            : "routes";
      entry.leaveOut(
        `advertisementType ${type ?? "(none)"} advertises ${what}; Herald announces service addresses only: left out`,
      );
      return false;
    }
    const addresses = entry.child("service")?.strings("addresses") ?? [];
    for (const kind of addresses) {
      if (kind !== "LoadBalancerIP") {
        entry.warn(
          `service.addresses`,
          `${kind}: Herald announces the addresses it allocates only`,
        );
      }
    }
    if (!addresses.includes("LoadBalancerIP")) {
      entry.leaveOut(`advertisements[${i}] advertises no LoadBalancer address; left out`, "note");
      return false;
    }
    return true;
  });
  const converted = services.map((entry) => {
    const selector = entry.selector("selector");
    if (selector) selectorFinding(entry, "selector", selector, "advertises");
    const attributes = entry.child("attributes");
    const service = entry.child("service")!;
    const requests: AggregationRequest[] = [];
    for (const [field, family, max] of [
      ["aggregationLengthIPv4", "IPv4", 32],
      ["aggregationLengthIPv6", "IPv6", 128],
    ] as const) {
      const length = service.integer(field, { min: 0, max });
      if (length !== undefined) requests.push({ family, length, reader: service, field });
    }
    return { attributes: attributes ? attributesOf(attributes) : {}, requests };
  });
  reader.finish();
  if (converted.length === 0 || peers.size === 0) {
    if (converted.length > 0) {
      reader.leaveOut(
        "is selected by no converted peer's CiliumBGPPeerConfig (families[].advertisements); not converted",
        "note",
      );
    }
    if (Object.keys(advertisement.labels).length > 0) {
      findings.note(
        origin,
        "metadata.labels",
        converted.length > 0
          ? "select it for the peers whose CiliumBGPPeerConfig matches them, and no converted peer's does; nothing to carry"
          : "select it for peers, and none of its advertisements is converted; nothing to carry",
      );
    }
    return undefined;
  }
  converted.forEach(({ attributes }, i) => {
    const written = converted.length === 1 ? name : `${name}-${i + 1}`;
    output.add(
      origin,
      bgpAdvertisement(objectName(written), { peers: [...peers].sort(), ...attributes }),
      ["Every pool to the peers whose CiliumBGPPeerConfig selects this advertisement."],
    );
  });
  return converted.flatMap((c) => c.requests);
}
