// `herald migrate --from openelb`: Eips become AddressPools, BgpConf and BgpPeers become
// BGPPeers, and one BGPAdvertisement says what OpenELB did implicitly: every bgp Eip goes
// to every peer.
import type { AddressPoolSpec, AllocationScope, AnnounceMode } from "../api/addresspool.ts";
import type { AddressFamily, BGPPeerSpec } from "../api/bgppeer.ts";
import { isDnsLabel } from "../api/validation.ts";
import { parseAddress } from "../ip.ts";
import { convertEntry } from "./addresses.ts";
import { servicesNote } from "./annotations.ts";
import {
  checkTimers,
  ebgpMultihopOf,
  gracefulRestartFinding,
  interfacePatterns,
} from "./common.ts";
import { metadataOf, originOf, type Findings, type SourceObject } from "./findings.ts";
import { addressPool, bgpAdvertisement, bgpPeer, type Output } from "./output.ts";
import { inlinePassword } from "./passwords.ts";
import { groupOf, type PeerConverter } from "./peer.ts";
import { FieldReader } from "./reader.ts";

const DEFAULT_EIP_ANNOTATION = "eip.openelb.kubesphere.io/is-default-eip";

/** OpenELB reads only the BgpConf of this name. */
const BGP_CONF_NAME = "default";

const ASN = { min: 1, max: 4294967295, fromString: true } as const;

/** GoBGP's ebgp-multihop without a TTL. */
const GOBGP_MULTIHOP_TTL = 255;

export const openelb: PeerConverter = {
  title: "OpenELB",
  claims: (object) =>
    groupOf(object) === "network.kubesphere.io" || groupOf(object) === "eip.openelb.kubesphere.io",
  convert(items: readonly SourceObject[], findings: Findings, output: Output): void {
    const confs = items.filter((item) => item.object.kind === "BgpConf");
    const conf = confs.find((item) => metadataOf(item).name === BGP_CONF_NAME);
    for (const other of confs) {
      if (other !== conf) {
        findings.note(
          originOf(other),
          undefined,
          `OpenELB reads only the BgpConf named ${BGP_CONF_NAME}; ignored`,
        );
      }
    }
    const localASN = conf ? readBgpConf(conf, findings) : undefined;
    const routedPools: string[] = [];
    const peers: string[] = [];
    for (const item of items) {
      switch (item.object.kind) {
        case "Eip": {
          const pool = convertEip(item, findings, output);
          if (pool?.announce === "Routed") routedPools.push(pool.name);
          break;
        }
        case "BgpPeer": {
          const name = convertPeer(item, localASN, conf !== undefined, findings, output);
          if (name) peers.push(name);
          break;
        }
        case "BgpConf":
          break;
        default:
          findings.warn(originOf(item), "spec", "has no Herald equivalent; not converted");
      }
    }
    if (peers.length > 0 && routedPools.length > 0) {
      output.add(originOf(conf ?? items[0]!), bgpAdvertisement("openelb", { pools: routedPools }), [
        "OpenELB announced every bgp Eip to every BgpPeer; this advertisement says so for Herald.",
      ]);
    } else if (routedPools.length > 0) {
      findings.note(
        undefined,
        undefined,
        `the bgp Eips (${routedPools.join(", ")}) have no BgpPeer in the input, so Herald announces their addresses to no router until BGPPeers and a BGPAdvertisement exist`,
      );
    }
  },
  servicesNote: servicesNote(
    ["eip.openelb.kubesphere.io/"],
    "OpenELB's lb.kubesphere.io/v1alpha1 and protocol.openelb.kubesphere.io/v1alpha1 are not needed; a specific address requested with eip.openelb.kubesphere.io/v1alpha1 is not read: move it to spec.loadBalancerIP or herald.dev/addresses",
  ),
};

function readBgpConf(item: SourceObject, findings: Findings): number | undefined {
  const reader = FieldReader.of(item.object.spec, "spec", originOf(item), findings);
  const as = reader.integer("as", ASN);
  if (as === undefined) reader.warn("as", "is missing; BgpPeers need it as their localASN");
  reader.unsupported(
    "routerId",
    "each node uses its own IPv4 address as router ID; a BGPPeer's routerID sets one for that session",
  );
  reader.unsupported(
    "asPerRack",
    "one local ASN per BGPPeer: write one BGPPeer per rack, with that rack's localASN and a nodeSelector on the rack label",
  );
  reader.unsupported(
    "listenPort",
    "Herald's BIRD connects to each peer on the BGPPeer's port; its own listening port is not configurable",
  );
  reader.unsupported("listenAddresses", "BIRD picks the address of the route to each peer");
  reader.unsupported("families", "each BGPPeer lists its families");
  reader.unsupported(
    "useMultiplePaths",
    "every node announces its own path; the router balances over them (ECMP)",
  );
  gracefulRestartFinding(reader, "gracefulRestart");
  reader.unsupported("policy", "what is announced to whom is said by BGPAdvertisements");
  reader.finish();
  return as;
}

