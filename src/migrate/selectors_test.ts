import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { anyOf, describeSelector } from "./selectors.ts";

describe("anyOf: one selector for what any of several matched", () => {
  it("no selector, or an empty one, matches everything", () => {
    assert.deepEqual(anyOf([]), { exact: true, selector: undefined });
    assert.deepEqual(anyOf([{ matchLabels: { a: "b" } }, {}]), {
      exact: true,
      selector: undefined,
    });
  });

  it("equal selectors are one selector", () => {
    const selector = { matchLabels: { rack: "r1", zone: "z" } };
    assert.deepEqual(anyOf([selector, { matchLabels: { zone: "z", rack: "r1" } }]), {
      exact: true,
      selector,
    });
  });

  it("key=value and key In (…) on one key merge into key In (all values)", () => {
    assert.deepEqual(
      anyOf([
        { matchLabels: { "kubernetes.io/hostname": "a" } },
        {
          matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: ["b", "a"] }],
        },
      ]),
      {
        exact: true,
        selector: {
          matchExpressions: [{ key: "kubernetes.io/hostname", operator: "In", values: ["a", "b"] }],
        },
      },
    );
  });

  it("anything else cannot be said with one selector", () => {
    assert.deepEqual(anyOf([{ matchLabels: { a: "1" } }, { matchLabels: { b: "1" } }]), {
      exact: false,
    });
    assert.deepEqual(anyOf([{ matchLabels: { a: "1", c: "2" } }, { matchLabels: { a: "2" } }]), {
      exact: false,
    });
  });

  it("describes selectors for messages", () => {
    assert.equal(
      describeSelector({
        matchLabels: { tier: "gold" },
        matchExpressions: [{ key: "app", operator: "In", values: ["a", "b"] }],
      }),
      "tier=gold, app In (a, b)",
    );
    assert.equal(describeSelector({}), "everything");
  });
});
