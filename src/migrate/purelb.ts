// `herald migrate --from purelb`: ServiceGroups become AddressPools, the LBNodeAgent
// becomes the AgentConfig. PureLB already works the way Herald does (addresses in the
// kernel, kube-lb0 for the rest, routing left to a routing daemon), so most maps one to one.
import type { AddressPoolSpec, AnnounceMode } from "../api/addresspool.ts";
import type { AgentConfigSpec } from "../api/agentconfig.ts";
import { FAMILY_BITS, type Family } from "../ipam/address.ts";
import { aggregationProblem, convertEntry, type PoolEntry } from "./addresses.ts";
import { servicesNote } from "./annotations.ts";
import { metadataOf, originOf, type Findings, type SourceObject } from "./findings.ts";
import { isRegex } from "./common.ts";
import { addressPool, agentConfig, type Output } from "./output.ts";
import { groupOf, type PeerConverter } from "./peer.ts";
import { FieldReader } from "./reader.ts";

/** The ServiceGroup PureLB uses for a Service that names none. */
const DEFAULT_GROUP = "default";

const INTERFACE_NAME = /^[A-Za-z0-9_.:-]{1,15}$/;

export const purelb: PeerConverter = {
  title: "PureLB",
  claims: (object) => groupOf(object) === "purelb.io",
  convert(items: readonly SourceObject[], findings: Findings, output: Output): void {
    const agent: AgentConfigSpec = { routing: "External" };
    const comments = [
      "routing: External, as with PureLB: your routing daemon (BIRD, FRR, Calico) keeps",
      "redistributing kube-lb0. Set routing: Bird and add BGPPeers to let Herald run BIRD.",
    ];
    let agentOrigin: SourceObject | undefined;
    for (const item of items) {
      if (item.object.kind === "ServiceGroup") {
        convertServiceGroup(item, findings, output);
      } else if (item.object.kind === "LBNodeAgent") {
        if (agentOrigin) {
          findings.warn(
            originOf(item),
            undefined,
            `Herald has one AgentConfig for all nodes; LBNodeAgent ${originOf(agentOrigin).name} was converted, this one is not`,
          );
          continue;
        }
        agentOrigin = item;
        readNodeAgent(item, findings, agent, comments);
      } else {
        findings.warn(originOf(item), undefined, "has no Herald equivalent; not converted");
      }
    }
    const origin = originOf(agentOrigin ?? items[0]!);
    output.add(origin, agentConfig(agent), comments);
  },
  servicesNote: servicesNote(["purelb.io/"]),
};

interface PureLBPool {
  readonly reader: FieldReader;
  readonly pool?: string;
  readonly subnet?: string;
  readonly aggregation?: string;
}

function convertServiceGroup(item: SourceObject, findings: Findings, output: Output): void {
  const origin = originOf(item);
  const { name, labels } = metadataOf(item);
  const reader = FieldReader.of(item.object.spec, "spec", origin, findings);
  if (!name) return findings.warn(origin, "metadata.name", "is missing; not converted");
  const external =
    "Herald has no external IPAM: put the addresses it hands out into an AddressPool";
  const usesIpam = [
    reader.unsupported("netbox", external),
    reader.unsupported("epic", "Acnodal EPIC is not supported; not converted"),
    reader.unsupported("external", external),
  ].some(Boolean);
  const local = reader.child("local");
  const remote = reader.child("remote");
  const section = local ?? remote;
  if (!section) {
    if (!usesIpam) reader.warn(undefined, "has no local pool; not converted");
    return reader.finish();
  }
  if (local && remote) {
    reader.warn("remote", "is set together with local; only local is converted");
  }
  // v1's local pools are placed by subnet, like Herald's Auto; v2 splits them in two.
  const v2 = item.object.apiVersion === "purelb.io/v2";
  const announce: AnnounceMode = !local ? "Routed" : v2 ? "Local" : "Auto";
  const sources: PureLBPool[] = [];
  if (section.has("pool") || section.has("subnet")) sources.push(poolOf(section));
  for (const family of ["v4", "v6"]) {
    const single = section.child(`${family}pool`);
    if (single) sources.push(poolOf(single));
    for (const child of section.items(`${family}pools`) ?? []) sources.push(poolOf(child));
  }
  section.unsupported(
    "skipIPv6DAD",
    "the kernel runs duplicate address detection as the node's sysctls say",
  );
  section.unsupported(
    "multiPool",
    "a service gets one address per family; use one pool per subnet and name it",
  );
  section.unsupported("balancePools", "addresses are taken lowest first, in the pool's order");
  reader.finish();

  const entries: Array<
    PoolEntry & { aggregation?: number; explicit: boolean; source: PureLBPool }
  > = [];
  for (const source of sources) {
    const converted = convertPoolEntry(source);
    if (converted) entries.push({ ...converted, source });
  }
  if (entries.length === 0) return reader.warn(undefined, "holds no usable address; not converted");

  const spec: AddressPoolSpec = { addresses: entries.map((e) => e.entry), announce };
  const comments = [
    announce === "Auto"
      ? "announce: Auto: as PureLB, an address in the subnet of a node's interface goes on that interface, any other on kube-lb0."
      : `announce: ${announce}, as PureLB's ${local ? "local" : "remote"} pools.`,
  ];
  if (name === DEFAULT_GROUP) {
    comments.push(
      "autoAssign: PureLB gives services without a purelb.io/service-group annotation addresses from the ServiceGroup default.",
    );
  } else {
    spec.autoAssign = false;
    comments.push(
      "autoAssign: false: PureLB hands out these addresses only to services whose purelb.io/service-group annotation names this group (Herald reads that annotation).",
    );
  }
  if (announce !== "Local") {
    const aggregation = aggregationOf(entries, reader);
    if (aggregation) spec.aggregation = aggregation;
  }
  output.add(origin, addressPool(name, spec, labels), comments);
}

