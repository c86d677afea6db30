// Where a node puts a local address. For this node the agent reads its kernel; for the
// others it reads the interfaces their NodeState publishes — the same rule on the same
// kind of data, so every agent reaches the same election without asking anyone.
import type { NodeInterface } from "../api/nodestate.ts";
import { parseAddress } from "../ipam/address.ts";
import { chooseInterface, compileRegexes } from "./kernel/choose.ts";
import type { KernelInterface } from "./kernel/interfaces.ts";
import type { Placement } from "./announcements.ts";

export function placeOn(
  address: string,
  interfaces: readonly KernelInterface[] | readonly NodeInterface[],
  regexes: readonly string[],
): Placement {
  const kernel = interfaces.map((i) => ("index" in i ? i : fromNodeState(i)));
  return chooseInterface(address, kernel, regexes);
}

/** A published interface as the kernel would show it: up, with its subnets. */
function fromNodeState(published: NodeInterface): KernelInterface {
  return {
    name: published.name,
    index: 0,
    up: true,
    loopback: false,
    mtu: 0,
    virtual: false,
    addresses: published.subnets.flatMap((cidr) => {
      const [text, length] = cidr.split("/");
      const address = text === undefined ? undefined : parseAddress(text);
      if (!address) return [];
      return [
        {
          address: text!,
          family: address.family,
          prefixLength: Number(length),
          owned: false,
          noprefixroute: false,
        },
      ];
    }),
  };
}

/**
 * What this node publishes: the interfaces that can hold local addresses (up, not loopback,
 * not a bridge port, not the routed-mode interface) and the subnets the operator put on
 * them. Owned and host addresses are left out: they change with every takeover, and
 * publishing them would rewrite NodeState on each one.
 */
export function subnetsOf(interfaces: readonly KernelInterface[]): NodeInterface[] {
  return interfaces
    .filter((i) => i.up && !i.loopback && !i.virtual && i.master === undefined)
    .map((i) => ({
      name: i.name,
      subnets: i.addresses
        .filter((a) => !a.owned && a.peer === undefined && !isHost(a) && !isLinkLocal(a.address))
        .map((a) => `${a.address}/${a.prefixLength}`),
    }))
    .sort((a, b) => (a.name < b.name ? -1 : 1));
}

function isHost(address: { family: string; prefixLength: number }): boolean {
  return address.prefixLength === (address.family === "IPv4" ? 32 : 128);
}

function isLinkLocal(text: string): boolean {
  return /^fe[89ab]/i.test(text) || text.startsWith("169.254.");
}

/** The invalid regexes among `regexes`, each with the reason. */
export function regexProblems(regexes: readonly string[]): string[] {
  const compiled = compileRegexes(regexes);
  return "error" in compiled ? compiled.error.split("; ") : [];
}
