// Cilium's BGP control plane in Herald's terms: CiliumBGPPeeringPolicy (v2alpha1) and its
// successor CiliumBGPClusterConfig + CiliumBGPPeerConfig + CiliumBGPAdvertisement become
// BGPPeers and BGPAdvertisements.
import type { BGPAdvertisementSpec } from "../api/bgpadvertisement.ts";
import type { AddressFamily, BGPPeerSpec, SecretKeyRef } from "../api/bgppeer.ts";
import { selectorMatches, type LabelSelector } from "../api/selector.ts";
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

export function convertBGP(input: BGPInput, findings: Findings, output: Output): void {
  for (const item of input.peeringPolicies) convertPeeringPolicy(item, findings, output);
  if (input.clusterConfigs.length > 0 || input.peerConfigs.length > 0) {
    convertClusterConfigs(input, findings, output);
  }
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
} {
  const items = reader.items("families");
  if (!items) return { selectors: [] };
  const families: AddressFamily[] = [];
  const selectors: LabelSelector[] = [];
  for (const item of items) {
    const afi = item.string("afi");
    const safi = item.string("safi");
    const advertisements = item.selector("advertisements");
    if (advertisements) selectors.push(advertisements);
    if (safi !== undefined && safi !== "unicast") {
      item.warn("safi", `${safi}: Herald announces unicast routes only; left out`);
    } else if (afi === "ipv4") families.push("IPv4");
    else if (afi === "ipv6") families.push("IPv6");
    else item.warn("afi", `"${afi ?? ""}" is neither ipv4 nor ipv6; left out`);
  }
  return { families: families.length > 0 ? [...new Set(families)] : undefined, selectors };
}

function peerSpec(
  reader: FieldReader,
  field: string,
  multihopField: string,
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
    const ttl = ebgpMultihopOf(reader, multihopField, spec, settings.ebgpMultihop);
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
    const attributes: Array<{ peer: string; reader: FieldReader }> = [];
    for (const neighbor of router.items("neighbors") ?? []) {
      const address = neighbor.string("peerAddress");
      const settings = readSession(neighbor, undefined);
      settings.port = neighbor.integer("peerPort", { min: 1, max: 65535 });
      settings.ebgpMultihop = neighbor.integer("eBGPMultihopTTL", { min: 1, max: 255 });
      settings.families = readFamilies(neighbor).families;
      const spec = peerSpec(
        neighbor,
        "peerAddress",
        "eBGPMultihopTTL",
        address,
        neighbor.integer("peerASN", ASN),
        localASN,
        settings,
        nodeSelector,
      );
      const pathAttributes = neighbor.items("advertisedPathAttributes") ?? [];
      if (!spec) continue;
      const name = addressName(policy, spec.peerAddress);
      if (!output.add(origin, bgpPeer(name, spec), [TIMER_COMMENT])) continue;
      peers.push(name);
      for (const attribute of pathAttributes) attributes.push({ peer: name, reader: attribute });
    }
    if (peers.length === 0) continue;
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
      continue;
    }
    selectorFinding(router, "serviceSelector", serviceSelector, "advertises");
    const base = objectName(`${policy}-${localASN ?? "router"}`);
    output.add(origin, bgpAdvertisement(base, { peers }), [
      `What virtual router ${localASN} of ${policy} advertised: every pool, to its neighbors.`,
    ]);
    attributes.forEach(({ peer, reader: attribute }, i) =>
      convertPathAttributes(attribute, peer, `${base}-attributes-${i + 1}`, output),
    );
  }
  reader.finish();
}

