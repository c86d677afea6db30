import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { jsonPatch, mergePatch, PatchError, strategicMergePatch } from "./patch.ts";

describe("patches", () => {
  it("merge patch: objects merge, null deletes, lists replace (RFC 7386)", () => {
    const target = { a: { b: 1, c: 2 }, list: [1, 2], keep: true };
    assert.deepEqual(mergePatch(target, { a: { b: null, d: 3 }, list: [3] }), {
      a: { c: 2, d: 3 },
      list: [3],
      keep: true,
    });
    assert.deepEqual(target.a, { b: 1, c: 2 }, "the target is not changed");
  });

  it("strategic merge patch: drops kubectl's directives", () => {
    const current = {
      spec: { ports: [{ port: 80, nodePort: 30001 }] },
      metadata: { labels: { a: "1" } },
    };
    const patch = {
      metadata: { labels: { b: "2" } },
      spec: {
        "$setElementOrder/ports": [{ port: 8080 }],
        ports: [{ port: 8080 }, { $patch: "delete", port: 80 }],
      },
    };
    assert.deepEqual(strategicMergePatch(current, patch), {
      spec: { ports: [{ port: 8080 }] },
      metadata: { labels: { a: "1", b: "2" } },
    });
  });

  it("JSON patch: applies operations and refuses a failing test", () => {
    assert.deepEqual(jsonPatch({ a: [1] }, [{ op: "add", path: "/a/-", value: 2 }]), { a: [1, 2] });
    assert.throws(() => jsonPatch({ a: 1 }, [{ op: "test", path: "/a", value: 2 }]), PatchError);
    assert.throws(() => jsonPatch({ a: 1 }, { op: "add" }), PatchError);
  });
});
