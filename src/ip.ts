// Herald's IP library: addresses as (family, bigint). Every address computation in Herald
// goes through this representation so that IPv4 and IPv6 share one code path and a /64 is
// as cheap as a /24.
import ipaddr from "ipaddr.js";

export type Family = "IPv4" | "IPv6";

export const FAMILIES: readonly Family[] = ["IPv4", "IPv6"];

export const FAMILY_BITS: Readonly<Record<Family, number>> = { IPv4: 32, IPv6: 128 };

/**
 * The family an address's text names, without parsing it: IPv6 has colons, IPv4 none. For
 * text already known to be an address (canonical forms, the kernel's own listings).
 */
export function familyOf(text: string): Family {
  return text.includes(":") ? "IPv6" : "IPv4";
}

export interface Address {
  readonly family: Family;
  readonly value: bigint;
}

/**
 * Parses one address written the way Kubernetes writes it. Only dotted-quad IPv4 without
 * leading zeros is accepted (ipaddr.js would also take "10.1" or "0x7f.0.0.1", which the
 * API server rejects and which make typos look valid), and IPv6 zone ids are refused
 * because a LoadBalancer address is never link-scoped.
 */
export function parseAddress(text: string): Address | undefined {
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) {
    return { family: "IPv4", value: bytesToBigint(ipaddr.IPv4.parse(text).toByteArray()) };
  }
  if (!text.includes("%") && ipaddr.IPv6.isValid(text)) {
    return { family: "IPv6", value: bytesToBigint(ipaddr.IPv6.parse(text).toByteArray()) };
  }
  return undefined;
}

function bytesToBigint(bytes: number[]): bigint {
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  return value;
}

/** Canonical text: dotted quad, or RFC 5952 IPv6 (lower case, longest zero run as "::"). */
export function formatAddress(address: Address): string {
  return address.family === "IPv4" ? formatIPv4(address.value) : formatIPv6(address.value);
}

function formatIPv4(value: bigint): string {
  const n = Number(value);
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

const IPV4_MAPPED_PREFIX = 0xffffn << 32n;

function formatIPv6(value: bigint): string {
  // RFC 5952 §5: IPv4-mapped addresses keep their dotted-quad tail.
  if (value >> 32n === 0xffffn) return `::ffff:${formatIPv4(value - IPV4_MAPPED_PREFIX)}`;
  const groups: number[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) groups.push(Number((value >> shift) & 0xffffn));
  // The longest run of two or more zero groups becomes "::"; the first wins a tie.
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = (list: number[]) => list.map((g) => g.toString(16)).join(":");
  if (bestStart < 0) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLength))}`;
}

/** Parses and re-formats, so "2001:DB8:0::1" and "2001:db8::1" compare equal. */
export function canonicalAddress(text: string): string | undefined {
  const address = parseAddress(text);
  return address && formatAddress(address);
}

/**
 * IPv4 addresses ending in .0 or .255 are dropped by some old client firmware that
 * takes them for network or broadcast addresses, whatever the real prefix (MetalLB's
 * `avoidBuggyIPs`).
 */
export function isBuggyIPv4(value: bigint): boolean {
  const last = value & 255n;
  return last === 0n || last === 255n;
}

export function otherFamily(family: Family): Family {
  return family === "IPv4" ? "IPv6" : "IPv4";
}
