// MetalLB's configuration before 0.13: YAML in the `config` key of a ConfigMap (named
// `config` in metallb-system), read into the same model as the CRDs.
import { CORE_SCHEMA, load } from "js-yaml";
import type { LabelSelector, LabelSelectorRequirement } from "../api/selector.ts";
import { isPlainObject } from "../api/validation.ts";
import { convertEntries } from "./addresses.ts";
import { durationSeconds } from "./durations.ts";
import { metadataOf, originOf, type Findings, type SourceObject } from "./findings.ts";
import {
  LEGACY_SPELLING,
  readBFDProfile,
  type MetalLBBGPAdvertisement,
  type MetalLBConfig,
  type MetalLBPool,
} from "./metallb-model.ts";
import { addProtocolPool } from "./metallb-protocol.ts";
import { addressName, objectName } from "./output.ts";
import { FieldReader } from "./reader.ts";

const ASN = { min: 0, max: 4294967295 } as const;

/** A ConfigMap that carries MetalLB's legacy configuration, as MetalLB would find it. */
export function isLegacyConfigMap(object: Record<string, unknown>): boolean {
  if (object.kind !== "ConfigMap" || object.apiVersion !== "v1") return false;
  const data = object.data;
  if (!isPlainObject(data) || typeof data.config !== "string") return false;
  const metadata = isPlainObject(object.metadata) ? object.metadata : {};
  return (
    metadata.namespace === "metallb-system" ||
    metadata.name === "config" ||
    /^(address-pools|peers)\s*:/m.test(data.config)
  );
}

export function readLegacyConfigMap(
  item: SourceObject,
  config: MetalLBConfig,
  findings: Findings,
): void {
  const origin = originOf(item);
  const text = (item.object.data as { config: string }).config;
  let document: unknown;
  try {
    document = load(text, { schema: CORE_SCHEMA });
  } catch (error) {
    const reason = (error as Error).message.split("\n")[0];
    findings.warn(
      origin,
      "data.config",
      `is not valid YAML (${reason}); nothing converted from it`,
    );
    return;
  }
  if (!isPlainObject(document)) {
    findings.warn(
      origin,
      "data.config",
      "is not a YAML mapping of peers and address-pools; nothing converted from it",
    );
    return;
  }
  const reader = FieldReader.of(document, "data.config", origin, findings);
  for (const [alias, value] of Object.entries(reader.stringMap("bgp-communities") ?? {})) {
    config.communityAliases.set(alias, { value, reader, field: `bgp-communities.${alias}` });
  }
  for (const profile of reader.items("bfd-profiles") ?? []) readLegacyBFDProfile(profile, config);
  readPeers(reader.items("peers") ?? [], config);
  for (const pool of reader.items("address-pools") ?? []) readPool(pool, config);
  reader.unsupported(
    "peer-autodiscovery",
    "peers are listed as BGPPeer objects; one BGPPeer per router, with a nodeSelector",
  );
  if (config.pools.length === 0) {
    const name = metadataOf(item).name ?? "";
    reader.warn(undefined, `ConfigMap ${name} defines no address pool`);
  }
  reader.finish();
}

function readLegacyBFDProfile(reader: FieldReader, config: MetalLBConfig): void {
  const name = reader.string("name");
  if (!name) return reader.warn(undefined, "a BFD profile needs a name; ignored");
  readBFDProfile(reader, name, LEGACY_SPELLING, config);
}

function readPeers(readers: readonly FieldReader[], config: MetalLBConfig): void {
  const taken = new Set<string>();
  for (const reader of readers) {
    const address = reader.string("peer-address");
    // Legacy peers have no names; a BGPPeer is named after its router's address.
    let name = addressName("peer", address ?? "unknown");
    for (let n = 2; taken.has(name); n++)
      name = addressName("peer", `${address ?? "unknown"}-${n}`);
    taken.add(name);
    reader.unsupported(
      "source-address",
      "BIRD takes the source address of the route to the peer (set the route's src on the node)",
    );
    config.peers.push({
      reader,
      spelling: LEGACY_SPELLING,
      name,
      myASN: reader.integer("my-asn", ASN),
      peerASN: reader.integer("peer-asn", ASN),
      peerAddress: address,
      port: reader.integer("peer-port", { min: 1, max: 65535 }),
      holdTime: durationSeconds(reader, "hold-time"),
      keepaliveTime: durationSeconds(reader, "keepalive-time"),
      ebgpMultiHop: reader.boolean("ebgp-multihop"),
      password: reader.string("password"),
      bfdProfile: reader.string("bfd-profile"),
      nodeSelectors: readNodeSelectors(reader),
      routerID: reader.string("router-id"),
    });
  }
}

/** `node-selectors: [{match-labels: …, match-expressions: […]}]`, as metav1 selectors. */
function readNodeSelectors(reader: FieldReader): LabelSelector[] | undefined {
  const items = reader.items("node-selectors");
  if (!items) return undefined;
  const result: LabelSelector[] = [];
  for (const item of items) {
    const selector: LabelSelector = {};
    const labels = item.stringMap("match-labels");
    if (labels) selector.matchLabels = labels;
    const expressions = item.items("match-expressions");
    if (expressions) {
      selector.matchExpressions = expressions.map((expression) => {
        const requirement = {
          key: expression.string("key") ?? "",
          operator: expression.string("operator") ?? "",
        } as LabelSelectorRequirement;
        const values = expression.strings("values");
        if (values) requirement.values = values;
        return requirement;
      });
    }
    const valid = item.validSelector(selector);
    if (valid) result.push(valid);
  }
  return result;
}

function readPool(reader: FieldReader, config: MetalLBConfig): void {
  const written = reader.string("name");
  if (!written) return reader.warn(undefined, "an address pool needs a name; ignored");
  const name = objectName(written);
  if (name !== written) {
    reader.warn(
      "name",
      `"${written}" is not a valid object name; the AddressPool is "${name}", and services that name the pool in an annotation must name "${name}"`,
    );
  }
  // MetalLB 0.2 to 0.8 spelled the list `cidr`.
  const field = reader.has("cidr") && !reader.has("addresses") ? "cidr" : "addresses";
  const addresses = convertEntries(reader, field, reader.strings(field) ?? []);
  if (addresses.length === 0) {
    return reader.warn(field, `pool "${written}" holds no usable address; not converted`);
  }
  const pool: MetalLBPool = {
    reader,
    spelling: LEGACY_SPELLING,
    name,
    labels: {},
    addresses,
    autoAssign: reader.boolean("auto-assign"),
    avoidBuggyIPs: reader.boolean("avoid-buggy-ips"),
  };
  reader.unsupported("arp-network", "the interface is chosen by subnet (or the pool's interfaces)");
  const advertisements: MetalLBBGPAdvertisement[] = (reader.items("bgp-advertisements") ?? []).map(
    (item, i, all) => ({
      reader: item,
      spelling: LEGACY_SPELLING,
      name: all.length === 1 ? name : `${name}-${i + 1}`,
      aggregationLength: item.integer("aggregation-length", { min: 0, max: 32 }),
      aggregationLengthV6: item.integer("aggregation-length-v6", { min: 0, max: 128 }),
      localPref: item.integer("localpref", ASN),
      communities: item.strings("communities"),
    }),
  );
  addProtocolPool(config, pool, reader.string("protocol"), reader, advertisements);
}
