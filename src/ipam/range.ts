// Address ranges: what a pool's `addresses` entries mean, counted and compared without
// ever listing their members.
import { FAMILY_BITS, formatAddress, parseAddress, type Family } from "../ip.ts";

/** An inclusive range of addresses of one family. */
export interface AddressRange {
  readonly family: Family;
  readonly first: bigint;
  readonly last: bigint;
}

export type ParsedRange = { range: AddressRange } | { error: string };

/**
 * Reads one `addresses` entry: a CIDR ("10.0.0.0/24"), a range ("10.0.0.10-10.0.0.20",
 * spaces around the dash allowed, as MetalLB allows them) or one address.
 */
export function parseRange(text: string): ParsedRange {
  const trimmed = text.trim();
  if (trimmed === "") return { error: "is empty" };
  if (trimmed.includes("/")) return parseCidr(trimmed);
  const dash = trimmed.indexOf("-");
  if (dash < 0) {
    const address = parseAddress(trimmed);
    if (!address) return { error: "is not an IPv4 or IPv6 address, CIDR or range" };
    return { range: { family: address.family, first: address.value, last: address.value } };
  }
  const startText = trimmed.slice(0, dash).trim();
  const endText = trimmed.slice(dash + 1).trim();
  const start = parseAddress(startText);
  const end = parseAddress(endText);
  if (!start) return { error: `starts with "${startText}", which is not an IP address` };
  if (!end) return { error: `ends with "${endText}", which is not an IP address` };
  if (start.family !== end.family) {
    return { error: "mixes an IPv4 and an IPv6 address; a range has one family" };
  }
  if (start.value > end.value) {
    return { error: `is reversed: write the lower address first (${endText}-${startText})` };
  }
  return { range: { family: start.family, first: start.value, last: end.value } };
}

function parseCidr(text: string): ParsedRange {
  const [addressText = "", lengthText = "", ...rest] = text.split("/");
  const address = parseAddress(addressText);
  if (!address || rest.length > 0) {
    return { error: "is not a CIDR: expected an address, a slash and a prefix length" };
  }
  const bits = FAMILY_BITS[address.family];
  if (!/^\d{1,3}$/.test(lengthText) || Number(lengthText) > bits) {
    return { error: `has prefix length "${lengthText}"; ${address.family} allows 0 to ${bits}` };
  }
  const hostBits = BigInt(bits - Number(lengthText));
  const network = (address.value >> hostBits) << hostBits;
  if (network !== address.value) {
    // Go's ParseCIDR would quietly round down; a typo here would hand out a different
    // block than the one the operator meant, so we make them say it.
    const networkText = formatAddress({ family: address.family, value: network });
    return {
      error: `has host bits set; the network is ${networkText}/${lengthText}, or write a range`,
    };
  }
  return {
    range: { family: address.family, first: network, last: network + (1n << hostBits) - 1n },
  };
}

export function rangeSize(range: AddressRange): bigint {
  return range.last - range.first + 1n;
}

export function rangesOverlap(a: AddressRange, b: AddressRange): boolean {
  return a.family === b.family && a.first <= b.last && b.first <= a.last;
}

/** The shortest text for a range: one address, a CIDR when it is one, else "first-last". */
export function formatRange(range: AddressRange): string {
  const first = formatAddress({ family: range.family, value: range.first });
  if (range.first === range.last) return first;
  const size = rangeSize(range);
  const isPowerOfTwo = (size & (size - 1n)) === 0n;
  if (isPowerOfTwo && range.first % size === 0n) {
    const prefix = FAMILY_BITS[range.family] - (size.toString(2).length - 1);
    return `${first}/${prefix}`;
  }
  return `${first}-${formatAddress({ family: range.family, value: range.last })}`;
}

/**
 * Whether every block of the given prefix length that holds an address of the range lies
 * inside the range. Routed addresses are put on kube-lb0 with the pool's aggregation
 * prefix, so a shorter prefix would announce addresses that are not the pool's.
 */
export function alignedTo(range: AddressRange, prefixLength: number): boolean {
  const blockSize = 1n << BigInt(FAMILY_BITS[range.family] - prefixLength);
  return range.first % blockSize === 0n && (range.last + 1n) % blockSize === 0n;
}

/** How many IPv4 addresses of the range end in .0 or .255, counted arithmetically. */
export function countBuggyIPv4(range: AddressRange): bigint {
  if (range.family !== "IPv4") return 0n;
  // Addresses ≤ v ending in .k number floor((v - k) / 256) + 1 for v ≥ k.
  const upTo = (v: bigint, k: bigint) => (v < k ? 0n : (v - k) / 256n + 1n);
  const count = (k: bigint) => upTo(range.last, k) - upTo(range.first - 1n, k);
  return count(0n) + count(255n);
}
