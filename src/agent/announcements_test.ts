import { test } from "node:test";
import assert from "node:assert/strict";
import {
  decideAnnouncements,
  EXCLUDE_LABEL,
  type AnnouncementInputs,
  type NodeInfo,
  type PoolInfo,
  type ServiceInfo,
} from "./announcements.ts";
import type { NodeInterface } from "../api/nodestate.ts";
import { electAnnouncer } from "./election.ts";

const NODES = ["node1", "node2", "node3"];

function node(name: string, changes: Partial<NodeInfo> = {}): NodeInfo {
  return {
    name,
    labels: { zone: name === "node3" ? "b" : "a" },
    ready: true,
    networkUnavailable: false,
    ...changes,
  };
}

const LAN: PoolInfo = {
  name: "lan",
  announce: "Local",
  nodeSelector: undefined,
  interfaces: [],
  aggregation: { IPv4: 32, IPv6: 128 },
};

function service(changes: Partial<ServiceInfo> = {}): ServiceInfo {
  return {
    key: "default/web",
    addresses: ["192.0.2.10"],
    trafficPolicy: "Cluster",
    endpoints: [{ nodeName: "node1", serving: true }],
    ...changes,
  };
}

/** Each node with one interface: eth0 on the service's subnet, as NodeState publishes it. */
function published(name = "eth0", subnet = "192.0.2.1/24"): Map<string, NodeInterface[]> {
  return new Map(NODES.map((n) => [n, [{ name, subnets: [subnet] }]]));
}

/** No node has an interface on the service's subnet. */
const NO_SUBNET = new Map(NODES.map((n) => [n, [{ name: "eth0", subnets: ["198.51.100.1/24"] }]]));

function inputs(
  changes: Partial<AnnouncementInputs> & { pool?: PoolInfo | null } = {},
): AnnouncementInputs {
  const { pool = LAN, ...rest } = changes;
  const services = rest.services ?? [service()];
  return {
    nodes: new Map(NODES.map((n) => [n, node(n)])),
    alive: new Set(NODES),
    pools: new Map(
      pool === null ? [] : services.flatMap((s) => s.addresses.map((a) => [a, pool] as const)),
    ),
    services,
    interfaces: published(),
    ...rest,
  };
}

/** Every node but `node`. */
function allBut(node: string): Set<string> {
  return new Set(NODES.filter((n) => n !== node));
}

function decideOne(changes: AnnouncementInputs) {
  const decisions = decideAnnouncements(changes);
  assert.equal(decisions.length, 1);
  return decisions[0]!;
}

test("one node announces a local address: the rendezvous winner", () => {
  const decision = decideOne(inputs());
  assert.equal(decision.mode, "Local");
  assert.equal(decision.announcer, electAnnouncer("192.0.2.10", NODES));
  assert.equal(decision.interface, "eth0");
  assert.equal(decision.problem, undefined);
});

test("a node that is dead, NotReady, without network or excluded is never elected", () => {
  const winner = electAnnouncer("192.0.2.10", NODES)!;
  const cases: [string, Partial<AnnouncementInputs>][] = [
    ["dead", { alive: allBut(winner) }],
    ["not ready", { nodes: new Map(NODES.map((n) => [n, node(n, { ready: n !== winner })])) }],
    [
      "network unavailable",
      { nodes: new Map(NODES.map((n) => [n, node(n, { networkUnavailable: n === winner })])) },
    ],
    [
      "excluded",
      {
        nodes: new Map(
          NODES.map((n) => [n, node(n, { labels: n === winner ? { [EXCLUDE_LABEL]: "" } : {} })]),
        ),
      },
    ],
  ];
  for (const [what, change] of cases) {
    const decision = decideOne(inputs(change));
    const others = NODES.filter((n) => n !== winner);
    assert.equal(decision.announcer, electAnnouncer("192.0.2.10", others), what);
  }
});

