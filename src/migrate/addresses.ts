// Address entries as the peers write them, turned into entries Herald's AddressPool accepts
// with the same meaning; aggregation prefixes checked the way Herald checks them.
import { FAMILY_BITS, formatAddress, parseAddress, type Family } from "../ip.ts";
import {
  alignedTo,
  formatRange,
  parseRange,
  rangesOverlap,
  type AddressRange,
} from "../ipam/range.ts";
import type { FieldReader } from "./reader.ts";

export type ConvertedEntry =
  { entry: string; range: AddressRange; note?: string } | { error: string };

/**
 * One CIDR, range or address. The peers parse CIDRs with Go's net.ParseCIDR, which
 * quietly drops host bits ("10.0.0.5/24" means 10.0.0.0/24); Herald refuses such an entry,
 * so the network the peer actually used is written instead, with a note.
 */
export function convertEntry(text: string): ConvertedEntry {
  const trimmed = text.trim();
  if (trimmed === "") return { error: "is empty" };
  if (trimmed.includes("/")) {
    const [addressText = "", lengthText = "", ...rest] = trimmed.split("/");
    const address = parseAddress(addressText.trim());
    const bits = address ? FAMILY_BITS[address.family] : 0;
    if (!address || rest.length > 0 || !/^\d{1,3}$/.test(lengthText.trim())) {
      return { error: `"${trimmed}" is not a CIDR, a range or an IP address` };
    }
    const length = Number(lengthText.trim());
    if (length > bits) {
      return {
        error: `"${trimmed}" has prefix length ${length}; ${address.family} allows 0 to ${bits}`,
      };
    }
    const hostBits = BigInt(bits - length);
    const network = (address.value >> hostBits) << hostBits;
    const entry = `${formatAddress({ family: address.family, value: network })}/${length}`;
    const range: AddressRange = {
      family: address.family,
      first: network,
      last: network + (1n << hostBits) - 1n,
    };
    if (network !== address.value) {
      return {
        entry,
        range,
        note: `"${trimmed}" has host bits set; the peer used the network ${entry}, and so does Herald`,
      };
    }
    return { entry, range };
  }
  const parsed = parseRange(trimmed);
  if ("error" in parsed) return { error: `"${trimmed}" ${parsed.error}` };
  // "a - b" is accepted by Herald too, but the compact form is what `kubectl get` shows.
  const entry = trimmed.includes("-")
    ? trimmed
        .split("-")
        .map((part) => part.trim())
        .join("-")
    : trimmed;
  return { entry, range: parsed.range };
}

/**
 * The CIDR without its first and last address, as Cilium LB-IPAM hands it out with
 * `allowFirstLastIPs: No`. /31, /32, /127 and /128 keep every address, as in Cilium.
 */
export function withoutFirstAndLast(range: AddressRange): string {
  const bits = FAMILY_BITS[range.family];
  if (range.last - range.first + 1n <= 2n || bits === 0) return formatRange(range);
  return formatRange({ family: range.family, first: range.first + 1n, last: range.last - 1n });
}

/**
 * Why an aggregation prefix would be refused for these ranges, or undefined when it fits:
 * Herald puts routed addresses on kube-lb0 with that prefix, so each block of that size
 * around an address must lie inside the pool (CEL checks CIDRs, the controller ranges).
 */
export function aggregationProblem(
  ranges: readonly AddressRange[],
  family: Family,
  prefixLength: number,
): string | undefined {
  const bits = FAMILY_BITS[family];
  if (!Number.isInteger(prefixLength) || prefixLength < 0 || prefixLength > bits) {
    return `/${prefixLength} is not a ${family} prefix length (0 to ${bits})`;
  }
  const misfit = ranges.find((range) => range.family === family && !alignedTo(range, prefixLength));
  if (misfit) {
    return `/${prefixLength} blocks around addresses of ${formatRange(misfit)} reach outside it`;
  }
  return undefined;
}

export interface PoolEntry {
  readonly entry: string;
  readonly range: AddressRange;
}

/** Herald's limit on `addresses` entries of one pool. */
const ENTRY_LIMIT = 64;

/**
 * The entries of one pool: invalid ones and ones overlapping an earlier entry are left out
 * with a warning (Herald refuses a pool whose entries overlap).
 */
export function convertEntries(
  reader: FieldReader,
  field: string,
  texts: readonly string[],
): PoolEntry[] {
  const result: PoolEntry[] = [];
  texts.forEach((text, i) => {
    const where = `${field}[${i}]`;
    const converted = convertEntry(text);
    if ("error" in converted) {
      reader.warn(where, `${converted.error}; left out of the pool`);
      return;
    }
    if (converted.note) reader.note(where, converted.note);
    const earlier = result.find((entry) => rangesOverlap(entry.range, converted.range));
    if (earlier) {
      reader.warn(where, `"${text}" overlaps "${earlier.entry}" of the same pool; left out`);
      return;
    }
    result.push({ entry: converted.entry, range: converted.range });
  });
  if (result.length > ENTRY_LIMIT) {
    reader.warn(
      field,
      `has ${result.length} entries; an AddressPool holds at most ${ENTRY_LIMIT}, so the rest are left out (split the pool, or merge ranges)`,
    );
    result.length = ENTRY_LIMIT;
  }
  return result;
}
