// `herald status` without the API: lists of objects as the API server returns them in,
// the view an operator reads (pools, services waiting, who announces what, each node's
// agent) out, and its JSON; status-text.ts prints it as text. Nothing here trusts its
// input: objects come from a live cluster, written by other versions of Herald, by hand,
// or half-way through a change, so every field is read as `unknown` and a missing or
// malformed one becomes "-" or a problem on screen, never an exception.
//
// The JSON (`statusJson`) is the view itself, for scripts:
//   {
//     "summary": { "text", "pools", "poolsNotReady", "addresses": {"allocated","capacity"},
//                  "services": {"served","waiting","notAnnounced"}, "nodes", "staleNodes",
//                  "nodesWithProblems", "bgpSessions": {"total","down"}, "announcementProblems" },
//     "pools": [{ "name", "mode", "addresses": [], "capacity"|"allocated"|"available":
//                 {"ipv4","ipv6"} | null, "ready": true|false|null, "problem": string|null,
//                 "conditions": [{"type","status","reason","message","lastTransitionTime"}] }],
//     "waiting": [{ "namespace", "name", "addresses": [], "reason", "message" }],
//     "notAnnounced": [{ "namespace", "name", "address", "family",
//                        "event": {"message","time"} | null }],
//     "announcements": [{ "address", "family", "services": [], "mode": "Local"|"Routed"|null,
//                         "nodes": [{"node","interface"}], "problems": [] }],
//     "nodes": [{ "name", "announced": {"local","routed"}, "conditions": [not True only],
//                 "bgpSessions": [{"peer","state","since","uptimeSeconds","prefixesSent",
//                                  "prefixesReceived","lastError"}],
//                 "detector": {"alive":[],"suspects":[],"dead":[]} | null,
//                 "updateTime", "restartingUntil", "stale": [] }],
//     "nodesWithoutState": [],
//     "warnings": []
//   }
// Address counts are decimal strings (a /64 holds 2^64); times are RFC 3339 strings.
import { familyOf, formatAddress, parseAddress, type Family } from "../ip.ts";
import { RESTARTING_ANNOTATION } from "../api/nodestate.ts";
import { ALLOCATED_CONDITION, ANNOUNCING_ANNOTATION, HERALD_CLASS } from "../api/service.ts";
import { summaryText, type Summary } from "./status-summary.ts";

export interface StatusInput {
  pools: readonly unknown[];
  services: readonly unknown[];
  nodeStates: readonly unknown[];
  /** Undefined when they could not be read: whether a node is gone is then not judged. */
  nodes: readonly unknown[] | undefined;
  /** Undefined when they could not be read. Only NotAnnounced events on Services matter. */
  events: readonly unknown[] | undefined;
  /** As the controller's flag: services without a class are not Herald's. */
  classOnly: boolean;
  /** Milliseconds since the epoch, for uptimes. */
  now: number;
  /** What could not be read, said on screen so that a partial view is not taken for whole. */
  warnings: readonly string[];
}

export interface ConditionView {
  type: string;
  status: string;
  reason: string;
  message: string;
  lastTransitionTime: string | null;
}

export interface Counts {
  ipv4: string;
  ipv6: string;
}

export interface PoolView {
  name: string;
  mode: string;
  addresses: string[];
  capacity: Counts | null;
  allocated: Counts | null;
  available: Counts | null;
  /** null: the controller has not written a Ready condition (yet). */
  ready: boolean | null;
  problem: string | null;
  conditions: ConditionView[];
}

export interface WaitingService {
  namespace: string;
  name: string;
  /** What it holds meanwhile (a False condition may keep an address). */
  addresses: string[];
  reason: string;
  message: string;
}

export interface UnannouncedAddress {
  namespace: string;
  name: string;
  address: string;
  family: Family;
  /** The latest NotAnnounced event about this service (and address, where one names it). */
  event: { message: string; time: string | null } | null;
}

export interface Announcer {
  node: string;
  interface: string;
}

export interface Announcement {
  address: string;
  family: Family;
  services: string[];
  mode: "Local" | "Routed" | null;
  /** Local: the node the annotation names. Routed: every node whose NodeState lists it. */
  nodes: Announcer[];
  problems: string[];
}