function poolOf(reader: FieldReader): PureLBPool {
  return {
    reader,
    pool: reader.string("pool"),
    subnet: reader.string("subnet"),
    aggregation: reader.string("aggregation"),
  };
}

/** The pool's entry, and the aggregation PureLB would use for it (its subnet's by default). */
function convertPoolEntry(
  source: PureLBPool,
): (PoolEntry & { aggregation?: number; explicit: boolean }) | undefined {
  const { reader } = source;
  if (source.pool === undefined) {
    reader.warn("pool", "is missing; this pool is left out");
    return undefined;
  }
  const converted = convertEntry(source.pool);
  if ("error" in converted) {
    reader.warn("pool", `${converted.error}; left out`);
    return undefined;
  }
  if (converted.note) reader.note("pool", converted.note);
  let subnetLength: number | undefined;
  if (source.subnet !== undefined) {
    const subnet = convertEntry(source.subnet);
    if ("error" in subnet || !source.subnet.includes("/")) {
      reader.warn("subnet", `"${source.subnet}" is not a CIDR; ignored`);
    } else if (
      subnet.range.family !== converted.range.family ||
      converted.range.first < subnet.range.first ||
      converted.range.last > subnet.range.last
    ) {
      reader.warn(
        "subnet",
        `${subnet.entry} does not contain pool ${converted.entry}, as PureLB requires; ignored`,
      );
    } else {
      subnetLength = Number(subnet.entry.split("/")[1]);
    }
  }
  const text = (source.aggregation ?? "default").trim();
  if (text === "default" || text === "") {
    return {
      entry: converted.entry,
      range: converted.range,
      aggregation: subnetLength,
      explicit: false,
    };
  }
  const match = /^\/?(\d{1,3})$/.exec(text);
  if (!match || Number(match[1]) > FAMILY_BITS[converted.range.family]) {
    reader.warn(
      "aggregation",
      `"${text}" is neither "default" nor a prefix length such as "/24"; ignored`,
    );
    return { entry: converted.entry, range: converted.range, explicit: false };
  }
  return {
    entry: converted.entry,
    range: converted.range,
    aggregation: Number(match[1]),
    explicit: true,
  };
}

/**
 * PureLB puts an address on kube-lb0 with the aggregation's prefix; Herald does the same
 * with the pool's `aggregation`, one per family, and only when each block of that size
 * stays inside the pool. Otherwise host routes are announced, with a warning when the
 * user chose the aggregation and a note when it was PureLB's subnet default.
 */
function aggregationOf(
  entries: ReadonlyArray<
    PoolEntry & { aggregation?: number; explicit: boolean; source: PureLBPool }
  >,
  reader: FieldReader,
): { ipv4?: number; ipv6?: number } | undefined {
  const result: { ipv4?: number; ipv6?: number } = {};
  for (const family of ["IPv4", "IPv6"] as Family[]) {
    const own = entries.filter((e) => e.range.family === family);
    const bits = FAMILY_BITS[family];
    const wanted = own.map((e) => e.aggregation ?? bits);
    if (wanted.length === 0) continue;
    const chosen = Math.max(...wanted);
    if (new Set(wanted).size > 1) {
      reader.warn(
        undefined,
        `its ${family} pools aggregate differently (${[...new Set(wanted)].map((w) => `/${w}`).join(", ")}); Herald has one aggregation per family and pool: /${chosen}`,
      );
    }
    if (chosen === bits) continue;
    const problem = aggregationProblem(
      own.map((e) => e.range),
      family,
      chosen,
    );
    if (problem) {
      const entry = own.find((e) => e.aggregation === chosen)!;
      const message = `${problem}, which Herald refuses; routed addresses of this pool are announced as /${bits} instead`;
      if (entry.explicit) entry.source.reader.warn("aggregation", message);
      else entry.source.reader.note("aggregation", `default (the subnet's /${chosen}): ${message}`);
      continue;
    }
    result[family === "IPv4" ? "ipv4" : "ipv6"] = chosen;
  }
  return Object.keys(result).length > 0 ? result : undefined;
}

function readNodeAgent(
  item: SourceObject,
  findings: Findings,
  agent: AgentConfigSpec,
  comments: string[],
): void {
  const reader = FieldReader.of(item.object.spec, "spec", originOf(item), findings);
  reader.unsupported("epic", "Acnodal EPIC is not supported");
  const local = reader.child("local");
  if (local) {
    const virtual = local.string("extlbint");
    if (virtual !== undefined && virtual !== "kube-lb0") {
      if (INTERFACE_NAME.test(virtual)) agent.virtualInterface = virtual;
      else local.warn("extlbint", `"${virtual}" is not an interface name; kube-lb0 is used`);
    }
    const localint = local.string("localint");
    if (localint !== undefined && localint.trim() !== "" && localint !== "default") {
      if (isRegex(localint)) agent.localInterfaces = [localint];
      else local.warn("localint", `"${localint}" is not a regular expression; left out`);
    }
    const garp = local.boolean("sendgarp");
    if (garp === true) {
      comments.push(
        "sendgarp: Herald sends gratuitous ARP / unsolicited NA on every takeover (garp.count, 3 by default).",
      );
    } else if (garp === false) {
      local.warn(
        "sendgarp",
        "false: PureLB sent no gratuitous ARP; Herald sends 3 on every takeover (AgentConfig garp.count) so that neighbours learn the new node at once; set garp.count: 0 to keep PureLB's silence",
      );
    }
  }
  reader.finish();
}
