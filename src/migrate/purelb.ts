// `herald migrate --from purelb`: ServiceGroups become AddressPools, the LBNodeAgent
// becomes the AgentConfig. PureLB already works the way Herald does (addresses in the
// kernel, kube-lb0 for the rest, routing left to a routing daemon), so most maps one to one.
import type { AddressPoolSpec, AnnounceMode } from "../api/addresspool.ts";
import type { AgentConfigSpec } from "../api/agentconfig.ts";
import { FAMILY_BITS, type Family } from "../ip.ts";
import { aggregationProblem, convertEntry, type PoolEntry } from "./addresses.ts";
import { servicesNote } from "./annotations.ts";
import { metadataOf, originOf, type Findings, type SourceObject } from "./findings.ts";
import { interfacePatterns, isRegex } from "./common.ts";
import { addressPool, agentConfig, type Output } from "./output.ts";
import { groupOf, type PeerConverter } from "./peer.ts";
import { FieldReader } from "./reader.ts";
import { convertBGPConfiguration } from "./purelb-bgp.ts";
import { isPlainObject, isDnsLabel } from "../api/validation.ts";
import { parseGoDuration } from "./durations.ts";

/** The ServiceGroup PureLB uses for a Service that names none. */
const DEFAULT_GROUP = "default";

const INTERFACE_NAME = /^[A-Za-z0-9_.:-]{1,15}$/;

/** k8gobgp's API group, the BGP sidecar PureLB ships. */
const BGP_GROUP = "bgp.purelb.io";

function hasNodeSelector(item: SourceObject): boolean {
  const spec = item.object.spec;
  return isPlainObject(spec) && isPlainObject(spec.nodeSelector)
    ? Object.keys(spec.nodeSelector).length > 0
    : false;
}

