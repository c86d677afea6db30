import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { daemonSetVerdict, nodeInfo, nodeLeaving, type NodeObject } from "./cluster-view.ts";

const node = (changes: Partial<NodeObject> = {}): NodeObject => ({
  metadata: { name: "node1", labels: { "kubernetes.io/os": "linux" } },
  status: { conditions: [{ type: "Ready", status: "True" }] },
  ...changes,
});

describe("nodeLeaving", () => {
  it("names a node going away: deleted, tainted for removal, cordoned where that counts", () => {
    assert.equal(nodeLeaving(node(), true), undefined);
    assert.equal(nodeLeaving(node({ spec: { unschedulable: true } }), true), "cordoned");
    assert.equal(nodeLeaving(node({ spec: { unschedulable: true } }), false), undefined);
    for (const key of [
      "node.kubernetes.io/out-of-service",
      "ToBeDeletedByClusterAutoscaler",
      "karpenter.sh/disrupted",
    ])
      assert.equal(
        nodeLeaving(node({ spec: { taints: [{ key, effect: "NoSchedule" }] } }), false),
        `tainted ${key}`,
      );
    assert.equal(
      nodeLeaving(node({ spec: { taints: [{ key: "dedicated", effect: "NoSchedule" }] } }), true),
      undefined,
    );
    const deleting = node();
    deleting.metadata!.deletionTimestamp = "2026-12-04T00:00:00Z";
    assert.equal(nodeLeaving(deleting, false), "its Node is being deleted");
    assert.equal(nodeInfo(node({ spec: { unschedulable: true } }))?.leaving, "cordoned");
    assert.equal(nodeInfo(node())?.leaving, undefined);
  });
});

describe("daemonSetVerdict", () => {
  const selecting = (nodeSelector?: Record<string, string>) => ({
    metadata: { name: "herald-agent" },
    spec: { template: { spec: { nodeSelector } } },
  });

  it("tells an uninstall and a node the DaemonSet leaves from a rolling update", () => {
    assert.deepEqual(daemonSetVerdict(null, "herald-agent", node()), {
      uninstall: "DaemonSet herald-agent is gone",
    });
    assert.deepEqual(
      daemonSetVerdict(
        { ...selecting(), metadata: { deletionTimestamp: "2026-12-04T00:00:00Z" } },
        "herald-agent",
        node(),
      ),
      { uninstall: "DaemonSet herald-agent is being deleted" },
    );
    assert.equal(daemonSetVerdict(selecting(), "herald-agent", node()), undefined);
    assert.equal(
      daemonSetVerdict(selecting({ "kubernetes.io/os": "linux" }), "herald-agent", node()),
      undefined,
    );
    assert.deepEqual(
      daemonSetVerdict(selecting({ "herald.dev/announce": "true" }), "herald-agent", node()),
      { leaving: "DaemonSet herald-agent no longer selects this node (herald.dev/announce=true)" },
    );
  });
});
