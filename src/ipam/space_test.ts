import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseAddress } from "../ip.ts";
import { parseRange, type AddressRange } from "./range.ts";
import { AddressSpace } from "./space.ts";

const ranges = ["10.0.9.0/30", "10.0.1.10-10.0.1.11", "10.0.5.5"].map((text) => {
  const parsed = parseRange(text);
  if ("error" in parsed) throw new Error(parsed.error);
  return parsed.range;
}) satisfies AddressRange[];
const v = (text: string) => parseAddress(text)!.value;

describe("AddressSpace", () => {
  const space = new AddressSpace("IPv4", ranges);

  it("numbers addresses in spec order, not address order", () => {
    assert.equal(space.size, 7n);
    assert.equal(space.valueAt(0n), v("10.0.9.0"));
    assert.equal(space.valueAt(3n), v("10.0.9.3"));
    assert.equal(space.valueAt(4n), v("10.0.1.10"));
    assert.equal(space.valueAt(6n), v("10.0.5.5"));
  });

  it("maps each address back to its number", () => {
    for (let n = 0n; n < space.size; n++) assert.equal(space.ordinalOf(space.valueAt(n)), n);
    assert.equal(space.ordinalOf(v("10.0.1.12")), undefined);
    assert.equal(space.ordinalOf(v("10.0.0.1")), undefined);
    assert.throws(() => space.valueAt(7n), RangeError);
  });
});
