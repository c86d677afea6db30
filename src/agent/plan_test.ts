import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { NodeInfo, ServiceInfo } from "./announcements.ts";
import { iface } from "../../test/kernel-interfaces.ts";
import {
  DRAIN_INTERFACE,
  desiredAddresses,
  planNode,
  shutdownPhaseEnd,
  type AgentSnapshot,
} from "./plan.ts";
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
    now: 1_000_000,
    holding: new Map(),
    routing: new Set(),
    announcedBy: new Map(),
    routedBy: new Map(),
    handingOver: new Map(),
    draining: new Map(),
    shuttingDown: new Map(),
    // Drains are off here but in the test of them: the handover tests let go at once.
    maintenance: { handoverTimeoutMs: 5000, gracefulShutdownMs: 3000, connectionDrainMs: 0 },
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

  describe("planned maintenance", () => {
    const two = (leaving?: string) =>
      new Map([
        ["node1", { ...node("node1"), ...(leaving ? { leaving } : {}) }],
        ["node2", node("node2")],
      ]);
    const both = new Set(["node1", "node2"]);
    const everywhere: ServiceInfo = {
      ...web,
      endpoints: [
        { nodeName: "node1", serving: true },
        { nodeName: "node2", serving: true },
      ],
    };
    // node1 wins 192.0.2.10 between the two (rendezvous); find an address it wins.
    const address = ["192.0.2.10", "192.0.2.11", "192.0.2.12", "192.0.2.13"].find(
      (a) =>
        planNode(
          snapshot({ nodes: two(), alive: both, services: [{ ...everywhere, addresses: [a] }] }),
        ).local.length === 1,
    )!;
    const service = { ...everywhere, addresses: [address] };
    const holding = new Map([[address, "eth0"]]);

    it("elects a leaving node only where no other node is eligible", () => {
      assert.equal(
        planNode(snapshot({ nodes: two(), alive: both, services: [service] })).decisions[0]
          ?.announcer,
        "node1",
      );
      const draining = planNode(
        snapshot({ nodes: two("cordoned"), alive: both, services: [service] }),
      );
      assert.equal(draining.decisions[0]?.announcer, "node2");
      // Alone, the leaving node keeps announcing: better than nothing until it goes.
      const alone = planNode(
        snapshot({
          nodes: new Map([["node1", { ...node("node1"), leaving: "cordoned" }]]),
          services: [service],
        }),
      );
      assert.equal(alone.decisions[0]?.announcer, "node1");
      assert.equal(alone.local.length, 1);
    });

    it("keeps a moved address until the new holder announces it, make-before-break", () => {
      const base = { nodes: two("cordoned"), alive: both, services: [service], holding };
      const first = planNode(snapshot(base));
      assert.deepEqual(
        first.local.map((d) => [d.address, d.interface, d.handingOverTo]),
        [[address, "eth0", "node2"]],
      );
      assert.deepEqual([...first.handingOver], [[address, 1_000_000]]);
      // Still waiting a second later: the start time carries over.
      const later = planNode(snapshot({ ...base, now: 1_001_000, handingOver: first.handingOver }));
      assert.equal(later.local.length, 1);
      assert.deepEqual([...later.handingOver], [[address, 1_000_000]]);
      // node2's NodeState lists it: let go.
      const done = planNode(
        snapshot({
          ...base,
          now: 1_001_200,
          handingOver: later.handingOver,
          announcedBy: new Map([[address, new Set(["node2"])]]),
        }),
      );
      assert.deepEqual(done.local, []);
      assert.equal(done.handingOver.size, 0);
      // Or the timeout passes without it.
      const expired = planNode(
        snapshot({ ...base, now: 1_005_000, handingOver: first.handingOver }),
      );
      assert.deepEqual(expired.local, []);
    });

    it("after the new holder announces, keeps the address connectionDrainMs more, draining", () => {
      const maintenance = {
        handoverTimeoutMs: 5000,
        gracefulShutdownMs: 3000,
        connectionDrainMs: 2000,
      };
      const announced = new Map([[address, new Set(["node2"])]]);
      const base = {
        nodes: two("cordoned"),
        alive: both,
        services: [service],
        holding,
        maintenance,
        announcedBy: announced,
      };
      const waiting = planNode(snapshot({ ...base, announcedBy: new Map() }));
      assert.equal(waiting.local[0]?.draining, undefined, "not before node2 announces");
      const first = planNode(snapshot({ ...base, handingOver: waiting.handingOver }));
      assert.deepEqual(
        first.local.map((d) => [d.address, d.interface, d.handingOverTo, d.draining]),
        [[address, "eth0", "node2", true]],
      );
      assert.equal(first.handingOver.size, 0);
      assert.deepEqual([...first.draining], [[address, 1_000_000]]);
      const later = planNode(snapshot({ ...base, now: 1_001_999, draining: first.draining }));
      assert.equal(later.local.length, 1);
      assert.deepEqual([...later.draining], [[address, 1_000_000]]);
      const done = planNode(snapshot({ ...base, now: 1_002_000, draining: later.draining }));
      assert.deepEqual(done.local, []);
      assert.equal(done.draining.size, 0);
      // Elected here again meanwhile: announced as its own, not drained.
      const back = planNode(snapshot({ ...base, nodes: two(), draining: first.draining }));
      assert.deepEqual(
        back.local.map((d) => [d.address, d.handingOverTo, d.draining]),
        [[address, undefined, undefined]],
      );
      assert.equal(back.draining.size, 0);
    });

    it("hands nothing over while isolated, and keeps nothing it does not hold", () => {
      const base = { nodes: two("cordoned"), alive: both, services: [service] };
      assert.deepEqual(planNode(snapshot({ ...base, holding, isolated: true })).local, []);
      assert.deepEqual(planNode(snapshot(base)).local, []);
    });

    it("sends a leaving node's routes with GRACEFUL_SHUTDOWN for a while, then withdraws them", () => {
      const routedPool = pool("bgp", { addresses: ["203.0.113.0/24"], announce: "Routed" });
      const routedService = { ...everywhere, addresses: ["203.0.113.7"] };
      const base = {
        nodes: two("cordoned"),
        alive: both,
        pools: [routedPool],
        services: [routedService],
        routing: new Set(["203.0.113.7"]),
      };
      const first = planNode(snapshot(base));
      assert.deepEqual(first.decisions[0]?.routedBy, ["node2"]);
      assert.deepEqual(
        first.routed.map((d) => [d.address, d.gracefulShutdown]),
        [["203.0.113.7", true]],
      );
      const after = planNode(
        snapshot({ ...base, now: 1_003_000, shuttingDown: first.shuttingDown }),
      );
      assert.deepEqual(after.routed, []);
      // Not leaving (another reason moved it), or not routing it now: no such phase.
      assert.deepEqual(planNode(snapshot({ ...base, routing: new Set() })).routed, []);
      // The only node left routes it as before, without the community.
      const alone = planNode(
        snapshot({
          ...base,
          nodes: new Map([["node1", { ...node("node1"), leaving: "cordoned" }]]),
          alive: new Set(["node1"]),
        }),
      );
      assert.deepEqual(
        alone.routed.map((d) => [d.address, d.gracefulShutdown]),
        [["203.0.113.7", undefined]],
      );
    });

    it("keeps a withdrawn route's address connectionDrainMs more, unadvertised, for its connections", () => {
      const maintenance = {
        handoverTimeoutMs: 5000,
        gracefulShutdownMs: 3000,
        connectionDrainMs: 2000,
      };
      const routedPool = pool("bgp", {
        addresses: ["203.0.113.0/24"],
        announce: "Routed",
        aggregation: { ipv4: 28 },
      });
      const base = {
        nodes: two("cordoned"),
        alive: both,
        pools: [routedPool],
        services: [{ ...everywhere, addresses: ["203.0.113.7"] }],
        routing: new Set(["203.0.113.7"]),
        maintenance,
      };
      const first = planNode(snapshot(base));
      assert.deepEqual(desiredAddresses(first, "kube-lb0"), [
        { address: "203.0.113.7", prefixLength: 28, interface: "kube-lb0" },
      ]);
      const at = (now: number) =>
        planNode(snapshot({ ...base, now, shuttingDown: first.shuttingDown }));
      const stillShuttingDown = at(1_002_999);
      assert.deepEqual(
        stillShuttingDown.routed.map((d) => [d.gracefulShutdown, d.draining]),
        [[true, undefined]],
      );
      // Withdrawn from the virtual interface, and still delivered here as a host address.
      const draining = at(1_003_000);
      assert.deepEqual(
        draining.routed.map((d) => [d.address, d.gracefulShutdown, d.draining]),
        [["203.0.113.7", true, true]],
      );
      assert.deepEqual(desiredAddresses(draining, "kube-lb0"), [
        { address: "203.0.113.7", prefixLength: 32, interface: DRAIN_INTERFACE },
      ]);
      assert.deepEqual([...draining.shuttingDown], [["203.0.113.7", 1_000_000]]);
      assert.equal(at(1_004_999).routed.length, 1);
      const done = at(1_005_000);
      assert.deepEqual(done.routed, []);
      assert.equal(done.shuttingDown.size, 0);
      // Without a drain the address goes at the withdrawal, as before.
      const noDrain = { ...maintenance, connectionDrainMs: 0 };
      assert.deepEqual(
        planNode(
          snapshot({
            ...base,
            maintenance: noDrain,
            now: 1_003_000,
            shuttingDown: first.shuttingDown,
          }),
        ).routed,
        [],
      );
      // The agent wakes at each phase's end: the withdrawal, then the end of the drain.
      assert.equal(shutdownPhaseEnd(1_000_000, 1_000_500, maintenance), 1_003_000);
      assert.equal(shutdownPhaseEnd(1_000_000, 1_003_000, maintenance), 1_005_000);
      assert.equal(shutdownPhaseEnd(1_000_000, 1_003_000, noDrain), 1_003_000);
    });
  });
});
