// PureLB's BGP: k8gobgp's BGPConfiguration (bgp.purelb.io/v1), the GoBGP sidecar that
// advertises what PureLB puts on kube-lb0. Its neighbors become BGPPeers; its netlink
// import of kube-lb0 is what a BGPAdvertisement of every pool says for Herald's BIRD.
import type { AddressFamily, BGPPeerSpec } from "../api/bgppeer.ts";
import type { LabelSelector } from "../api/selector.ts";
import { parseAddress } from "../ip.ts";
import { checkTimers, gracefulRestartFinding } from "./common.ts";
import { metadataOf, originOf, type Findings, type SourceObject } from "./findings.ts";
import {
  addressName,
  bgpAdvertisement,
  bgpPeer,
  type Output,
  type WrittenObject,
} from "./output.ts";
import { copiedSecret } from "./passwords.ts";
import { FieldReader } from "./reader.ts";

const ASN = { min: 1, max: 4294967295 } as const;

/** GoBGP's timers when unset (k8gobgp's docs); BIRD's own defaults are slower (240 s hold). */
const GOBGP_HOLD_TIME = 90;
const GOBGP_KEEPALIVE_TIME = 30;

/** k8gobgp's router ID templates that mean what Herald does anyway: the node's IPv4 address. */
const NODE_IPV4_TEMPLATES = new Set(["", "${NODE_IP}", "${NODE_IPV4}"]);

const FAMILIES: Readonly<Record<string, AddressFamily>> = {
  "ipv4-unicast": "IPv4",
  "ipv6-unicast": "IPv6",
};

/** A shell-style glob of k8gobgp's interfaceList, as a test of one interface name. */
function globMatches(glob: string, name: string): boolean {
  const pattern = glob
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${pattern}$`).test(name);
}

/**
 * Converts one BGPConfiguration; `virtualInterface` is the interface PureLB put routed
 * addresses on (LBNodeAgent's dummyInterface). Returns whether it wrote any BGPPeer.
 */
export function convertBGPConfiguration(
  item: SourceObject,
  virtualInterface: string,
  findings: Findings,
  output: Output,
): boolean {
  const origin = originOf(item);
  const configName = metadataOf(item).name ?? "bgp";
  const reader = FieldReader.of(item.object.spec, "spec", origin, findings);
  const global = reader.child("global");
  const localASN = global?.integer("asn", ASN);
  const routerID = global?.string("routerID");
  let sharedRouterID: string | undefined;
  if (routerID !== undefined && !NODE_IPV4_TEMPLATES.has(routerID.trim())) {
    if (parseAddress(routerID)?.family === "IPv4") {
      sharedRouterID = routerID;
      global!.warn(
        "routerID",
        `${routerID} is written on every BGPPeer, so every node announces this one router ID, as with k8gobgp; leave it out to use each node's IPv4 address`,
      );
    } else {
      global!.warn(
        "routerID",
        `"${routerID}" has no Herald equivalent (Herald takes each node's IPv4 address, not its external one); left out`,
      );
    }
  }
  const listenPort = global?.integer("listenPort", { min: 1, max: 65535 });
  if (listenPort !== undefined && listenPort !== 179) {
    global!.warn("listenPort", "has no Herald equivalent: BIRD listens on 179");
  }
  global?.unsupported("listenAddresses", "BIRD picks the address of the route to each peer");
  const globalFamilies = global?.strings("families")?.filter((family) => {
    if (FAMILIES[family]) return true;
    global.warn("families", `"${family}" is neither ipv4-unicast nor ipv6-unicast; left out`);
    return false;
  });
  if (global) gracefulRestartFinding(global, "gracefulRestart");

  const netlink = reader.child("netlinkImport");
  const importing = netlink?.boolean("enabled") === true;
  const interfaces = netlink?.strings("interfaceList") ?? [];
  const importsVirtual =
    importing && interfaces.some((glob) => globMatches(glob, virtualInterface));
  for (const glob of interfaces) {
    if (!globMatches(glob, virtualInterface)) {
      netlink!.warn(
        "interfaceList",
        `"${glob}": Herald's BIRD advertises the pools' addresses on ${virtualInterface} only, not other interfaces' routes; left out`,
      );
    }
  }

  const peers: string[] = [];
  for (const neighbor of reader.items("neighbors") ?? []) {
    const name = convertNeighbor(neighbor, {
      configName,
      namespace: metadataOf(item).namespace ?? "purelb-system",
      localASN,
      globalFamilies,
      routerID: sharedRouterID,
    });
    if (name && !output.add(origin, name.object, name.comments)) continue;
    if (name) peers.push(name.object.metadata.name);
  }
  reader.finish();

  if (peers.length === 0) return false;
  if (!importsVirtual) {
    (netlink ?? reader).note(
      netlink ? "enabled" : undefined,
      `k8gobgp imports nothing from ${virtualInterface} (netlinkImport), so it advertised no service address; no BGPAdvertisement is written, and Herald's BIRD advertises nothing until one exists`,
    );
    return true;
  }
  output.add(origin, bgpAdvertisement(configName, { peers }), [
    `k8gobgp advertised every route of ${virtualInterface} (netlinkImport) to its neighbors: every pool, to these peers.`,
  ]);
  return true;
}

