// Which connections a node passes to another for a moment: after a local-mode handover,
// the new holder passes the old one's; while a node going away routes an address in its
// graceful shutdown, the others pass it its own (see kernel/handoff-rules.ts for how).
// Pure: agent.ts brings the snapshot and applies the result.
import type { NodeInterface } from "../api/nodestate.ts";
import { familyOf } from "../ip.ts";
import type { AddressDecision } from "./announcements.ts";
import { subnetHolds } from "./kernel/choose.ts";
import type { HandoffRules, Hop } from "./kernel/handoff-rules.ts";
import type { KernelInterface } from "./kernel/interfaces.ts";
import { asKernel } from "./placement.ts";

/** One address this node serves whose old holder still serves its own connections. */
export interface FlowHandoff {
  readonly address: string;
  /** Local mode: the interface the address is on, where its traffic comes in. */
  readonly from?: string;
  /** The old holder (local) or the leaving node (routed). */
  readonly node: string;
  /**
   * Where the copies go: that node's own address on the link first; in routed mode also
   * every other node routing the address (at most MAX_COPIES in all).
   */
  readonly to: readonly Hop[];
  /** This node's clock (ms): passing on stops then, whatever the old holder does. */
  readonly until: number;
}

export interface HandoffInputs {
  readonly now: number;
  /** How long the old holder keeps the address for its connections; 0 turns all this off. */
  readonly drainMs: number;
  /** The handoffs of the previous pass. */
  readonly current: ReadonlyMap<string, FlowHandoff>;
  /** Local addresses this node announces now (handovers it gives excluded). */
  readonly local: readonly AddressDecision[];
  /** Of those, the ones it began announcing in this pass. */
  readonly added: ReadonlySet<string>;
  /** Local address → the other nodes whose NodeState says they hold it. */
  readonly announcedBy: ReadonlyMap<string, ReadonlySet<string>>;
  /** Nodes alive to the failure detector: a dead old holder serves nothing. */
  readonly alive: ReadonlySet<string>;
  readonly interfaces: readonly KernelInterface[];
  readonly published: ReadonlyMap<string, readonly NodeInterface[]>;
  /** Routed addresses this node routes now (not those in its own graceful shutdown). */
  readonly routed: readonly AddressDecision[];
  /** Routed address → the other nodes whose NodeState says they route it. */
  readonly routedBy: ReadonlyMap<string, ReadonlySet<string>>;
  /** Nodes going away: a routed address they still route is in its graceful shutdown. */
  readonly leaving: ReadonlySet<string>;
  /** How long a leaving node's routes stay, with GRACEFUL_SHUTDOWN (routed mode). */
  readonly gracefulShutdownMs: number;
}

// The old holder lets go once it reads this node's announcement and has drained; its
// NodeState saying so comes later still. Past drainMs plus this, nothing is left to pass.
export const HANDOFF_SLACK_MS = 2000;

// Each segment of a flow nobody here knows goes out this many times at most.
export const MAX_COPIES = 8;

/**
 * The handoffs to have after this pass; those whose `until` passed stay listed (so that
 * they do not begin again) but are no longer applied (`activeHandoffs`).
 *
 * Local mode: one starts when this node begins announcing an address that a live node
 * still holds and that node has an address on the same link; it lasts while that node
 * still publishes the address, at most drainMs + HANDOFF_SLACK_MS.
 *
 * Routed mode: the router moves a leaving node's flows to the other next hops when its
 * routes turn GRACEFUL_SHUTDOWN; each node routing the address passes the ones it does not
 * know to the leaving node while that one still routes it, at most gracefulShutdownMs +
 * drainMs + HANDOFF_SLACK_MS. The copies go to the other nodes routing the address too,
 * marked: a router's ECMP may have moved the flow between two nodes that both stay, and
 * the one that has it carries on (kernel/handoff-rules.ts).
 *
 * An address that left this node takes its handoff with it.
 */
