// Which connections a new holder passes back to the old one after a local-mode handover
// (see kernel/handoff-rules.ts for how). Pure: agent.ts brings the snapshot and applies
// the result.
import type { NodeInterface } from "../api/nodestate.ts";
import { canonicalAddress, familyOf } from "../ip.ts";
import type { AddressDecision } from "./announcements.ts";
import { subnetHolds } from "./kernel/choose.ts";
import type { KernelInterface } from "./kernel/interfaces.ts";

/** One address this node announces whose old holder still serves its connections. */
export interface FlowHandoff {
  readonly address: string;
  readonly interface: string;
  /** The old holder. */
  readonly node: string;
  /** The old holder's own address on the link. */
  readonly via: string;
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
}

// The old holder lets go once it reads this node's announcement and has drained; its
// NodeState saying so comes later still. Past drainMs plus this, nothing is left to pass.
export const HANDOFF_SLACK_MS = 2000;

/**
 * The handoffs to have after this pass. One starts when this node begins announcing an
 * address that a live node still holds and that node has an address on the same link; it
 * lasts while that node still publishes the address, at most drainMs + HANDOFF_SLACK_MS.
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
      if (stillThere && inputs.now < ongoing.until && ongoing.interface === iface)
        next.set(decision.address, ongoing);
      continue;
    }
    if (!inputs.added.has(decision.address)) continue;
    for (const node of [...holders].sort()) {
      if (!inputs.alive.has(node)) continue;
      const via = addressOnLink(decision.address, iface, inputs, node);
      if (via === undefined) continue;
      next.set(decision.address, {
        address: decision.address,
        interface: iface,
        node,
        via,
        until: inputs.now + inputs.drainMs + HANDOFF_SLACK_MS,
      });
      break;
    }
  }
  return next;
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
  for (const theirs of inputs.published.get(node) ?? []) {
    for (const cidr of theirs.subnets) {
      const candidate = canonicalAddress(cidr.split("/")[0] ?? "");
      if (candidate === undefined || familyOf(candidate) !== family || candidate === address)
        continue;
      if (own.addresses.some((entry) => subnetHolds(entry, candidate))) return candidate;
    }
  }
  return undefined;
}