function convertEip(
  item: SourceObject,
  findings: Findings,
  output: Output,
): { name: string; announce: AnnounceMode } | undefined {
  const origin = originOf(item);
  const { name, labels, annotations } = metadataOf(item);
  const reader = FieldReader.of(item.object.spec, "spec", origin, findings);
  if (!name) {
    findings.warn(origin, "metadata.name", "is missing; not converted");
    return undefined;
  }
  const address = reader.string("address");
  const protocol = reader.string("protocol") ?? "bgp";
  const iface = reader.string("interface");
  const disabled = reader.boolean("disable");
  const priority = reader.integer("priority", { min: 0, max: 2147483647 });
  const namespaces = reader.strings("namespaces");
  const namespaceLabels = reader.stringMap("namespaceSelector");
  reader.unsupported(
    "usingKnownIPs",
    "Herald hands out any free address of the pool: leave addresses used elsewhere out of it",
  );
  reader.finish();
  if (address === undefined) {
    reader.warn("address", "is missing; not converted");
    return undefined;
  }
  const entry = convertEntry(address);
  if ("error" in entry) {
    reader.warn("address", `${entry.error}; not converted`);
    return undefined;
  }
  if (entry.note) reader.note("address", entry.note);

  const comments: string[] = [];
  let announce: AnnounceMode;
  if (protocol === "layer2") {
    announce = "Local";
  } else if (protocol === "vip") {
    announce = "Local";
    reader.warn(
      "protocol",
      "vip (keepalived VRRP) has no Herald equivalent; Herald's announce: Local puts the address on one elected node and answers ARP/NDP from the kernel, without VRRP",
    );
  } else {
    if (protocol !== "bgp")
      reader.warn(
        "protocol",
        `"${protocol}" is not bgp, layer2 or vip; taken as bgp, OpenELB's default`,
      );
    announce = "Routed";
  }
  comments.push(`announce: ${announce}, for OpenELB's protocol ${protocol}.`);
  const spec: AddressPoolSpec = { addresses: [entry.entry], announce };
  if (announce === "Local" && iface !== undefined) {
    if (iface.startsWith("can_reach:")) {
      reader.warn(
        "interface",
        `${iface}: Herald chooses the interface whose subnet holds the address (or the pool's interfaces patterns); left out`,
      );
    } else {
      spec.interfaces = interfacePatterns([iface]);
    }
  }
  if (priority !== undefined) spec.priority = priority;

  const isDefault = annotations[DEFAULT_EIP_ANNOTATION] === "true";
  const allocation: AllocationScope = {};
  const listed = (namespaces ?? []).filter((namespace) => {
    if (isDnsLabel(namespace)) return true;
    reader.warn("namespaces", `"${namespace}" is not a namespace name; left out`);
    return false;
  });
  if (listed.length > 0) allocation.namespaces = listed;
  if (namespaceLabels && Object.keys(namespaceLabels).length > 0) {
    const selector = reader.validSelector({ matchLabels: namespaceLabels }, "namespaceSelector");
    if (selector) allocation.namespaceSelector = selector;
  }
  const bound = Object.keys(allocation).length > 0;
  if (isDefault) {
    comments.push("The default Eip: any service may get an address from it (autoAssign).");
    for (const field of ["namespaces", "namespaceSelector"]) {
      if (!reader.has(field)) continue;
      reader.note(
        field,
        "the default Eip serves every namespace; its binding only ranked it first for these, which a Herald pool cannot say while also serving all: left out",
      );
    }
  } else if (bound) {
    spec.allocation = allocation;
    comments.push(
      "Bound to namespaces: Herald tries such pools before unrestricted ones, as OpenELB did.",
    );
  } else {
    spec.autoAssign = false;
    comments.push(
      "autoAssign: false: neither default nor bound to namespaces, OpenELB gave its addresses only to services naming it (eip.openelb.kubesphere.io/v1alpha2, which Herald reads).",
    );
  }
  if (disabled) {
    spec.autoAssign = false;
    reader.warn(
      "disable",
      "true: Herald has no disabled pool; autoAssign: false stops automatic allocation, but a service that names the pool or requests one of its addresses still gets one",
    );
  }
  if (!output.add(origin, addressPool(name, spec, labels), comments)) return undefined;
  return { name, announce };
}