export function nextHandoffs(inputs: HandoffInputs): Map<string, FlowHandoff> {
  const next = new Map<string, FlowHandoff>();
  if (inputs.drainMs <= 0) return next;
  for (const decision of inputs.local) {
    const iface = decision.interface;
    if (iface === undefined) continue;
    const holders = inputs.announcedBy.get(decision.address) ?? new Set<string>();
    const ongoing = inputs.current.get(decision.address);
    if (ongoing && !inputs.added.has(decision.address)) {
      const stillThere = holders.has(ongoing.node) && inputs.alive.has(ongoing.node);
      if (stillThere && ongoing.from === iface) next.set(decision.address, ongoing);
      continue;
    }
    if (!inputs.added.has(decision.address)) continue;
    const found = firstOnLink(decision.address, holders, inputs, [iface]);
    if (found)
      next.set(decision.address, {
        address: decision.address,
        from: iface,
        node: found.node,
        to: [found.hop],
        until: inputs.now + inputs.drainMs + HANDOFF_SLACK_MS,
      });
  }
  const lasts = inputs.gracefulShutdownMs + inputs.drainMs + HANDOFF_SLACK_MS;
  for (const decision of inputs.routed) {
    const leavingHolders = new Set(
      [...(inputs.routedBy.get(decision.address) ?? [])].filter((n) => inputs.leaving.has(n)),
    );
    const ongoing = inputs.current.get(decision.address);
    if (ongoing && ongoing.from === undefined) {
      if (leavingHolders.has(ongoing.node) && inputs.alive.has(ongoing.node))
        next.set(decision.address, ongoing);
      continue;
    }
    const everywhere = inputs.interfaces.map((i) => i.name);
    const found = firstOnLink(decision.address, leavingHolders, inputs, everywhere);
    if (!found) continue;
    const others = [...(inputs.routedBy.get(decision.address) ?? [])]
      .filter((n) => n !== found.node && !leavingHolders.has(n))
      .sort()
      .flatMap((n) => firstOnLink(decision.address, new Set([n]), inputs, everywhere)?.hop ?? []);
    next.set(decision.address, {
      address: decision.address,
      node: found.node,
      to: [found.hop, ...others].slice(0, MAX_COPIES),
      until: inputs.now + lasts,
    });
  }
  return next;
}

/** The handoffs to apply now: those whose time has not run out. */
export function activeHandoffs(handoffs: ReadonlyMap<string, FlowHandoff>, now: number) {
  return [...handoffs.values()].filter((handoff) => now < handoff.until);
}

/**
 * The kernel's handover rules for this pass: the active handoffs, and the local addresses
 * this node drains (they answer no neighbour). Marked copies nobody here owns are dropped
 * whatever this says (kernel/handoff-rules.ts).
 */
export function handoffRules(
  active: readonly FlowHandoff[],
  local: readonly AddressDecision[],
): HandoffRules {
  return {
    forwards: active,
    silenced: local
      .filter((d) => d.draining && d.interface !== undefined)
      .map((d) => ({ address: d.address, interface: d.interface! })),
  };
}

/** The first live node among `nodes` (by name) with an address on one of `interfaces`' links. */
function firstOnLink(
  address: string,
  nodes: ReadonlySet<string>,
  inputs: HandoffInputs,
  interfaces: readonly string[],
): { node: string; hop: Hop } | undefined {
  for (const node of [...nodes].sort()) {
    if (!inputs.alive.has(node)) continue;
    for (const device of interfaces) {
      const via = addressOnLink(address, device, inputs, node);
      if (via !== undefined) return { node, hop: { via, device } };
    }
  }
  return undefined;
}

/** `node`'s own address (as its NodeState publishes it) on the link of this node's `iface`. */
function addressOnLink(
  address: string,
  iface: string,
  inputs: HandoffInputs,
  node: string,
): string | undefined {
  const own = inputs.interfaces.find((i) => i.name === iface);
  if (!own) return undefined;
  const family = familyOf(address);
  for (const theirs of asKernel(inputs.published.get(node) ?? [])) {
    for (const { address: candidate, family: theirFamily } of theirs.addresses) {
      if (theirFamily !== family || candidate === address) continue;
      if (own.addresses.some((entry) => subnetHolds(entry, candidate))) return candidate;
    }
  }
  return undefined;
}
