// The agent's decision, whole and pure: one snapshot of what it knows in, what this node
// must hold out. agent.ts takes the snapshot (its caches, its kernel, the detector's
// verdicts) and hands this plan to the effectors (kernel, BIRD, reporter); nothing here
// reads a cache, a clock or the kernel.
import type { NodeInterface } from "../api/nodestate.ts";
import { FAMILY_BITS, parseAddress } from "../ip.ts";
import type { Pool } from "../ipam/pool.ts";
import { PoolSet } from "../ipam/pool-set.ts";
import {
  decideAnnouncements,
  type AddressDecision,
  type NodeInfo,
  type PoolInfo,
  type ServiceInfo,
} from "./announcements.ts";
import { poolInfo } from "./cluster-view.ts";
import type { KernelInterface } from "./kernel/interfaces.ts";
import type { AddressAssignment } from "./kernel/plan.ts";
import { regexProblems } from "./placement.ts";

/** Everything one reconcile decides from, as plain data taken at one instant. */
export interface AgentSnapshot {
  /** This node's name. */
  readonly self: string;
  /** AgentConfig's interface regexes for local addresses (invalid ones are dropped here). */
  readonly localInterfaces: readonly string[];
  /** This node's interfaces, as its kernel lists them now. */
  readonly interfaces: readonly KernelInterface[];
  /** Other nodes' interfaces as their NodeStates publish them; absent: not published yet. */
  readonly published: ReadonlyMap<string, readonly NodeInterface[]>;
  readonly nodes: ReadonlyMap<string, NodeInfo>;
  /** The nodes that count as alive for elections (this node always does). */
  readonly alive: ReadonlySet<string>;
  readonly pools: readonly Pool[];
  readonly services: readonly ServiceInfo[];
  /** Cut off from most peers and from the API server: hold no local address. */
  readonly isolated: boolean;
  /** Now, on this node's clock (ms): for how long a handover has been waiting. */
  readonly now: number;
  /** The local addresses this node holds now, each with its interface. */
  readonly holding: ReadonlyMap<string, string>;
  /** The routed addresses this node routes now. */
  readonly routing: ReadonlySet<string>;
  /** Local address → the other nodes whose NodeState says they announce it. */
  readonly announcedBy: ReadonlyMap<string, ReadonlySet<string>>;
  /** Routed address → the other nodes whose NodeState says they route it (flow-handoff.ts). */
  readonly routedBy: ReadonlyMap<string, ReadonlySet<string>>;
  /** Local addresses being handed over, since when (the previous plan's `handingOver`). */
  readonly handingOver: ReadonlyMap<string, number>;
  /** Local addresses handed over and kept for their connections, since when (the previous plan's). */
  readonly draining: ReadonlyMap<string, number>;
  /** Routed addresses in their graceful shutdown, since when (the previous plan's). */
  readonly shuttingDown: ReadonlyMap<string, number>;
  readonly maintenance: {
    readonly handoverTimeoutMs: number;
    readonly gracefulShutdownMs: number;
    readonly connectionDrainMs: number;
  };
}

export interface NodePlan {
  /** Every address's decision, for every node (the reporter publishes them). */
  readonly decisions: readonly AddressDecision[];
  /** Local addresses this node announces, each with its interface. */
  readonly local: readonly AddressDecision[];
  /** Routed addresses this node puts on its virtual interface. */
  readonly routed: readonly AddressDecision[];
  /** For the next snapshot: the local addresses still being handed over, since when. */
  readonly handingOver: ReadonlyMap<string, number>;
  /** For the next snapshot: the local addresses handed over and draining, since when. */
  readonly draining: ReadonlyMap<string, number>;
  /** For the next snapshot: the routed addresses in graceful shutdown, since when. */
  readonly shuttingDown: ReadonlyMap<string, number>;
}

export function planNode(snapshot: AgentSnapshot): NodePlan {
  const poolSet = new PoolSet(snapshot.pools);
  const regexes = snapshot.localInterfaces.filter(validRegex);
  const infos = new Map<string, PoolInfo>(
    snapshot.pools.map((pool) => [pool.name, poolInfo(pool, regexes, validRegex)]),
  );
  // The agent's own addresses never say which link a subnet is on (choose.ts isSubnet):
  // leave them out once, rather than step over thousands of them for every address.
  const ownInterfaces = snapshot.interfaces.map((iface) => ({
    ...iface,
    addresses: iface.addresses.filter((entry) => !entry.owned),
  }));
  const interfaces = new Map<string, readonly KernelInterface[] | readonly NodeInterface[]>(
    snapshot.published,
  );
  interfaces.set(snapshot.self, ownInterfaces);
  const pools = new Map<string, PoolInfo>();
  for (const service of snapshot.services) {
    for (const text of service.addresses) {
      const address = parseAddress(text);
      const pool = address && poolSet.owner(address.family, address.value);
      const info = pool && infos.get(pool.name);
      if (info) pools.set(text, info);
    }
  }
  const decisions = decideAnnouncements({
    nodes: snapshot.nodes,
    alive: snapshot.alive,
    pools,
    services: snapshot.services,
    interfaces,
  });
  const self = snapshot.self;
  const local = snapshot.isolated
    ? []
    : decisions.filter((d) => d.mode === "Local" && d.announcer === self && d.interface);
  // Routed addresses stay while cut off: the router drops this node's routes with its
  // BGP session, and equal routes from several nodes are no conflict.
  const routed = decisions.filter((d) => d.mode === "Routed" && d.routedBy?.includes(self));
  const handover = snapshot.isolated
    ? { kept: [], since: new Map(), draining: new Map() }
    : keptForHandover(snapshot, decisions);
  const shutdown = inGracefulShutdown(snapshot, decisions);
  return {
    decisions,
    local: [...local, ...handover.kept],
    routed: [...routed, ...shutdown.kept],
    handingOver: handover.since,
    draining: handover.draining,
    shuttingDown: shutdown.since,
  };
}