/** advertisedPathAttributes: communities and local preference for the pools selected. */
function convertPathAttributes(
  reader: FieldReader,
  peer: string,
  name: string,
  output: Output,
): void {
  const type = reader.string("selectorType");
  const selector = reader.selector("selector");
  const attributes = attributesOf(reader);
  if (type !== "CiliumLoadBalancerIPPool") {
    reader.warn(
      "selectorType",
      `${type ?? "(none)"}: Herald announces service addresses only; left out`,
    );
    return;
  }
  const spec: BGPAdvertisementSpec = { peers: [peer], ...attributes };
  if (selector && Object.keys(selector).length > 0) spec.poolSelector = selector;
  output.add(reader.origin, bgpAdvertisement(name, spec), [
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

function convertClusterConfigs(input: BGPInput, findings: Findings, output: Output): void {
  const peerConfigs = new Map<string, PeerConfig>();
  for (const item of input.peerConfigs) {
    const reader = FieldReader.of(item.object.spec, "spec", originOf(item), findings);
    const settings = readSession(reader, reader.child("timers"));
    const transport = reader.child("transport");
    settings.port = transport?.integer("peerPort", { min: 1, max: 65535 });
    transport?.unsupported("localPort", "BIRD connects from an ephemeral port");
    settings.ebgpMultihop = reader.integer("ebgpMultihop", { min: 1, max: 255 });
    const { families, selectors } = readFamilies(reader);
    settings.families = families;
    reader.finish();
    peerConfigs.set(metadataOf(item).name ?? "", { settings, advertisements: selectors });
  }
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
      for (const peer of instance.items("peers") ?? []) {
        const written = convertClusterPeer(
          peer,
          instanceName,
          localASN,
          nodeSelector,
          peerConfigs,
          output,
        );
        if (!written) continue;
        for (const advertisement of advertisements) {
          if (written.selectors.some((s) => selectorMatches(s, advertisement.labels))) {
            advertisement.peers.add(written.name);
          }
        }
      }
    }
    reader.finish();
  }
  for (const advertisement of advertisements) convertAdvertisement(advertisement, findings, output);
}

function convertClusterPeer(
  peer: FieldReader,
  instance: string,
  localASN: number | undefined,
  nodeSelector: LabelSelector | undefined,
  peerConfigs: ReadonlyMap<string, PeerConfig>,
  output: Output,
): { name: string; selectors: LabelSelector[] } | undefined {
  const peerName = peer.string("name") ?? "peer";
  const address = peer.string("peerAddress");
  const peerASN = peer.integer("peerASN", ASN);
  if (
    peer.unsupported("autoDiscovery", "give the router's address as peerAddress") &&
    address === undefined
  ) {
    return undefined;
  }
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
    "peerConfigRef",
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
  return { name, selectors: config?.advertisements ?? [] };
}

function convertAdvertisement(
  advertisement: Advertisement,
  findings: Findings,
  output: Output,
): void {
  const { item, peers } = advertisement;
  const origin = originOf(item);
  const reader = FieldReader.of(item.object.spec, "spec", origin, findings);
  const entries = reader.items("advertisements") ?? [];
  const name = metadataOf(item).name ?? "advertisement";
  const services = entries.filter((entry, i) => {
    const type = entry.string("advertisementType");
    if (type !== "Service") {
      entry.warn(
        "advertisementType",
        `${type ?? "(none)"}: Herald announces service addresses only; left out`,
      );
      entry.consume("selector");
      entry.consume("attributes");
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
      entry.note(undefined, `advertisements[${i}] advertises no LoadBalancer address; left out`);
      entry.consume("selector");
      entry.consume("attributes");
      return false;
    }
    return true;
  });
  const specs = services.map((entry) => {
    const selector = entry.selector("selector");
    if (selector) selectorFinding(entry, "selector", selector, "advertises");
    const attributes = entry.child("attributes");
    return attributes ? attributesOf(attributes) : {};
  });
  reader.finish();
  if (specs.length === 0) return;
  if (peers.size === 0) {
    findings.note(
      origin,
      undefined,
      "is selected by no peer's CiliumBGPPeerConfig families; not converted",
    );
    return;
  }
  specs.forEach((attributes, i) => {
    const written = specs.length === 1 ? name : `${name}-${i + 1}`;
    output.add(
      origin,
      bgpAdvertisement(objectName(written), { peers: [...peers].sort(), ...attributes }),
      ["Every pool to the peers whose CiliumBGPPeerConfig selects this advertisement."],
    );
  });
}
