// Which node announces which address, and how (DESIGN §5). Pure: every agent runs this on
// the same view of the cluster and reaches the same answer, so no agent has to ask another.
//
// For each address held by LoadBalancer services:
//  - the pool that owns it gives the mode (Local, Routed, or Auto) and a node selector;
//  - a node is eligible when it is Ready, has its network, is not excluded by label, is
//    selected by the pool, is alive to the failure detector, and — with
//    externalTrafficPolicy Local — has a serving endpoint of the service itself;
//  - nothing is announced while no service on the address has a serving endpoint;
//  - Local: of the eligible nodes that can place the address on an interface, the one with
//    the highest rendezvous weight announces it;
//  - Auto: Local when some eligible node can place it, Routed otherwise.
import type { Labels, LabelSelector } from "../api/selector.ts";
import { selectorMatches } from "../api/selector.ts";
import { FAMILY_BITS, familyOf, type Family } from "../ip.ts";
import type { NodeInterface } from "../api/nodestate.ts";
import { electAnnouncer } from "./election.ts";
import type { KernelInterface } from "./kernel/interfaces.ts";
import { placeOn, type Placement } from "./placement.ts";

/** Kubernetes' own label for nodes that must not carry load-balancer traffic. */
export const EXCLUDE_LABEL = "node.kubernetes.io/exclude-from-external-load-balancers";

export interface NodeInfo {
  name: string;
  labels: Labels;
  ready: boolean;
  networkUnavailable: boolean;
  /**
   * Why the node is going away (cordoned, tainted for removal, its agent leaving), if it
   * is: it announces only what no other eligible node can, and hands the rest over.
   */
  leaving?: string;
}

export interface EndpointInfo {
  nodeName: string | undefined;
  serving: boolean;
}

export interface ServiceInfo {
  /** "namespace/name" */
  key: string;
  /** Held addresses, canonical text. */
  addresses: readonly string[];
  trafficPolicy: "Cluster" | "Local";
  endpoints: readonly EndpointInfo[];
}

export interface PoolInfo {
  name: string;
  announce: "Auto" | "Local" | "Routed";
  nodeSelector: LabelSelector | undefined;
  /** Interface regexes for local addresses (the pool's, else AgentConfig's); empty: by subnet. */
  interfaces: readonly string[];
  /** Prefix length routed addresses are announced with (DESIGN §3 `aggregation`). */
  aggregation: Readonly<Record<Family, number>>;
}

export interface AnnouncementInputs {
  nodes: ReadonlyMap<string, NodeInfo>;
  /** The nodes alive to the failure detector; the agent's own node always is, to itself. */
  alive: ReadonlySet<string>;
  /** Each held address's pool (canonical text -> pool); absent when no pool owns it. */
  pools: ReadonlyMap<string, PoolInfo>;
  services: readonly ServiceInfo[];
  /**
   * Where each node can put a local address: this node's interfaces as its kernel lists
   * them, the others' as their NodeState publishes them. A node absent here has published
   * nothing yet.
   */
  interfaces: ReadonlyMap<string, readonly KernelInterface[] | readonly NodeInterface[]>;
}

export interface AddressDecision {
  address: string;
  family: Family;
  /** Every service holding the address, sorted. */
  services: string[];
  pool: string | undefined;
  mode: "Local" | "Routed" | undefined;
  /** Local: the one announcing node. */
  announcer?: string;
  interface?: string;
  /** Routed: every eligible node. */
  routedBy?: string[];
  /**
   * Routed: the prefix length on the virtual interface — the pool's aggregation, or a host
   * route when a service on the address has externalTrafficPolicy Local (only nodes with
   * an endpoint announce it, so it must not be folded into a shorter prefix).
   */
  prefixLength?: number;
  /** Why the address is not announced (or not by every node it could be). */
  problem?: string;
  /**
   * Local, in this node's plan only: it keeps an address elected elsewhere until that node
   * announces it (make-before-break); the node it hands over to.
   */
  handingOverTo?: string;
  /**
   * In this node's plan only. Local, with handingOverTo: the new holder announces it; this
   * node keeps it a moment, answering no neighbour, while its own connections finish.
   * Routed, with gracefulShutdown: withdrawn, and kept a moment unadvertised (plan.ts
   * DRAIN_INTERFACE) for the same reason.
   */
  draining?: boolean;
  /**
   * Routed, in this node's plan only: a leaving node's route kept a moment longer with
   * the GRACEFUL_SHUTDOWN community, so that routers prefer the other nodes first.
   */
  gracefulShutdown?: boolean;
  /**
   * The node that reports `problem` (events are written once, not by every agent): the
   * rendezvous winner among the nodes alive to the failure detector.
   */
  reporter?: string;
}

