// Builders for the pure tests: interfaces written the way `ip -br addr` shows them.
import { canonicalAddress, parseAddress } from "../src/ip.ts";
import type { InterfaceAddress, KernelInterface } from "../src/agent/kernel/interfaces.ts";

/**
 * An interface that is up, with addresses like "10.0.0.1/24"; a trailing " owned" marks one
 * of the agent's own (noprefixroute + metric 7474).
 */
export function iface(
  name: string,
  addresses: readonly string[],
  extra: Partial<KernelInterface> = {},
): KernelInterface {
  return {
    name,
    index: extra.index ?? 0,
    up: true,
    loopback: false,
    mtu: 1500,
    virtual: false,
    ...extra,
    addresses: addresses.map(address),
  };
}

function address(text: string): InterfaceAddress {
  const [cidr = "", flag] = text.split(" ");
  const [addressText = "", length = ""] = cidr.split("/");
  const parsed = parseAddress(addressText);
  const canonical = canonicalAddress(addressText);
  if (!parsed || !canonical || flag === "" || (flag !== undefined && flag !== "owned")) {
    throw new Error(`testing: bad address "${text}"`);
  }
  const owned = flag === "owned";
  return {
    address: canonical,
    family: parsed.family,
    prefixLength: Number(length),
    owned,
    noprefixroute: owned,
  };
}
