// MetalLB's CRDs (metallb.io/v1beta1, v1beta2) read into the MetalLB model. Fields that
// Herald cannot express are reported here, where their spelling is known.
import { isDnsSubdomain } from "../api/validation.ts";
import { convertEntries } from "./addresses.ts";
import { gracefulRestartFinding } from "./common.ts";
import { durationSeconds } from "./durations.ts";
import { metadataOf, originOf, type Findings, type SourceObject } from "./findings.ts";
import {
  CRD_SPELLING,
  readBFDProfile,
  type MetalLBBGPAdvertisement,
  type MetalLBConfig,
  type MetalLBPool,
} from "./metallb-model.ts";
import { addProtocolPool } from "./metallb-protocol.ts";
import { FieldReader } from "./reader.ts";

const ASN = { min: 0, max: 4294967295 } as const;

const KINDS = new Set([
  "IPAddressPool",
  "AddressPool",
  "L2Advertisement",
  "BGPAdvertisement",
  "BGPPeer",
  "BFDProfile",
  "Community",
]);

/** Reads one metallb.io object into `config`; false when its kind is not configuration. */
export function readMetalLBObject(
  item: SourceObject,
  config: MetalLBConfig,
  findings: Findings,
): boolean {
  const kind = item.object.kind;
  if (typeof kind !== "string" || !KINDS.has(kind)) return false;
  const origin = originOf(item);
  const metadata = metadataOf(item);
  const reader = FieldReader.of(item.object.spec, "spec", origin, findings);
  if (!metadata.name || !isDnsSubdomain(metadata.name)) {
    const problem = metadata.name ? `"${metadata.name}" is not a valid object name` : "is missing";
    findings.warn(origin, "metadata.name", `${problem}; the object is not converted`);
    return true;
  }
  const name = metadata.name;
  const located = { reader, spelling: CRD_SPELLING };
  switch (kind) {
    case "IPAddressPool": {
      const pool = readPool(reader, name, metadata.labels);
      if (pool) config.pools.push(pool);
      break;
    }
    case "AddressPool":
      readDeprecatedAddressPool(reader, name, metadata.labels, config);
      break;
    case "L2Advertisement":
      config.l2Advertisements.push({
        ...located,
        name,
        pools: reader.strings("ipAddressPools"),
        poolSelectors: reader.selectors("ipAddressPoolSelectors"),
        nodeSelectors: reader.selectors("nodeSelectors"),
        interfaces: reader.strings("interfaces"),
      });
      break;
    case "BGPAdvertisement":
      config.bgpAdvertisements.push({
        ...located,
        name,
        pools: reader.strings("ipAddressPools"),
        poolSelectors: reader.selectors("ipAddressPoolSelectors"),
        nodeSelectors: reader.selectors("nodeSelectors"),
        peers: reader.strings("peers"),
        aggregationLength: reader.integer("aggregationLength", { min: 0, max: 32 }),
        aggregationLengthV6: reader.integer("aggregationLengthV6", { min: 0, max: 128 }),
        localPref: reader.integer("localPref", ASN),
        communities: reader.strings("communities"),
      });
      break;
    case "BGPPeer":
      readPeer(reader, name, metadata.namespace, config);
      break;
    case "BFDProfile":
      readBFDProfile(reader, name, CRD_SPELLING, config);
      break;
    case "Community":
      for (const alias of reader.items("communities") ?? []) {
        const aliasName = alias.string("name");
        const value = alias.string("value");
        if (aliasName && value) {
          config.communityAliases.set(aliasName, { value, reader: alias, field: undefined });
        } else alias.warn(undefined, "needs a name and a value; ignored");
      }
      break;
  }
  reader.finish();
  return true;
}