export interface SessionView {
  peer: string;
  state: string;
  since: string | null;
  uptimeSeconds: number | null;
  prefixesSent: number | null;
  prefixesReceived: number | null;
  /** Why the session last failed, as the routing daemon put it. */
  lastError: string | null;
}

export interface NodeView {
  name: string;
  announced: { local: number; routed: number };
  /** Only the conditions that are not True: those are what an operator acts on. */
  conditions: ConditionView[];
  bgpSessions: SessionView[];
  detector: { alive: string[]; suspects: string[]; dead: string[] } | null;
  updateTime: string | null;
  restartingUntil: string | null;
  /** Why this NodeState probably no longer describes a running agent; empty when it does. */
  stale: string[];
}

export interface StatusView {
  summary: Summary;
  pools: PoolView[];
  waiting: WaitingService[];
  notAnnounced: UnannouncedAddress[];
  announcements: Announcement[];
  nodes: NodeView[];
  /** Kubernetes Nodes without a NodeState: no agent has reported from them. */
  nodesWithoutState: string[];
  warnings: string[];
}

// ---- reading objects whose shape is not guaranteed ----

type Fields = Record<string, unknown>;

function fields(value: unknown): Fields {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Fields)
    : {};
}

function text(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

function items(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function texts(value: unknown): string[] {
  return items(value).filter((v): v is string => typeof v === "string");
}

function whole(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

function metadata(object: unknown): { name: string; namespace: string; fields: Fields } {
  const meta = fields(fields(object).metadata);
  return { name: text(meta.name) ?? "", namespace: text(meta.namespace) ?? "", fields: meta };
}

function annotations(object: unknown): Record<string, string> {
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(fields(metadata(object).fields.annotations)))
    if (typeof value === "string") result[key] = value;
  return result;
}

function conditions(value: unknown): ConditionView[] {
  return items(value).flatMap((entry) => {
    const c = fields(entry);
    const type = text(c.type);
    if (type === undefined) return [];
    return [
      {
        type,
        status: text(c.status) ?? "Unknown",
        reason: text(c.reason) ?? "",
        message: text(c.message) ?? "",
        lastTransitionTime: text(c.lastTransitionTime) ?? null,
      },
    ];
  });
}

const DECIMAL = /^(0|[1-9][0-9]*)$/;

function counts(value: unknown): Counts | null {
  const c = fields(value);
  const ipv4 = text(c.ipv4);
  const ipv6 = text(c.ipv6);
  if (ipv4 === undefined || ipv6 === undefined || !DECIMAL.test(ipv4) || !DECIMAL.test(ipv6))
    return null;
  return { ipv4, ipv6 };
}

function time(value: unknown): number | undefined {
  const parsed = typeof value === "string" ? Date.parse(value) : NaN;
  return Number.isFinite(parsed) ? parsed : undefined;
}

/** Canonical form, so that "2001:DB8::1" in one object finds "2001:db8::1" in another. */
function canonical(address: string): string {
  const parsed = parseAddress(address);
  return parsed ? formatAddress(parsed) : address;
}

function byAddress(a: string, b: string): number {
  const x = parseAddress(a);
  const y = parseAddress(b);
  if (!x || !y) return x ? -1 : y ? 1 : a.localeCompare(b);
  if (x.family !== y.family) return x.family === "IPv4" ? -1 : 1;
  return x.value < y.value ? -1 : x.value > y.value ? 1 : 0;
}

const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);

// ---- the view ----

export function statusView(input: StatusInput): StatusView {
  const warnings = [...input.warnings];
  const pools = input.pools.map(poolView).sort(byName);
  const services = input.services
    .map((s) => serviceFacts(s, input.classOnly))
    .filter((s) => s.ours);
  const waiting = services.flatMap(waitingService);
  const notAnnounced = unannouncedAddresses(services, notAnnouncedEvents(input.events ?? []));
  const states = input.nodeStates.map((object) => ({ object, name: metadata(object).name }));
  const announcements = announcementsOf(services, states);
  const nodes = nodeViews(states, input.nodes, input.now);
  const withState = new Set(states.map((s) => s.name));
  const nodesWithoutState = (input.nodes ?? [])
    .map((node) => metadata(node).name)
    .filter((name) => name !== "" && !withState.has(name))
    .sort();
  if (input.events === undefined)
    warnings.push("events could not be read: NotAnnounced reasons are not shown");
  if (input.nodes === undefined)
    warnings.push("Nodes could not be read: NodeStates of deleted or NotReady nodes are not found");
  const summary = summarise({
    pools,
    // Served: holds an address and is not waiting for another (a False condition can keep one).
    served: services.filter((s) => s.addresses.length > 0 && waitingService(s).length === 0).length,
    waiting: waiting.length,
    notAnnounced: new Set(notAnnounced.map((u) => `${u.namespace}/${u.name}`)).size,
    nodes,
    announcementProblems: announcements.filter((a) => a.problems.length > 0).length,
  });
  return {
    summary,
    pools,
    waiting,
    notAnnounced,
    announcements,
    nodes,
    nodesWithoutState,
    warnings,
  };
}

// ---- pools ----

function poolView(object: unknown): PoolView {
  const { name, fields: meta } = metadata(object);
  const spec = fields(fields(object).spec);
  const status = fields(fields(object).status);
  const poolConditions = conditions(status.conditions);
  const ready = poolConditions.find((c) => c.type === "Ready");
  const conflict = poolConditions.find((c) => c.type === "Conflict" && c.status === "True");
  const generation = whole(meta.generation);
  const observed = whole(status.observedGeneration);
  let problem: string | null = null;
  if (ready === undefined) problem = "no status yet: is a controller running and leading?";
  else if (ready.status !== "True") problem = `${ready.reason || "NotReady"}: ${ready.message}`;
  else if (conflict) problem = `Conflict: ${conflict.message}`;
  else if (generation !== null && observed !== null && observed < generation)
    problem = `status describes generation ${observed}, the spec is at ${generation}: the controller has not caught up`;
  return {
    name: name || "(no name)",
    mode: text(spec.announce) ?? "Auto",
    addresses: texts(spec.addresses),
    capacity: counts(status.capacity),
    allocated: counts(status.allocated),
    available: counts(status.available),
    ready: ready === undefined ? null : ready.status === "True",
    problem,
    conditions: poolConditions,
  };
}

// ---- services ----

interface ServiceFacts {
  namespace: string;
  name: string;
  /** Of Herald's class, or of none unless --class-only, and type LoadBalancer. */
  ours: boolean;
  /** Canonical ingress IPs; hostnames are not Herald's. */
  addresses: string[];
  annotations: Record<string, string>;
  allocated: ConditionView | undefined;
}

function serviceFacts(object: unknown, classOnly: boolean): ServiceFacts {
  const { name, namespace } = metadata(object);
  const spec = fields(fields(object).spec);
  const status = fields(fields(object).status);
  const loadBalancerClass = text(spec.loadBalancerClass);
  const ours =
    name !== "" &&
    spec.type === "LoadBalancer" &&
    (loadBalancerClass === HERALD_CLASS || (!loadBalancerClass && !classOnly));
  const addresses = items(fields(status.loadBalancer).ingress)
    .map((entry) => text(fields(entry).ip))
    .filter((ip): ip is string => ip !== undefined && ip !== "")
    .map(canonical);
  return {
    namespace: namespace || "default",
    name,
    ours,
    addresses,
    annotations: annotations(object),
    allocated: conditions(status.conditions).find((c) => c.type === ALLOCATED_CONDITION),
  };
}

const NO_CONDITION_MESSAGE =
  `no ${ALLOCATED_CONDITION} condition: no controller leads, or it serves only ` +
  `loadBalancerClass ${HERALD_CLASS} (--class-only)`;

function waitingService(service: ServiceFacts): WaitingService[] {
  const { namespace, name, addresses, allocated } = service;
  if (allocated?.status === "False" || allocated?.status === "Unknown")
    return [{ namespace, name, addresses, reason: allocated.reason, message: allocated.message }];
  if (addresses.length > 0) return [];
  if (allocated === undefined)
    return [{ namespace, name, addresses, reason: "NoCondition", message: NO_CONDITION_MESSAGE }];
  return [
    {
      namespace,
      name,
      addresses,
      reason: "NoAddress",
      message: `${ALLOCATED_CONDITION} is True but status.loadBalancer.ingress holds no IP`,
    },
  ];
}

interface NotAnnouncedEvent {
  message: string;
  time: number | undefined;
  timeText: string | null;
}

/** "namespace/name" -> NotAnnounced events about that Service. */
function notAnnouncedEvents(events: readonly unknown[]): Map<string, NotAnnouncedEvent[]> {
  const result = new Map<string, NotAnnouncedEvent[]>();
  for (const object of events) {
    const event = fields(object);
    const involved = fields(event.involvedObject);
    if (event.reason !== "NotAnnounced" || involved.kind !== "Service") continue;
    const key = `${text(involved.namespace) ?? metadata(object).namespace}/${text(involved.name) ?? ""}`;
    // Events carry their time in whichever field their writer filled.
    const candidates = [
      event.lastTimestamp,
      event.eventTime,
      fields(event.series).lastObservedTime,
      event.firstTimestamp,
      metadata(object).fields.creationTimestamp,
    ];
    const timeText = candidates.find((c) => time(c) !== undefined);
    const list = result.get(key) ?? [];
    list.push({
      message: text(event.message) ?? "",
      time: time(timeText),
      timeText: text(timeText) ?? null,
    });
    result.set(key, list);
  }
  return result;
}

function unannouncedAddresses(
  services: readonly ServiceFacts[],
  events: Map<string, NotAnnouncedEvent[]>,
): UnannouncedAddress[] {
  const result: UnannouncedAddress[] = [];
  for (const service of services) {
    for (const address of service.addresses) {
      const family = familyOf(address);
      if (service.annotations[ANNOUNCING_ANNOTATION[family]] !== undefined) continue;
      const mine = events.get(`${service.namespace}/${service.name}`) ?? [];
      // The agent's message starts with the address; prefer the event about this one.
      const about = mine.filter((e) => e.message.startsWith(`${address} `));
      const latest = latestEvent(about.length > 0 ? about : mine);
      result.push({
        namespace: service.namespace,
        name: service.name,
        address,
        family,
        event: latest ? { message: latest.message, time: latest.timeText } : null,
      });
    }
  }
  return result.sort(
    (a, b) =>
      `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`) ||
      byAddress(a.address, b.address),
  );
}

