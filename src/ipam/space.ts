// The addresses of one family in one pool, numbered 0, 1, 2 … in spec order, so that
// "the lowest free address in spec order" becomes "the lowest free number".
import type { Family } from "../ip.ts";
import { rangeSize, type AddressRange } from "./range.ts";

export class AddressSpace {
  readonly family: Family;
  readonly size: bigint;
  /** Ranges in spec order; offsets[i] is the number of ranges[i].first. */
  private readonly ranges: readonly AddressRange[];
  private readonly offsets: readonly bigint[];
  /** Indexes into `ranges`, sorted by address, for finding an address's number. */
  private readonly byAddress: readonly number[];

  constructor(family: Family, ranges: readonly AddressRange[]) {
    this.family = family;
    this.ranges = ranges;
    const offsets: bigint[] = [];
    let size = 0n;
    for (const range of ranges) {
      offsets.push(size);
      size += rangeSize(range);
    }
    this.offsets = offsets;
    this.size = size;
    this.byAddress = ranges
      .map((_, i) => i)
      .sort((a, b) => (ranges[a]!.first < ranges[b]!.first ? -1 : 1));
  }

  /** The number of an address, or undefined when the space does not hold it. */
  ordinalOf(value: bigint): bigint | undefined {
    let low = 0;
    let high = this.byAddress.length - 1;
    while (low <= high) {
      const mid = (low + high) >> 1;
      const index = this.byAddress[mid]!;
      const range = this.ranges[index]!;
      if (value < range.first) high = mid - 1;
      else if (value > range.last) low = mid + 1;
      else return this.offsets[index]! + (value - range.first);
    }
    return undefined;
  }

  valueAt(ordinal: bigint): bigint {
    if (ordinal < 0n || ordinal >= this.size)
      throw new RangeError(`ordinal ${ordinal} outside space`);
    let low = 0;
    let high = this.offsets.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (this.offsets[mid]! <= ordinal) low = mid;
      else high = mid - 1;
    }
    return this.ranges[low]!.first + (ordinal - this.offsets[low]!);
  }
}
