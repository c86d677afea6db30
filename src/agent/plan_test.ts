import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { NodeInfo, ServiceInfo } from "./announcements.ts";
import { iface } from "../../test/kernel-interfaces.ts";
import { desiredAddresses, planNode, type AgentSnapshot } from "./plan.ts";
import { pool } from "../../test/fixtures.ts";

const node = (name: string): NodeInfo => ({
  name,
  labels: {},
  ready: true,
  networkUnavailable: false,
});

const web: ServiceInfo = {
  key: "default/web",
  addresses: ["192.0.2.10"],
  trafficPolicy: "Cluster",
  endpoints: [{ nodeName: "node1", serving: true }],
};

function snapshot(changes: Partial<AgentSnapshot> = {}): AgentSnapshot {
  return {
    self: "node1",
    localInterfaces: [],
    interfaces: [iface("eth0", ["192.0.2.1/24"])],
    published: new Map(),
    nodes: new Map([["node1", node("node1")]]),
    alive: new Set(["node1"]),
    pools: [pool("lan", { addresses: ["192.0.2.0/24"] })],
    services: [web],
    isolated: false,
    ...changes,
  };
}

describe("planNode", () => {
  it("announces on the interface whose subnet holds the address", () => {
    const plan = planNode(snapshot());
    assert.deepEqual(
      plan.local.map((d) => [d.address, d.interface]),
      [["192.0.2.10", "eth0"]],
    );
    assert.deepEqual(desiredAddresses(plan, undefined), [
      { address: "192.0.2.10", prefixLength: 32, interface: "eth0" },
    ]);
  });

  it("holds no local address while isolated, and keeps its decisions for the reporter", () => {
    const plan = planNode(snapshot({ isolated: true }));
    assert.deepEqual(plan.local, []);
    assert.equal(plan.decisions[0]?.announcer, "node1");
  });

  it("places a peer by the interfaces its NodeState publishes", () => {
    const nodes = new Map([
      ["node1", node("node1")],
      ["node2", node("node2")],
    ]);
    const alive = new Set(["node1", "node2"]);
    // node2 publishes no interface on the pool's subnet: only node1 can hold the address.
    const published = new Map([["node2", [{ name: "eth0", subnets: ["198.51.100.2/24"] }]]]);
    const plan = planNode(snapshot({ nodes, alive, published }));
    assert.equal(plan.decisions[0]?.announcer, "node1");
  });

  it("counts a peer that has published nothing yet as able to hold the address", () => {
    const nodes = new Map([
      ["node1", node("node1")],
      ["node2", node("node2")],
    ]);
    const both = planNode(snapshot({ nodes, alive: new Set(["node1", "node2"]) }));
    const announcer = both.decisions[0]?.announcer;
    assert.ok(announcer === "node1" || announcer === "node2");
    // The same election from node2's side: exactly one of the two announces.
    const fromNode2 = planNode(
      snapshot({
        self: "node2",
        nodes,
        alive: new Set(["node1", "node2"]),
        published: new Map([["node1", [{ name: "eth0", subnets: ["192.0.2.1/24"] }]]]),
      }),
    );
    assert.equal(both.local.length + fromNode2.local.length, 1);
  });

  it("leaves a dead peer out of the election", () => {
    const nodes = new Map([
      ["node1", node("node1")],
      ["node2", node("node2")],
    ]);
    const plan = planNode(snapshot({ self: "node2", nodes, alive: new Set(["node2"]) }));
    assert.equal(plan.decisions[0]?.announcer, "node2");
  });

  it("puts routed addresses on the virtual interface with the pool's aggregation", () => {
    const routedPool = pool("bgp", {
      addresses: ["203.0.113.0/24"],
      announce: "Routed",
      aggregation: { ipv4: 24 },
    });
    const service = { ...web, addresses: ["203.0.113.7"] };
    const plan = planNode(snapshot({ pools: [routedPool], services: [service], isolated: true }));
    assert.equal(plan.routed.length, 1, "routed addresses stay while isolated");
    assert.deepEqual(desiredAddresses(plan, "kube-lb0"), [
      { address: "203.0.113.7", prefixLength: 24, interface: "kube-lb0" },
    ]);
    assert.deepEqual(desiredAddresses(plan, undefined), [], "none without the interface");
  });

  it("ignores an invalid interface regex instead of refusing every address", () => {
    const plan = planNode(snapshot({ localInterfaces: ["(", "^eth"] }));
    assert.equal(plan.local[0]?.interface, "eth0");
  });
});