function latestEvent(events: readonly NotAnnouncedEvent[]): NotAnnouncedEvent | undefined {
  let latest: NotAnnouncedEvent | undefined;
  for (const event of events)
    if (latest === undefined || (event.time ?? 0) >= (latest.time ?? 0)) latest = event;
  return latest;
}

// ---- announcements ----

interface Listed {
  node: string;
  mode: string;
  interface: string;
  services: string[];
}

/** What annotations say, checked against what NodeStates say, address by address. */
function announcementsOf(
  services: readonly ServiceFacts[],
  states: readonly { object: unknown; name: string }[],
): Announcement[] {
  // address -> the NodeState entries that list it
  const listed = new Map<string, Listed[]>();
  for (const { object, name } of states) {
    for (const entry of items(fields(fields(object).status).announced)) {
      const a = fields(entry);
      const address = text(a.address);
      if (!address) continue;
      const key = canonical(address);
      const list = listed.get(key) ?? [];
      list.push({
        node: name,
        mode: text(a.mode) ?? "",
        interface: text(a.interface) ?? "",
        services: texts(a.services),
      });
      listed.set(key, list);
    }
  }
  // address -> "namespace/name" of each service holding it -> its announcing annotation
  const held = new Map<string, Map<string, string | undefined>>();
  for (const service of services) {
    for (const address of service.addresses) {
      const annotation = service.annotations[ANNOUNCING_ANNOTATION[familyOf(address)]];
      const holders = held.get(address) ?? new Map<string, string | undefined>();
      holders.set(`${service.namespace}/${service.name}`, annotation);
      held.set(address, holders);
    }
  }
  const withState = new Set(states.map((s) => s.name));
  const addresses = [...new Set([...held.keys(), ...listed.keys()])].sort(byAddress);
  return addresses.map((address) =>
    announcement(address, held.get(address), listed.get(address) ?? [], withState),
  );
}

