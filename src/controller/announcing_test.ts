import assert from "node:assert/strict";
import { test } from "node:test";
import type { AnnouncedAddress } from "../api/nodestate.ts";
import { AnnouncerIndex, annotationChanges } from "./announcing.ts";

const V4 = "herald.dev/announcing-ipv4";
const V6 = "herald.dev/announcing-ipv6";

function local(address: string, services: string[], since: string, iface = "eth0") {
  return { address, services, mode: "Local", interface: iface, since } as AnnouncedAddress;
}

test("a local address names its node and interface; routed ones say routed", () => {
  const index = new AnnouncerIndex();
  index.set("node1", [local("192.0.2.10", ["default/web"], "2026-12-04T10:00:00.000Z")]);
  index.set("node2", [
    { address: "2001:db8::10", services: ["default/web"], mode: "Routed", interface: "kube-lb0" },
  ]);
  index.set("node3", [
    { address: "2001:db8::10", services: ["default/web"], mode: "Routed", interface: "kube-lb0" },
  ]);
  assert.deepEqual(index.annotations("default/web", ["192.0.2.10", "2001:db8::10"]), {
    [V4]: "node1 eth0",
    [V6]: "routed",
  });
  assert.deepEqual(index.annotations("default/other", ["192.0.2.10"]), {
    [V4]: undefined,
    [V6]: undefined,
  });
});

test("of two nodes listing a local address, the one that started later holds it", () => {
  const index = new AnnouncerIndex();
  // node1 died holding it and never wrote again; node2 took over after.
  index.set("node1", [local("192.0.2.10", ["default/web"], "2026-12-04T10:00:00.000Z")]);
  index.set("node2", [local("192.0.2.10", ["default/web"], "2026-12-04T10:05:00.250Z", "eth1")]);
  assert.equal(index.annotations("default/web", ["192.0.2.10"])[V4], "node2 eth1");
  // node2 hands it back to node1, whose new announcement is the latest.
  index.set("node1", [local("192.0.2.10", ["default/web"], "2026-12-04T10:06:00.000Z")]);
  assert.equal(index.annotations("default/web", ["192.0.2.10"])[V4], "node1 eth0");
  index.set("node1", []);
  assert.equal(index.annotations("default/web", ["192.0.2.10"])[V4], "node2 eth1");
  index.set("node2", []);
  assert.equal(index.annotations("default/web", ["192.0.2.10"])[V4], undefined);
});

test("set returns the services whose announcements changed, before and after", () => {
  const index = new AnnouncerIndex();
  const first = [local("192.0.2.10", ["a/one", "a/two"], "2026-12-04T10:00:00.000Z")];
  assert.deepEqual([...index.set("node1", first)].sort(), ["a/one", "a/two"]);
  assert.deepEqual([...index.set("node1", first)], [], "no change, nothing to do");
  const moved = [local("192.0.2.11", ["b/three"], "2026-12-04T10:01:00.000Z")];
  assert.deepEqual([...index.set("node1", moved)].sort(), ["a/one", "a/two", "b/three"]);
  assert.deepEqual([...index.set("node1", [])], ["b/three"]);
});

test("a NodeState without since (an older agent) still names its node", () => {
  const index = new AnnouncerIndex();
  index.set("old", [
    { address: "192.0.2.10", services: ["a/x"], mode: "Local", interface: "eth0" },
  ]);
  index.set("new", [local("192.0.2.10", ["a/x"], "not a time")]);
  // Neither time is usable: the order is the node names', the same on every replica.
  assert.equal(index.annotations("a/x", ["192.0.2.10"])[V4], "new eth0");
});

test("annotationChanges writes only what differs, null to remove", () => {
  assert.equal(
    annotationChanges({ [V4]: "n1 eth0" }, { [V4]: "n1 eth0", [V6]: undefined }),
    undefined,
  );
  assert.deepEqual(annotationChanges({ [V4]: "n1 eth0", other: "x" }, { [V4]: undefined }), {
    [V4]: null,
  });
  assert.deepEqual(annotationChanges(undefined, { [V4]: "n2 eth1" }), { [V4]: "n2 eth1" });
});