interface Global {
  readonly configName: string;
  /** Where k8gobgp looked for password Secrets: the BGPConfiguration's namespace. */
  readonly namespace: string;
  readonly localASN: number | undefined;
  readonly globalFamilies: readonly string[] | undefined;
  readonly routerID: string | undefined;
}

function convertNeighbor(
  neighbor: FieldReader,
  global: Global,
): { object: WrittenObject; comments: string[] } | undefined {
  const { localASN, globalFamilies, routerID } = global;
  const config = neighbor.child("config");
  const address = config?.string("neighborAddress");
  const peerASN = config?.integer("peerAsn", ASN);
  const description = config?.string("description");
  if (description !== undefined) {
    config!.note(
      "description",
      "Herald's BGPPeer has no description; it is written as a comment above the BGPPeer",
    );
  }
  const secret = config?.child("authPasswordSecretRef");
  const secretName = secret?.string("name");
  const secretKey = secret?.string("key");
  const families: AddressFamily[] = [];
  const entries = neighbor.items("afiSafis");
  // Without afiSafis the session carries the global families (both unicast ones by default).
  if (!entries)
    families.push(...(globalFamilies ?? Object.keys(FAMILIES)).map((f) => FAMILIES[f]!));
  for (const entry of entries ?? []) {
    const family = entry.string("family");
    const enabled = entry.boolean("enabled");
    if (enabled === false) continue;
    if (family === undefined || !FAMILIES[family]) {
      entry.warn("family", `"${family ?? ""}" is neither ipv4-unicast nor ipv6-unicast; left out`);
      continue;
    }
    if (globalFamilies && !globalFamilies.includes(family)) {
      entry.note(
        "family",
        `${family} is not among the global families, so k8gobgp did not carry it; left out`,
      );
      continue;
    }
    families.push(FAMILIES[family]);
  }
  const timers = neighbor.child("timers")?.child("config");
  const holdTime = timers?.integer("holdTime", { min: 0, max: 65535 });
  const keepalive = timers?.integer("keepaliveInterval", { min: 0, max: 65535 });
  neighbor
    .child("transport")
    ?.unsupportedIfTrue("passiveMode", "BIRD both connects to the peer and accepts its connection");
  const nodeSelector: LabelSelector | undefined = neighbor.selector("nodeSelector");

  const skip = (why: string) => {
    neighbor.leaveOut(`${why}; this neighbor is not converted`);
    return undefined;
  };
  if (address === undefined) return skip("has no config.neighborAddress");
  const parsed = parseAddress(address);
  if (!parsed) return skip(`config.neighborAddress "${address}" is not an IP address`);
  if (peerASN === undefined) return skip("has no config.peerAsn");
  if (localASN === undefined) return skip("global.asn is missing, which every session needs");
  const spec: BGPPeerSpec = { peerAddress: address, peerASN, localASN };
  Object.assign(
    spec,
    checkTimers(neighbor, holdTime ?? GOBGP_HOLD_TIME, keepalive ?? GOBGP_KEEPALIVE_TIME, {
      hold: "timers.config.holdTime",
      keepalive: "timers.config.keepaliveInterval",
    }),
  );
  if (secretName) {
    const ref = copiedSecret(
      neighbor,
      "config.authPasswordSecretRef",
      secretName,
      global.namespace,
      secretKey,
    );
    if (ref) spec.passwordSecretRef = ref;
  }
  const unique = [...new Set(families)];
  if (unique.length > 0 && !(unique.length === 1 && unique[0] === parsed.family)) {
    spec.families = unique;
  }
  if (routerID) spec.routerID = routerID;
  if (nodeSelector && Object.keys(nodeSelector).length > 0) spec.nodeSelector = nodeSelector;
  const comments = [
    ...(description ? [`${description}.`] : []),
    `holdTime ${GOBGP_HOLD_TIME} / keepaliveTime ${GOBGP_KEEPALIVE_TIME} unless set: GoBGP's defaults, not BIRD's.`,
  ];
  return { object: bgpPeer(addressName(global.configName, address), spec), comments };
}