function announcement(
  address: string,
  holders: Map<string, string | undefined> | undefined,
  listed: readonly Listed[],
  withState: ReadonlySet<string>,
): Announcement {
  const family = familyOf(address);
  const key = ANNOUNCING_ANNOTATION[family];
  const services = [
    ...new Set([...(holders?.keys() ?? []), ...listed.flatMap((l) => l.services)]),
  ].sort();
  const local = listed.filter((l) => l.mode === "Local");
  const routed = listed.filter((l) => l.mode === "Routed");
  const asListed = (l: Listed): Announcer => ({ node: l.node, interface: l.interface });
  const row: Announcement = {
    address,
    family,
    services,
    mode: listedMode(listed),
    nodes: listed.map(asListed),
    problems: [],
  };
  const nodesText = (list: readonly Listed[]) => list.map((l) => l.node).join(", ");
  if (holders === undefined) {
    row.problems.push(`no Herald service holds it, yet ${nodesText(listed)} announce it`);
    return row;
  }
  const values = [...new Set([...holders.values()].filter((v) => v !== undefined))];
  if (values.length > 1) row.problems.push(`its services disagree: ${values.join(" / ")}`);
  const value = values[0];
  if (value === undefined) {
    row.problems.push(
      listed.length > 0
        ? `no ${key} annotation, yet ${nodesText(listed)} announce it`
        : "not announced",
    );
    return row;
  }
  if (value === "routed") {
    row.mode = "Routed";
    row.nodes = routed.map(asListed);
    if (routed.length === 0) row.problems.push("annotated routed, but no NodeState lists it");
    if (local.length > 0)
      row.problems.push(`also on an interface of ${nodesText(local)} (NodeState says Local)`);
    return row;
  }
  const named = /^(\S+) (\S+)$/.exec(value);
  if (!named) {
    row.problems.push(`malformed ${key} annotation: ${JSON.stringify(value)}`);
    return row;
  }
  const node = named[1]!;
  const iface = named[2]!;
  row.mode = "Local";
  row.nodes = [{ node, interface: iface }];
  const own = local.find((l) => l.node === node);
  if (!withState.has(node)) row.problems.push(`${node} has no NodeState`);
  else if (own === undefined) row.problems.push(`NodeState ${node} does not list it`);
  else if (own.interface !== iface)
    row.problems.push(`NodeState ${node} lists it on ${own.interface}, not ${iface}`);
  const others = local.filter((l) => l.node !== node);
  if (others.length > 0)
    row.problems.push(
      `also on ${others.map((l) => `${l.node} ${l.interface}`).join(", ")}: more than one node answers ARP/NDP`,
    );
  if (routed.length > 0) row.problems.push(`also routed by ${nodesText(routed)}`);
  return row;
}

