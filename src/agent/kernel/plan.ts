// What to add to and remove from the node's interfaces so that its addresses are the
// desired ones. Level-triggered: the plan is made from what the kernel holds now, so a
// restarted agent neither drops healthy addresses nor leaves stale ones behind.
import { canonicalAddress } from "../../ip.ts";
import type { KernelInterface } from "./interfaces.ts";

/** One address on one interface, as the agent puts it there. */
export interface AddressAssignment {
  readonly address: string;
  readonly prefixLength: number;
  readonly interface: string;
}

export interface AddressPlan {
  /** Owned addresses to take off (kernel.ts applyAddressChanges orders them with the adds). */
  readonly remove: AddressAssignment[];
  readonly add: AddressAssignment[];
}

/**
 * Compares desired addresses with the kernel's. Only owned addresses are ever removed; an
 * owned address desired on another interface, or with another prefix length, is removed
 * and added again. A desired address the operator already put on the right interface
 * (any prefix length, not owned) is left as it is and not added: it already works, and
 * adding a second copy would make the agent own something the operator manages.
 */
export function planAddressChanges(
  desired: readonly AddressAssignment[],
  actual: readonly KernelInterface[],
): AddressPlan {
  const wanted = new Map<string, AddressAssignment>(); // key(assignment) -> assignment
  for (const assignment of desired) {
    const address = canonicalAddress(assignment.address);
    if (address === undefined) {
      throw new Error(`planAddressChanges: "${assignment.address}" is not an IP address`);
    }
    const normalised = { ...assignment, address };
    wanted.set(key(normalised), normalised);
  }

  const present = new Set<string>(); // key(assignment) of every owned address on the node
  const operatorHeld = new Set<string>(); // interface + "|" + address of non-owned addresses
  const remove: AddressAssignment[] = [];
  for (const iface of actual) {
    for (const entry of iface.addresses) {
      const assignment = {
        address: entry.address,
        prefixLength: entry.prefixLength,
        interface: iface.name,
      };
      if (!entry.owned) {
        operatorHeld.add(`${iface.name}|${entry.address}`);
        continue;
      }
      present.add(key(assignment));
      if (!wanted.has(key(assignment))) remove.push(assignment);
    }
  }

  const add = [...wanted.values()].filter(
    (a) => !present.has(key(a)) && !operatorHeld.has(`${a.interface}|${a.address}`),
  );
  return { remove, add };
}

function key(a: AddressAssignment): string {
  return `${a.interface}|${a.address}/${a.prefixLength}`;
}