/** Why a node cannot announce for a pool, or undefined when it can. */
export function nodeProblem(
  node: NodeInfo | undefined,
  pool: PoolInfo,
  alive: boolean,
): string | undefined {
  if (!node) return "no Node object";
  if (!node.ready) return "not Ready";
  if (node.networkUnavailable) return "NetworkUnavailable";
  if (node.labels[EXCLUDE_LABEL] !== undefined) return `labelled ${EXCLUDE_LABEL}`;
  if (pool.nodeSelector && !selectorMatches(pool.nodeSelector, node.labels))
    return `not selected by pool ${pool.name}`;
  if (!alive) return "dead to the failure detector";
  return undefined;
}

export function decideAnnouncements(inputs: AnnouncementInputs): AddressDecision[] {
  const byAddress = new Map<string, ServiceInfo[]>();
  for (const service of inputs.services) {
    for (const address of service.addresses) {
      const holders = byAddress.get(address);
      if (holders) holders.push(service);
      else byAddress.set(address, [service]);
    }
  }
  const living = [...inputs.nodes.keys()].filter((name) => inputs.alive.has(name));
  const decisions: AddressDecision[] = [];
  for (const [address, holders] of byAddress) {
    const decision = decide(address, holders, inputs);
    if (decision.problem !== undefined) decision.reporter = electAnnouncer(address, living);
    decisions.push(decision);
  }
  return decisions.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
}

function decide(
  address: string,
  holders: readonly ServiceInfo[],
  inputs: AnnouncementInputs,
): AddressDecision {
  const decision: AddressDecision = {
    address,
    family: familyOf(address),
    services: holders.map((s) => s.key).sort(),
    pool: undefined,
    mode: undefined,
  };
  const pool = inputs.pools.get(address);
  if (!pool) return { ...decision, problem: "no AddressPool owns this address" };
  decision.pool = pool.name;

  const serving = holders.filter((s) => s.endpoints.some((e) => e.serving));
  if (serving.length === 0) {
    return {
      ...decision,
      mode: pool.announce === "Routed" ? "Routed" : "Local",
      problem: "no serving endpoint",
    };
  }
  // Services sharing an address have the same traffic policy and, for Local, the same
  // selector (sharing rules, DESIGN §4.6), so they elect together.
  const local = serving.some((s) => s.trafficPolicy === "Local");
  const withEndpoint = new Set<string>();
  if (local) {
    for (const service of serving)
      for (const endpoint of service.endpoints)
        if (endpoint.serving && endpoint.nodeName) withEndpoint.add(endpoint.nodeName);
  }

  const eligible: string[] = [];
  for (const node of inputs.nodes.values()) {
    if (nodeProblem(node, pool, inputs.alive.has(node.name)) !== undefined) continue;
    if (local && !withEndpoint.has(node.name)) continue;
    eligible.push(node.name);
  }
  eligible.sort();
  // A leaving node stays eligible only where no other is: draining the last node of a
  // pool must not take its addresses off the network before the node itself goes.
  const staying = eligible.filter((name) => !inputs.nodes.get(name)?.leaving);
  const candidates = staying.length > 0 ? staying : eligible;
  if (eligible.length === 0) {
    return {
      ...decision,
      mode: pool.announce === "Routed" ? "Routed" : "Local",
      problem: local
        ? "no eligible node has a serving endpoint (externalTrafficPolicy: Local)"
        : "no eligible node",
    };
  }
  const routed = (): AddressDecision => ({
    ...decision,
    mode: "Routed",
    routedBy: candidates,
    prefixLength: local ? FAMILY_BITS[decision.family] : pool.aggregation[decision.family],
  });
  if (pool.announce === "Routed") return routed();

  const placed = new Map<string, string>();
  const refusals: string[] = [];
  for (const node of eligible) {
    const placement = placementOn(node, address, pool, inputs);
    if ("interface" in placement) placed.set(node, placement.interface);
    else refusals.push(`${node}: ${placement.error}`);
  }
  const placedStaying = [...placed.keys()].filter((name) => !inputs.nodes.get(name)?.leaving);
  const announcer = electAnnouncer(
    address,
    placedStaying.length > 0 ? placedStaying : placed.keys(),
  );
  if (announcer !== undefined) {
    return { ...decision, mode: "Local", announcer, interface: placed.get(announcer) };
  }
  if (pool.announce === "Auto") return routed();
  return {
    ...decision,
    mode: "Local",
    problem: `no eligible node can hold the address on an interface (${refusals.join("; ")})`,
  };
}

function placementOn(
  node: string,
  address: string,
  pool: PoolInfo,
  inputs: AnnouncementInputs,
): Placement {
  const interfaces = inputs.interfaces.get(node);
  // A peer alive to the detector whose NodeState has not arrived yet (both agents just
  // started) is assumed able to hold the address: otherwise every agent would see only
  // itself able and all would announce. If it cannot, its NodeState soon says so.
  if (!interfaces) return { interface: "(unpublished)" };
  return placeOn(address, interfaces, pool.interfaces);
}