test("the pool's node selector limits the candidates", () => {
  const pool = { ...LAN, nodeSelector: { matchLabels: { zone: "b" } } };
  const decision = decideOne(inputs({ pool }));
  assert.equal(decision.announcer, "node3");
});

test("nothing is announced while the service has no serving endpoint", () => {
  const decision = decideOne(
    inputs({ services: [service({ endpoints: [{ nodeName: "node1", serving: false }] })] }),
  );
  assert.equal(decision.announcer, undefined);
  assert.equal(decision.problem, "no serving endpoint");
  assert.ok(decision.reporter !== undefined);
});

test("externalTrafficPolicy Local: only nodes with a local serving endpoint", () => {
  const endpoints = [
    { nodeName: "node2", serving: true },
    { nodeName: "node3", serving: false },
  ];
  const decision = decideOne(
    inputs({ services: [service({ trafficPolicy: "Local", endpoints })] }),
  );
  assert.equal(decision.announcer, "node2");
  const gone = decideOne(
    inputs({
      services: [service({ trafficPolicy: "Local", endpoints })],
      alive: allBut("node2"),
    }),
  );
  assert.equal(gone.announcer, undefined);
  assert.match(gone.problem ?? "", /serving endpoint/);
});

test("services sharing an address elect together", () => {
  const a = service({ key: "default/a", endpoints: [] });
  const b = service({ key: "default/b" });
  const decisions = decideAnnouncements(inputs({ services: [a, b] }));
  assert.equal(decisions.length, 1);
  assert.deepEqual(decisions[0]!.services, ["default/a", "default/b"]);
  assert.ok(decisions[0]!.announcer);
});

test("nodes that cannot place the address are passed over; with none, a problem with a reporter", () => {
  const winner = electAnnouncer("192.0.2.10", NODES)!;
  const decision = decideOne(
    inputs({
      interfaces: new Map(
        NODES.map((n) => [
          n,
          [
            {
              name: n === winner ? "eth0" : "eth1",
              subnets: [n === winner ? "198.51.100.1/24" : "192.0.2.1/24"],
            },
          ],
        ]),
      ),
    }),
  );
  assert.notEqual(decision.announcer, winner);
  assert.equal(decision.interface, "eth1");

  const none = decideOne(inputs({ interfaces: NO_SUBNET }));
  assert.equal(none.announcer, undefined);
  assert.match(
    none.problem ?? "",
    /node1: no interface on this node has a subnet containing 192\.0\.2\.10/,
  );
  assert.equal(none.reporter, winner);
});

test("Auto pools fall back to routed when no node can place the address locally", () => {
  const auto = { ...LAN, announce: "Auto" as const };
  const decision = decideOne(inputs({ pool: auto, interfaces: NO_SUBNET }));
  assert.equal(decision.mode, "Routed");
  assert.deepEqual(decision.routedBy, NODES);
  const local = decideOne(inputs({ pool: auto }));
  assert.equal(local.mode, "Local");
});

test("an address no pool owns is reported, not announced", () => {
  const decision = decideOne(inputs({ pool: null }));
  assert.equal(decision.announcer, undefined);
  assert.equal(decision.problem, "no AddressPool owns this address");
});

test("routed addresses go to every eligible node, with the pool's aggregation or a host route", () => {
  const routed = { ...LAN, announce: "Routed" as const, aggregation: { IPv4: 28, IPv6: 64 } };
  const cluster = decideOne(inputs({ pool: routed }));
  assert.equal(cluster.mode, "Routed");
  assert.deepEqual(cluster.routedBy, NODES);
  assert.equal(cluster.prefixLength, 28);
  const local = decideOne(
    inputs({
      pool: routed,
      services: [
        service({ trafficPolicy: "Local", endpoints: [{ nodeName: "node3", serving: true }] }),
      ],
    }),
  );
  assert.deepEqual(local.routedBy, ["node3"]);
  assert.equal(local.prefixLength, 32);
});