function convertPeer(
  item: SourceObject,
  confASN: number | undefined,
  hasConf: boolean,
  findings: Findings,
  output: Output,
): string | undefined {
  const origin = originOf(item);
  const { name, labels } = metadataOf(item);
  const reader = FieldReader.of(item.object.spec, "spec", origin, findings);
  if (!name) {
    findings.warn(origin, "metadata.name", "is missing; not converted");
    return undefined;
  }
  const conf = reader.child("conf");
  const peerASN = conf?.integer("peerAs", ASN);
  const peerAddress = conf?.string("neighborAddress");
  const localASN = conf?.integer("localAs", ASN) ?? confASN;
  const password = conf?.string("authPassword");
  conf?.consume("description");
  conf?.unsupported("neighborInterface", "unnumbered BGP is not supported; give neighborAddress");
  conf?.unsupported("vrf", "the session is opened in the node's default VRF");
  conf?.unsupported(
    "adminDown",
    "a BGPPeer's session is always wanted; delete the BGPPeer to stop it",
  );
  const transport = reader.child("transport");
  const port = transport?.integer("remotePort", { min: 1, max: 65535, fromString: true });
  transport?.unsupported(
    "passiveMode",
    "BIRD both connects to the peer and accepts its connection",
  );
  transport?.unsupported("remoteAddress", "BIRD picks the address of the route to the peer");
  const multihop = reader.child("ebgpMultihop");
  const multihopEnabled = multihop?.boolean("enabled");
  const multihopTTL = multihop?.integer("multihopTtl", { min: 1, max: 255, fromString: true });
  const timers = reader.child("timers")?.child("config");
  const holdTime = timers?.integer("holdTime", { fromString: true });
  const keepalive = timers?.integer("keepaliveInterval", { fromString: true });
  timers?.unsupported("connectRetry", "BIRD retries a connection after its own connect retry time");
  timers?.unsupported(
    "minimumAdvertisementInterval",
    "BIRD sends updates as routes change, without a minimum interval",
  );
  const families = readFamilies(reader);
  const nodeSelector = reader.selector("nodeSelector");
  gracefulRestartFinding(reader, "gracefulRestart");
  reader.finish();

  const skip = (why: string) => {
    reader.leaveOut(`${why}; this peer is not converted`);
    return undefined;
  };
  if (peerAddress === undefined) return skip("has no conf.neighborAddress");
  if (!parseAddress(peerAddress))
    return skip(`conf.neighborAddress "${peerAddress}" is not an IP address`);
  if (peerASN === undefined) return skip("has no conf.peerAs");
  if (localASN === undefined) {
    return skip(
      hasConf
        ? "BgpConf default has no as"
        : "needs BgpConf default's spec.as as its localASN, and the input has no BgpConf default",
    );
  }
  const spec: BGPPeerSpec = { peerAddress, peerASN, localASN };
  if (port !== undefined && port !== 179) spec.port = port;
  Object.assign(
    spec,
    checkTimers(reader, holdTime, keepalive, {
      hold: "timers.config.holdTime",
      keepalive: "timers.config.keepaliveInterval",
    }),
  );
  if (multihopEnabled) {
    const ttl = ebgpMultihopOf(reader, "ebgpMultihop", spec, multihopTTL ?? GOBGP_MULTIHOP_TTL);
    if (ttl !== undefined) spec.ebgpMultihop = ttl;
  }
  if (password)
    spec.passwordSecretRef = inlinePassword(reader, "conf.authPassword", name, password, output);
  const peerFamily = parseAddress(peerAddress)!.family;
  if (families && !(families.length === 1 && families[0] === peerFamily)) spec.families = families;
  if (nodeSelector && Object.keys(nodeSelector).length > 0) spec.nodeSelector = nodeSelector;
  return output.add(origin, bgpPeer(name, spec, labels)) ? name : undefined;
}

/** The enabled AFIs of `afiSafis`; undefined when none is listed. */
function readFamilies(reader: FieldReader): AddressFamily[] | undefined {
  const items = reader.items("afiSafis");
  if (!items) return undefined;
  const families: AddressFamily[] = [];
  for (const item of items) {
    const config = item.child("config");
    const family = config?.child("family");
    const afi = family?.string("afi");
    const safi = family?.string("safi");
    const enabled = config?.boolean("enabled");
    item.unsupported(
      "addPaths",
      "every node announces its own path; the router balances over them (ECMP)",
    );
    const restart = item.child("mpGracefulRestart");
    if (restart) gracefulRestartFinding(restart, "config");
    if (enabled === false) continue;
    if (safi !== undefined && safi !== "SAFI_UNICAST") {
      family?.warn("safi", `${safi}: Herald announces unicast routes only; left out`);
      continue;
    }
    if (afi === "AFI_IP") families.push("IPv4");
    else if (afi === "AFI_IP6") families.push("IPv6");
    else family?.warn("afi", `"${afi ?? ""}" is neither AFI_IP nor AFI_IP6; left out`);
  }
  return families.length > 0 ? [...new Set(families)] : undefined;
}