export const purelb: PeerConverter = {
  title: "PureLB",
  claims: (object) => groupOf(object) === "purelb.io" || groupOf(object) === BGP_GROUP,
  convert(items: readonly SourceObject[], findings: Findings, output: Output): void {
    const agent: AgentConfigSpec = { routing: "External" };
    const comments: string[] = [];
    // Herald has one AgentConfig: PureLB's catch-all LBNodeAgent (no nodeSelector) is the
    // one that applies to most nodes, so it is the one converted.
    const agents = items.filter((item) => item.object.kind === "LBNodeAgent");
    const chosen = agents.find((item) => !hasNodeSelector(item)) ?? agents[0];
    if (chosen) readNodeAgent(chosen, findings, agent, comments);
    for (const item of agents) {
      if (item === chosen) continue;
      findings.warn(
        originOf(item),
        "spec",
        `Herald has one AgentConfig for all nodes; LBNodeAgent ${originOf(chosen!).name} was converted, this one is not`,
      );
    }
    let routedByHerald = false;
    for (const item of items) {
      if (item.object.kind === "ServiceGroup") {
        convertServiceGroup(item, findings, output);
      } else if (item.object.kind === "BGPConfiguration" && groupOf(item.object) === BGP_GROUP) {
        const virtual = agent.virtualInterface ?? "kube-lb0";
        routedByHerald = convertBGPConfiguration(item, virtual, findings, output) || routedByHerald;
      } else if (item.object.kind === "BGPNodeStatus") {
        findings.note(originOf(item), undefined, "is status, not configuration; ignored");
      } else if (item.object.kind !== "LBNodeAgent") {
        findings.warn(originOf(item), "spec", "has no Herald equivalent; not converted");
      }
    }
    if (routedByHerald) {
      agent.routing = "Bird";
      comments.unshift(
        `routing: Bird: PureLB's k8gobgp sidecar advertised ${agent.virtualInterface ?? "kube-lb0"} to its BGP neighbors;`,
        "Herald's agents run BIRD for the BGPPeers converted from its BGPConfiguration.",
      );
    } else {
      comments.unshift(
        "routing: External, as with PureLB: your routing daemon (BIRD, FRR, Calico) keeps",
        "redistributing kube-lb0. Set routing: Bird and add BGPPeers to let Herald run BIRD.",
      );
    }
    const origin = originOf(chosen ?? items[0]!);
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
  const namespaces = reader.strings("namespaces");
  const enforce = reader.boolean("enforceNamespaces");
  const namespaceDefault = reader.boolean("namespaceDefault");
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
  const skipDAD = section.boolean("skipIPv6DAD");
  if (skipDAD !== undefined) {
    // Herald adds every address with nodad: it usually moves from a dead node, and DAD
    // would hold it back, or fail on a neighbour that still answers for it.
    section.note(
      "skipIPv6DAD",
      `${skipDAD}: Herald adds IPv6 addresses without duplicate address detection (nodad) in every pool${skipDAD ? ", as this did" : ""}`,
    );
  }
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
  const scope = namespaceScope(reader, name, namespaces, enforce, namespaceDefault);
  if (scope) {
    spec.allocation = { namespaces: scope.namespaces };
    if (scope.first) spec.priority = 0;
    comments.push(...scope.comments);
  } else if (name === DEFAULT_GROUP) {
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
    const aggregation = aggregationOf(entries);
    if (aggregation) spec.aggregation = aggregation;
  }
  output.add(origin, addressPool(name, spec, labels), comments);
}

/**
 * PureLB v0.17's `namespaces`: the group is the default for Services of those namespaces
 * (and, with `enforceNamespaces`, the only groups they and only they may use). Herald's
 * `allocation.namespaces` admits only those namespaces' Services, first among pools, so
 * it says the same as enforcing, and a little more than the default alone.
 */
function namespaceScope(
  reader: FieldReader,
  name: string,
  namespaces: string[] | undefined,
  enforce: boolean | undefined,
  namespaceDefault: boolean | undefined,
): { namespaces: string[]; first: boolean; comments: string[] } | undefined {
  const listed = (namespaces ?? []).filter((namespace) => {
    if (isDnsLabel(namespace)) return true;
    reader.warn("namespaces", `"${namespace}" is not a namespace name; left out`);
    return false;
  });
  if (listed.length === 0) {
    if (enforce) reader.warn("enforceNamespaces", "needs namespaces, as in PureLB; ignored");
    if (namespaceDefault)
      reader.warn("namespaceDefault", "needs namespaces, as in PureLB; ignored");
    return undefined;
  }
  if (name === DEFAULT_GROUP && !enforce) {
    reader.note(
      "namespaces",
      "the default ServiceGroup serves Services of every namespace anyway, which a Herald pool restricted to these could not: left out, the pool admits every namespace",
    );
    if (namespaceDefault) {
      reader.note(
        "namespaceDefault",
        "the pool is unrestricted, so it needs no rank among these namespaces' pools",
      );
    }
    return undefined;
  }
  const comments = [
    `allocation.namespaces: Services of ${listed.join(", ")} get addresses from this pool without an annotation, as from PureLB's ServiceGroup; Herald tries such pools before unrestricted ones.`,
  ];
  if (enforce) {
    reader.warn(
      "enforceNamespaces",
      "true: Herald fences the pool, as PureLB did (no Service of another namespace gets an address from it, by annotation or requested address), but not the namespaces: their Services may still get addresses from unrestricted pools when they ask for one or this pool is full",
    );
  } else {
    reader.warn(
      "namespaces",
      "PureLB made this group the default of these namespaces and still let Services of other namespaces name it; Herald's allocation.namespaces admits only these namespaces' Services, even by annotation (what PureLB's enforceNamespaces: true said)",
    );
  }
  if (namespaceDefault) {
    comments.push(
      "priority: 0, for PureLB's namespaceDefault: tried before the other pools of these namespaces.",
    );
  }
  return { namespaces: listed, first: namespaceDefault === true, comments };
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
): { ipv4?: number; ipv6?: number } | undefined {
  const result: { ipv4?: number; ipv6?: number } = {};
  for (const family of ["IPv4", "IPv6"] as Family[]) {
    const own = entries.filter((e) => e.range.family === family);
    const bits = FAMILY_BITS[family];
    const wanted = own.map((e) => e.aggregation ?? bits);
    if (wanted.length === 0) continue;
    const chosen = Math.max(...wanted);
    const distinct = [...new Set(wanted)].map((w) => `/${w}`).join(", ");
    for (const lost of own.filter((e) => (e.aggregation ?? bits) !== chosen)) {
      const message = `its ${family} pools aggregate differently (${distinct}); Herald has one aggregation per family and pool: /${chosen}, the most specific, not this /${lost.aggregation ?? bits}`;
      if (lost.explicit) lost.source.reader.warn("aggregation", message);
      else
        lost.source.reader.note(
          "aggregation",
          `default (the subnet's /${lost.aggregation}): ${message}`,
        );
    }
    if (chosen === bits) continue;
    const problem = aggregationProblem(
      own.map((e) => e.range),
      family,
      chosen,
    );
    if (problem) {
      const message = `${problem}, which Herald refuses; routed addresses of this pool are announced as /${bits} instead`;
      for (const entry of own.filter((e) => e.aggregation === chosen)) {
        if (entry.explicit) entry.source.reader.warn("aggregation", message);
        else
          entry.source.reader.note("aggregation", `default (the subnet's /${chosen}): ${message}`);
      }
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
  const nodeSelector = reader.selector("nodeSelector");
  if (nodeSelector && Object.keys(nodeSelector).length > 0) {
    reader.warn(
      "nodeSelector",
      "Herald's AgentConfig applies to every node: these settings are converted for all of them",
    );
  }
  const local = reader.child("local");
  if (local) {
    // v1 spells them extlbint, localint and sendgarp; v2 dummyInterface, localInterface, garpConfig.
    const virtualField = local.has("dummyInterface") ? "dummyInterface" : "extlbint";
    const virtual = local.string(virtualField);
    if (virtual !== undefined && virtual !== "kube-lb0") {
      if (INTERFACE_NAME.test(virtual)) agent.virtualInterface = virtual;
      else local.warn(virtualField, `"${virtual}" is not an interface name; kube-lb0 is used`);
    }
    const localField = local.has("localInterface") ? "localInterface" : "localint";
    const localint = local.string(localField);
    const named = local.strings("interfaces") ?? [];
    const byDefault = localint === undefined || localint.trim() === "" || localint === "default";
    if (!byDefault) {
      if (isRegex(localint)) agent.localInterfaces = [localint, ...interfacePatterns(named)];
      else local.warn(localField, `"${localint}" is not a regular expression; left out`);
    } else if (named.length > 0) {
      local.note(
        "interfaces",
        "added to the interface of the default route in PureLB; Herald takes any interface whose subnet holds the address, these included, so none is written",
      );
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
    const garpConfig = local.child("garpConfig");
    if (garpConfig) readGarpConfig(garpConfig, agent);
    const addressConfig = local.child("addressConfig");
    if (addressConfig) readAddressConfig(addressConfig);
    local.unsupported(
      "addressGuard",
      "Herald does not filter traffic to its addresses; use a NetworkPolicy or the node's firewall",
    );
  }
  reader.finish();
}

/** v2's garpConfig: count and interval carry over; PureLB's defaults are 3 and 500 ms. */
function readGarpConfig(reader: FieldReader, agent: AgentConfigSpec): void {
  const enabled = reader.boolean("enabled");
  const count = reader.integer("count", { min: 0, max: 100 });
  const interval = reader.string("interval");
  const delay = reader.string("initialDelay");
  const verify = reader.boolean("verifyBeforeSend");
  if (enabled === false) {
    reader.warn(
      "enabled",
      "false: PureLB sent no gratuitous ARP; Herald sends them on every takeover (AgentConfig garp.count, 3) so that neighbours learn the new node at once; set garp.count: 0 to keep PureLB's silence",
    );
    return;
  }
  const garp: NonNullable<AgentConfigSpec["garp"]> = { count: count ?? 3, intervalMs: 500 };
  if (interval !== undefined) {
    const parsed = parseGoDuration(interval);
    const ms = "error" in parsed ? undefined : Math.round(parsed.seconds * 1000);
    if (ms !== undefined && ms >= 10 && ms <= 10000) garp.intervalMs = ms;
    else
      reader.warn("interval", `"${interval}" is not a duration from 10ms to 10s; 500ms is written`);
  }
  agent.garp = garp;
  if (delay !== undefined) {
    reader.warn(
      "initialDelay",
      "has no Herald equivalent: the agent sends the first gratuitous ARP / NA as soon as the address is on the interface",
    );
  }
  if (verify !== undefined) {
    reader.note(
      "verifyBeforeSend",
      `${verify}: Herald's agent sends them only while it holds the address: the repeats stop when the address leaves the node`,
    );
  }
}

/**
 * v2's address lifetimes. Herald puts every address on with no lifetime (permanent) and
 * noprefixroute, on node interfaces and on the virtual interface alike.
 */
function readAddressConfig(reader: FieldReader): void {
  for (const [side, expectNoPrefix] of [
    ["localInterface", true],
    ["dummyInterface", false],
  ] as const) {
    const config = reader.child(side);
    if (!config) continue;
    const valid = config.integer("validLifetime", { min: 0 });
    const preferred = config.integer("preferredLifetime", { min: 0 });
    const noPrefixRoute = config.boolean("noPrefixRoute");
    if (valid !== undefined && valid !== 0) {
      config.warn(
        "validLifetime",
        `${valid}: Herald's addresses are permanent; software that takes a permanent address for the node's own (Flannel, DHCP clients) may pick a service address: tell it the node's address or interface explicitly`,
      );
    } else if (valid === 0) {
      config.note("validLifetime", "0 (permanent) is what Herald does");
    }
    if (preferred !== undefined) {
      config.note("preferredLifetime", "Herald's addresses are always preferred (permanent)");
    }
    if (noPrefixRoute === true) {
      config.note(
        "noPrefixRoute",
        "true is what Herald does: every address is added with noprefixroute",
      );
    } else if (noPrefixRoute === false) {
      config.warn(
        "noPrefixRoute",
        `false: Herald adds every address with noprefixroute, so the kernel makes no prefix route for it${expectNoPrefix ? "" : `; with routing: External, let your daemon export the interface's addresses (BIRD's protocol direct), not kernel routes`}`,
      );
    }
  }
}