/**
 * Make-before-break: a local address this node holds that is now elected to another
 * (alive) node stays here until that node's NodeState says it announces the address — it
 * has put it on its interface and sent its gratuitous ARP / NA — or for at most
 * handoverTimeoutMs. Both hold it meanwhile; the clients follow the new holder's
 * announcement, and none finds the address gone in between. Then it stays connectionDrainMs
 * more, answering no neighbour (`draining`): the new holder passes it the segments of the
 * connections it accepted (flow-handoff.ts), and they finish here.
 */
function keptForHandover(
  snapshot: AgentSnapshot,
  decisions: readonly AddressDecision[],
): { kept: AddressDecision[]; since: Map<string, number>; draining: Map<string, number> } {
  const kept: AddressDecision[] = [];
  const since = new Map<string, number>();
  const draining = new Map<string, number>();
  const { handoverTimeoutMs, connectionDrainMs } = snapshot.maintenance;
  for (const decision of decisions) {
    const iface = snapshot.holding.get(decision.address);
    const next = decision.announcer;
    if (iface === undefined || decision.mode !== "Local" || !next || next === snapshot.self)
      continue;
    if (snapshot.announcedBy.get(decision.address)?.has(next)) {
      const drainStarted = snapshot.draining.get(decision.address) ?? snapshot.now;
      if (snapshot.now - drainStarted >= connectionDrainMs) continue;
      draining.set(decision.address, drainStarted);
      kept.push({ ...decision, interface: iface, handingOverTo: next, draining: true });
      continue;
    }
    const started = snapshot.handingOver.get(decision.address) ?? snapshot.now;
    if (snapshot.now - started >= handoverTimeoutMs) continue;
    since.set(decision.address, started);
    kept.push({ ...decision, interface: iface, handingOverTo: next });
  }
  return { kept, since, draining };
}

/**
 * Where a leaving node keeps a routed address once it has withdrawn it: the kernel still
 * delivers the address here, and neither BIRD (which reads only the virtual interface)
 * nor a daemon redistributing that interface advertises it.
 */
export const DRAIN_INTERFACE = "lo";

/**
 * A leaving node's routes, which the other nodes now carry too, stay for
 * gracefulShutdownMs with the GRACEFUL_SHUTDOWN community before they are withdrawn:
 * routers that honour it (RFC 8326) move traffic to the other next hops first. Then each
 * address stays connectionDrainMs more on DRAIN_INTERFACE (`draining`), unadvertised:
 * a router that ignores the community moves the traffic only at the withdrawal, and what
 * it still sends here until it has processed it, and the connections it moved, find the
 * address rather than a node that no longer has it.
 */
function inGracefulShutdown(
  snapshot: AgentSnapshot,
  decisions: readonly AddressDecision[],
): { kept: AddressDecision[]; since: Map<string, number> } {
  const kept: AddressDecision[] = [];
  const since = new Map<string, number>();
  if (!snapshot.nodes.get(snapshot.self)?.leaving) return { kept, since };
  const { gracefulShutdownMs, connectionDrainMs } = snapshot.maintenance;
  for (const decision of decisions) {
    if (decision.mode !== "Routed" || !snapshot.routing.has(decision.address)) continue;
    if (decision.routedBy?.includes(snapshot.self) || !decision.routedBy?.length) continue;
    const started = snapshot.shuttingDown.get(decision.address) ?? snapshot.now;
    const elapsed = snapshot.now - started;
    if (elapsed >= gracefulShutdownMs + connectionDrainMs) continue;
    since.set(decision.address, started);
    kept.push(
      elapsed < gracefulShutdownMs
        ? { ...decision, gracefulShutdown: true }
        : { ...decision, gracefulShutdown: true, draining: true },
    );
  }
  return { kept, since };
}

/** When a routed address in its graceful shutdown changes phase next: withdrawal, then gone. */
export function shutdownPhaseEnd(
  since: number,
  now: number,
  maintenance: AgentSnapshot["maintenance"],
): number {
  const withdrawal = since + maintenance.gracefulShutdownMs;
  return now < withdrawal ? withdrawal : withdrawal + maintenance.connectionDrainMs;
}

/**
 * The kernel addresses a plan needs: local ones as host addresses on their interface,
 * routed ones with their prefix on the virtual interface (none while it cannot be made),
 * except those draining after their withdrawal, as host addresses on DRAIN_INTERFACE.
 */
export function desiredAddresses(
  plan: NodePlan,
  virtualInterface: string | undefined,
): AddressAssignment[] {
  const local = plan.local.map((d) => ({
    address: d.address,
    prefixLength: FAMILY_BITS[d.family],
    interface: d.interface!,
  }));
  if (virtualInterface === undefined) return local;
  return [
    ...local,
    ...plan.routed.map((d) =>
      d.draining
        ? { address: d.address, prefixLength: FAMILY_BITS[d.family], interface: DRAIN_INTERFACE }
        : {
            address: d.address,
            prefixLength: d.prefixLength ?? FAMILY_BITS[d.family],
            interface: virtualInterface,
          },
    ),
  ];
}

export function validRegex(regex: string): boolean {
  return regexProblems([regex]).length === 0;
}