function readPool(
  reader: FieldReader,
  name: string,
  labels: Record<string, string>,
): MetalLBPool | undefined {
  const addresses = convertEntries(reader, "addresses", reader.strings("addresses") ?? []);
  const allocation = reader.child("serviceAllocation");
  const priority = allocation?.integer("priority", { min: 0, max: 2147483647 });
  if (priority === 0) {
    allocation?.note(
      "priority",
      "0 is MetalLB's unset priority, tried after every pool that has one; written without a priority, which Herald tries last too",
    );
  }
  const pool: MetalLBPool = {
    reader,
    spelling: CRD_SPELLING,
    name,
    labels,
    addresses,
    autoAssign: reader.boolean("autoAssign"),
    avoidBuggyIPs: reader.boolean("avoidBuggyIPs"),
    priority: priority === 0 ? undefined : priority,
    namespaces: allocation?.strings("namespaces"),
    namespaceSelectors: allocation?.selectors("namespaceSelectors"),
    serviceSelectors: allocation?.selectors("serviceSelectors"),
  };
  if (addresses.length === 0) {
    reader.warn("addresses", "holds no usable address; the pool is not converted");
    return undefined;
  }
  return pool;
}

/** The AddressPool kind of MetalLB 0.13 (deprecated): a pool that says its own protocol. */
function readDeprecatedAddressPool(
  reader: FieldReader,
  name: string,
  labels: Record<string, string>,
  config: MetalLBConfig,
): void {
  const pool = readPool(reader, name, labels);
  const protocol = reader.string("protocol");
  const advertisements: MetalLBBGPAdvertisement[] = (reader.items("bgpAdvertisements") ?? []).map(
    (item, i) => ({
      reader: item,
      spelling: CRD_SPELLING,
      name: i === 0 ? name : `${name}-${i + 1}`,
      aggregationLength: item.integer("aggregationLength", { min: 0, max: 32 }),
      aggregationLengthV6: item.integer("aggregationLengthV6", { min: 0, max: 128 }),
      localPref: item.integer("localPref", ASN),
      communities: item.strings("communities"),
    }),
  );
  if (pool) addProtocolPool(config, pool, protocol, reader, advertisements);
}

function readPeer(
  reader: FieldReader,
  name: string,
  namespace: string | undefined,
  config: MetalLBConfig,
): void {
  const dynamicASN = reader.string("dynamicASN");
  const passwordSecret = reader.child("passwordSecret");
  const secretName = passwordSecret?.string("name");
  const secretNamespace = passwordSecret?.string("namespace");
  reader.unsupported(
    "interface",
    "unnumbered BGP is not supported; give the router's address as peerAddress",
  );
  reader.unsupported(
    "sourceAddress",
    "BIRD takes the source address of the route to the peer (set the route's src on the node)",
  );
  reader.unsupported("connectTime", "BIRD retries a connection after its own connect retry time");
  reader.unsupported("vrf", "the session is opened in the node's default VRF");
  gracefulRestartFinding(reader, "enableGracefulRestart");
  // Herald carries only the family of peerAddress unless told otherwise, as disableMP did.
  reader.consume("disableMP");
  config.peers.push({
    reader,
    spelling: CRD_SPELLING,
    name,
    myASN: reader.integer("myASN", ASN),
    localASN: reader.integer("localASN", { min: 1, max: 4294967295 }),
    peerASN: reader.integer("peerASN", ASN),
    dynamicASN: dynamicASN === "internal" || dynamicASN === "external" ? dynamicASN : undefined,
    peerAddress: reader.string("peerAddress"),
    port: reader.integer("peerPort", { min: 1, max: 65535 }),
    holdTime: durationSeconds(reader, "holdTime"),
    keepaliveTime: durationSeconds(reader, "keepaliveTime"),
    ebgpMultiHop: reader.boolean("ebgpMultiHop"),
    password: reader.string("password"),
    passwordSecret: secretName
      ? { name: secretName, namespace: secretNamespace ?? namespace ?? "metallb-system" }
      : undefined,
    bfdProfile: reader.string("bfdProfile"),
    nodeSelectors: reader.selectors("nodeSelectors"),
    routerID: reader.string("routerID"),
    dualStack: reader.boolean("dualStackAddressFamily"),
  });
}