function listedMode(listed: readonly Listed[]): "Local" | "Routed" | null {
  const mode = listed[0]?.mode;
  return mode === "Local" || mode === "Routed" ? mode : null;
}

// ---- nodes ----

function nodeViews(
  states: readonly { object: unknown; name: string }[],
  nodes: readonly unknown[] | undefined,
  now: number,
): NodeView[] {
  // node name -> its Node object's Ready condition (undefined: the Node has none)
  const readiness = new Map<string, ConditionView | undefined>();
  for (const node of nodes ?? []) {
    const ready = conditions(fields(fields(node).status).conditions).find(
      (c) => c.type === "Ready",
    );
    readiness.set(metadata(node).name, ready);
  }
  const views = states.map(({ object, name }) => {
    const view = nodeView(object, name, now);
    if (nodes !== undefined && !readiness.has(name)) view.stale.push("its Node no longer exists");
    const ready = readiness.get(name);
    if (ready !== undefined && ready.status !== "True")
      view.stale.push(`its Node is not Ready (${ready.reason || ready.status})`);
    const peers = states.filter((s) => s.name !== name).map((s) => detectorOf(s.object));
    const watching = peers.filter((d) => d?.members.includes(name));
    const deadTo = watching.filter((d) => d?.dead.includes(name)).length;
    if (deadTo > 0)
      view.stale.push(`dead to ${deadTo} of ${watching.length} peers' failure detectors`);
    return view;
  });
  return views.sort(byName);
}

