import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { LowestFree } from "./lowest-free.ts";

describe("LowestFree", () => {
  it("always hands out the lowest free number, like scanning would", () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant("lowest" as const) }),
      fc.record({ kind: fc.constant("take" as const), n: fc.integer({ min: 0, max: 39 }) }),
      fc.record({ kind: fc.constant("release" as const), n: fc.integer({ min: 0, max: 39 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), fc.boolean(), (ops, skipOdd) => {
        const skip = skipOdd ? (n: bigint) => n % 7n === 3n : undefined;
        const free = new LowestFree(40n, skip);
        const model = new Set<number>();
        for (const o of ops) {
          if (o.kind === "lowest") {
            let expected: number | undefined;
            for (let n = 0; n < 40; n++) {
              if (!model.has(n) && !(skipOdd && n % 7 === 3)) {
                expected = n;
                break;
              }
            }
            const got = free.takeLowest();
            assert.equal(got === undefined ? undefined : Number(got), expected);
            if (expected !== undefined) model.add(expected);
          } else if (o.kind === "take") {
            assert.equal(free.take(BigInt(o.n)), !model.has(o.n));
            model.add(o.n);
          } else {
            free.release(BigInt(o.n));
            model.delete(o.n);
          }
          assert.equal(free.takenCount, model.size);
        }
      }),
    );
  });

  it("works in a 2^64 space at the cost of what is taken", () => {
    const free = new LowestFree(1n << 64n);
    free.take(0n);
    free.take(1n);
    assert.equal(free.takeLowest(), 2n);
    free.release(0n);
    assert.equal(free.takeLowest(), 0n);
    assert.equal(free.takeLowest(), 3n);
  });

  it("says when the space is exhausted", () => {
    const free = new LowestFree(2n);
    assert.equal(free.takeLowest(), 0n);
    assert.equal(free.takeLowest(), 1n);
    assert.equal(free.takeLowest(), undefined);
    free.release(1n);
    assert.equal(free.takeLowest(), 1n);
  });
});
