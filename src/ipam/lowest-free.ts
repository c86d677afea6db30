// Finds the lowest free number in [0, size) while numbers are taken and given back, at a
// cost that depends on how many are taken, never on `size` (a /64 has 2^64 numbers).
//
// Everything below `next` is either taken or waiting in `returned`, a min-heap of numbers
// given back; everything from `next` up is free unless it is in `taken` (an address
// restored or requested out of order). The heap may hold numbers that were taken again
// since they were given back; they are dropped when they surface, and `inHeap` keeps a
// number from being pushed twice, so the heap never outgrows the numbers below `next`.
export class LowestFree {
  readonly size: bigint;
  private readonly skip: ((n: bigint) => boolean) | undefined;
  private readonly taken = new Set<bigint>();
  private readonly returned: bigint[] = [];
  private readonly inHeap = new Set<bigint>();
  private next = 0n;

  /** `skip` marks numbers that are never handed out (addresses ending in .0/.255). */
  constructor(size: bigint, skip?: (n: bigint) => boolean) {
    this.size = size;
    this.skip = skip;
  }

  get takenCount(): number {
    return this.taken.size;
  }

  isTaken(n: bigint): boolean {
    return this.taken.has(n);
  }

  /** Marks a number taken; false when it already was. */
  take(n: bigint): boolean {
    if (this.taken.has(n)) return false;
    this.taken.add(n);
    return true;
  }

  /** Takes the lowest free number, or returns undefined when none is left. */
  takeLowest(): bigint | undefined {
    while (this.returned.length > 0) {
      const n = popMin(this.returned);
      this.inHeap.delete(n);
      if (!this.taken.has(n)) {
        this.taken.add(n);
        return n;
      }
    }
    while (this.next < this.size) {
      const n = this.next++;
      if (this.taken.has(n) || this.skip?.(n)) continue;
      this.taken.add(n);
      return n;
    }
    return undefined;
  }

  release(n: bigint): void {
    if (!this.taken.delete(n)) return;
    if (n >= this.next || this.inHeap.has(n) || this.skip?.(n)) return;
    this.inHeap.add(n);
    pushMin(this.returned, n);
  }
}

function pushMin(heap: bigint[], value: bigint): void {
  heap.push(value);
  let i = heap.length - 1;
  while (i > 0) {
    const parent = (i - 1) >> 1;
    if (heap[parent]! <= value) break;
    heap[i] = heap[parent]!;
    i = parent;
  }
  heap[i] = value;
}

function popMin(heap: bigint[]): bigint {
  const top = heap[0]!;
  const last = heap.pop()!;
  if (heap.length === 0) return top;
  let i = 0;
  for (;;) {
    const left = 2 * i + 1;
    if (left >= heap.length) break;
    const right = left + 1;
    const child = right < heap.length && heap[right]! < heap[left]! ? right : left;
    if (heap[child]! >= last) break;
    heap[i] = heap[child]!;
    i = child;
  }
  heap[i] = last;
  return top;
}