function detectorOf(object: unknown): { members: string[]; dead: string[] } | undefined {
  const status = fields(fields(object).status);
  if (status.detector === undefined) return undefined;
  const detector = fields(status.detector);
  return { members: texts(detector.members), dead: texts(detector.dead) };
}

function nodeView(object: unknown, name: string, now: number): NodeView {
  const raw = fields(object);
  const status = fields(raw.status);
  const announced = items(status.announced).map((a) => fields(a).mode);
  const detector = status.detector;
  const restarting = annotations(object)[RESTARTING_ANNOTATION];
  const stale: string[] = [];
  if (raw.status === undefined) stale.push("no status: its agent has never reported");
  const restartingUntil = time(restarting);
  if (restartingUntil !== undefined && restartingUntil < now)
    stale.push(`its agent stopped to restart and has not announced since ${restarting}`);
  return {
    name: name || "(no name)",
    announced: {
      local: announced.filter((m) => m === "Local").length,
      routed: announced.filter((m) => m === "Routed").length,
    },
    conditions: conditions(status.conditions).filter((c) => c.status !== "True"),
    bgpSessions: items(status.bgpSessions).map((s) => sessionView(s, now)),
    detector: detector === undefined ? null : detectorView(detector),
    updateTime: text(status.updateTime) ?? null,
    restartingUntil: restarting ?? null,
    stale,
  };
}

function sessionView(value: unknown, now: number): SessionView {
  const s = fields(value);
  const since = time(s.since);
  return {
    peer: text(s.peer) ?? "?",
    state: text(s.state) ?? "?",
    since: text(s.since) ?? null,
    uptimeSeconds: since !== undefined && since <= now ? Math.floor((now - since) / 1000) : null,
    prefixesSent: whole(s.prefixesSent),
    prefixesReceived: whole(s.prefixesReceived),
    lastError: text(s.lastError) || null,
  };
}

function detectorView(value: unknown): NodeView["detector"] {
  const d = fields(value);
  const suspects = texts(d.suspects);
  const dead = texts(d.dead);
  const alive = texts(d.members).filter((m) => !suspects.includes(m) && !dead.includes(m));
  return { alive, suspects, dead };
}

// ---- summary ----

function summarise(facts: {
  pools: readonly PoolView[];
  served: number;
  waiting: number;
  notAnnounced: number;
  nodes: readonly NodeView[];
  announcementProblems: number;
}): Summary {
  let allocated = 0n;
  let capacity = 0n;
  for (const pool of facts.pools) {
    if (pool.allocated) allocated += BigInt(pool.allocated.ipv4) + BigInt(pool.allocated.ipv6);
    if (pool.capacity) capacity += BigInt(pool.capacity.ipv4) + BigInt(pool.capacity.ipv6);
  }
  const sessions = facts.nodes.flatMap((n) => n.bgpSessions);
  const down = sessions.filter((s) => s.state !== "Established").length;
  const summary: Omit<Summary, "text"> = {
    pools: facts.pools.length,
    poolsNotReady: facts.pools.filter((p) => p.ready !== true).length,
    addresses: { allocated: allocated.toString(), capacity: capacity.toString() },
    services: { served: facts.served, waiting: facts.waiting, notAnnounced: facts.notAnnounced },
    nodes: facts.nodes.length,
    staleNodes: facts.nodes.filter((n) => n.stale.length > 0).length,
    nodesWithProblems: facts.nodes.filter((n) => n.stale.length > 0 || n.conditions.length > 0)
      .length,
    bgpSessions: { total: sessions.length, down },
    announcementProblems: facts.announcementProblems,
  };
  return { text: summaryText(summary), ...summary };
}

export function statusJson(view: StatusView): string {
  return `${JSON.stringify(view, null, 2)}\n`;
}
