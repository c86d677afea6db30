import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { electAnnouncer, rendezvousWeight } from "./election.ts";

test("the weight is sha256 of node#address", () => {
  // printf 'node1#10.0.0.1' | sha256sum
  assert.equal(
    rendezvousWeight("node1", "10.0.0.1"),
    "414b4c5392caa413d81d44f63a055c8b42cd8cfd6c339c8525f16eebc27e271b",
  );
});

test("no candidates elect nobody", () => {
  assert.equal(electAnnouncer("10.0.0.1", []), undefined);
});

test("the winner does not depend on the order of candidates", () => {
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.string({ minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 12 }),
      fc.ipV4(),
      (nodes, address) => {
        const winner = electAnnouncer(address, nodes);
        assert.equal(electAnnouncer(address, [...nodes].reverse()), winner);
        assert.ok(winner !== undefined && nodes.includes(winner));
      },
    ),
  );
});

test("removing a node moves only the addresses it won", () => {
  const nodes = ["node1", "node2", "node3", "node4", "node5"];
  const addresses = Array.from({ length: 500 }, (_, i) => `10.0.${i >> 8}.${i & 255}`);
  const before = new Map(addresses.map((a) => [a, electAnnouncer(a, nodes)]));
  const survivors = nodes.filter((n) => n !== "node3");
  let moved = 0;
  for (const address of addresses) {
    const after = electAnnouncer(address, survivors);
    if (before.get(address) === "node3") moved++;
    else assert.equal(after, before.get(address), `${address} moved though its node stayed`);
  }
  // Spread: each of five nodes wins roughly a fifth.
  assert.ok(moved > 50 && moved < 150, `node3 won ${moved} of 500`);
});
