// What the agent needs of the kernel, as an interface: the agent and its tests see this,
// ip-kernel.ts implements it with iproute2, arping, ndisc6 and sysctl.
import type { FlowForward, HandoffRules, SilencedAddress } from "./handoff-rules.ts";
import type { KernelInterface } from "./interfaces.ts";
import type { AddressAssignment, AddressPlan } from "./plan.ts";
import type { Announcement } from "./repeat.ts";
import type { SysctlChange, SysctlFinding } from "./sysctl.ts";

export type { FlowForward, HandoffRules, KernelInterface, SilencedAddress };

export interface RepeatSettings {
  /** AgentConfig garp.count (default 3); 0 sends nothing. */
  readonly count: number;
  /** AgentConfig garp.intervalMs (default 1000). */
  readonly intervalMs: number;
}

export type VirtualInterfaceKind = "dummy" | "bridge";

export type VirtualInterfaceResult =
  { name: string; kind: VirtualInterfaceKind; created: boolean } | { error: string };

export interface Kernel {
  /** Every interface with its addresses, in kernel (index) order. */
  listInterfaces(): Promise<KernelInterface[]>;
  /**
   * Puts an owned address on an interface: `noprefixroute`, metric OWNED_ADDRESS_METRIC,
   * and for IPv6 `nodad`. Already there (even as the operator's) counts as done.
   */
  addAddress(iface: string, address: string, prefixLength: number): Promise<void>;
  /** Takes an owned address off; already gone counts as done; refuses a non-owned one. */
  removeAddress(iface: string, address: string, prefixLength: number): Promise<void>;
  /**
   * Tells the link that `address` is now on this node: gratuitous ARP for IPv4, neighbour
   * solicitations from the address for IPv6 (see announce.ts). Resolves when the first
   * round is out; the repeats continue in the background until `signal` aborts.
   */
  announce(
    iface: string,
    address: string,
    repeat: RepeatSettings,
    signal?: AbortSignal,
  ): Promise<Announcement>;
  /** Sets what local mode needs on `iface` where neither it nor `all` has it; says what changed. */
  ensureSysctls(iface: string): Promise<SysctlChange[]>;
  /** The requirements `iface` does not meet, changing nothing. */
  checkSysctls(iface: string): Promise<SysctlFinding[]>;
  /**
   * Makes `name` (routed mode's kube-lb0) a dummy interface, or a bridge without ports where
   * the kernel has no dummy driver, sets it up and marks it with VIRTUAL_INTERFACE_ALIAS.
   * An existing dummy or portless bridge of that name is adopted.
   */
  ensureVirtualInterface(name: string): Promise<VirtualInterfaceResult>;
  /**
   * Makes the handover rules exactly these (handoff-rules.ts): mid-flow TCP segments passed
   * to an old holder, addresses that answer no neighbour while they drain, and always the
   * rules that track connections and drop marked copies nobody here owns. undefined
   * removes them all. Throws when they cannot be set (no nftables); nothing else depends
   * on them.
   */
  setHandoffRules(rules: HandoffRules | undefined): Promise<void>;
}

export interface AddressChangeFailure {
  readonly action: "add" | "remove";
  readonly assignment: AddressAssignment;
  readonly error: string;
}

/**
 * Applies a plan, make-before-break: additions before removals, except that an address
 * changing prefix on one interface is removed first. One failure does not stop the rest;
 * the next reconciliation retries.
 */
export async function applyAddressChanges(
  kernel: Kernel,
  plan: AddressPlan,
): Promise<AddressChangeFailure[]> {
  const failures: AddressChangeFailure[] = [];
  // An address moving to another interface is added there before it is removed here, so
  // that the node never lacks it in between; a prefix change on the same interface must
  // remove first (IPv6 refuses a second copy of the address).
  const replaced = new Set(plan.add.map((a) => `${a.interface}|${a.address}`));
  const first = plan.remove.filter((a) => replaced.has(`${a.interface}|${a.address}`));
  const last = plan.remove.filter((a) => !replaced.has(`${a.interface}|${a.address}`));
  const steps = [
    ...first.map((assignment) => ({ action: "remove" as const, assignment })),
    ...plan.add.map((assignment) => ({ action: "add" as const, assignment })),
    ...last.map((assignment) => ({ action: "remove" as const, assignment })),
  ];
  for (const { action, assignment } of steps) {
    try {
      const { interface: iface, address, prefixLength } = assignment;
      await (action === "remove"
        ? kernel.removeAddress(iface, address, prefixLength)
        : kernel.addAddress(iface, address, prefixLength));
    } catch (error) {
      failures.push({
        action,
        assignment,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
  return failures;
}
