import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  ago,
  allocatedTrue,
  cluster,
  input,
  malformed,
  node,
  nodeState,
  service,
} from "../../test/status-objects.ts";
import { statusJson, statusView } from "./status-view.ts";

describe("statusView", () => {
  it("sums up the cluster in one line", () => {
    const view = statusView(cluster());
    assert.equal(
      view.summary.text,
      "3 pools (1 not ready), 4/~1.8e19 addresses used; 4 services served, 2 waiting, " +
        "1 not announced; 3 nodes, 1 BGP session down, 1 stale, 1 with failing conditions; " +
        "2 announcement problems",
    );
    assert.deepEqual(view.summary.services, { served: 4, waiting: 2, notAnnounced: 1 });
    assert.deepEqual(view.summary.bgpSessions, { total: 2, down: 1 });
    assert.deepEqual(view.summary.addresses, {
      allocated: "4",
      capacity: (19n + 2n ** 64n).toString(),
    });
  });

  it("shows each pool's use and why it is not ready", () => {
    const view = statusView(cluster());
    assert.deepEqual(
      view.pools.map((p) => [p.name, p.mode, p.ready, p.problem]),
      [
        ["lan", "Local", true, null],
        ["late", "Auto", false, "Conflict: overlaps pool lan (older)"],
        ["v6", "Routed", true, null],
      ],
    );
    assert.deepEqual(view.pools[0]?.allocated, { ipv4: "3", ipv6: "0" });
  });

  it("lists the services of Herald that wait, with the condition's reason", () => {
    const view = statusView(cluster());
    assert.deepEqual(
      view.waiting.map((w) => [`${w.namespace}/${w.name}`, w.reason]),
      [
        ["team-a/big", "PoolExhausted"],
        ["team-a/fresh", "NoCondition"],
      ],
    );
    assert.equal(view.waiting[0]?.message, "pool lan is full");
  });

  it("counts services without a class as Herald's only without --class-only", () => {
    const view = statusView({ ...cluster(), classOnly: true });
    assert.deepEqual(view.summary.services, { served: 1, waiting: 0, notAnnounced: 0 });
  });

  it("names served addresses nobody announces, with the latest NotAnnounced event", () => {
    const view = statusView(cluster());
    assert.deepEqual(view.notAnnounced, [
      {
        namespace: "default",
        name: "db",
        address: "192.168.10.241",
        family: "IPv4",
        event: {
          message: "192.168.10.241 is not announced: no serving endpoint",
          time: ago(120),
        },
      },
    ]);
  });

  it("says who announces each address and where annotations and NodeStates disagree", () => {
    const view = statusView(cluster());
    assert.deepEqual(
      view.announcements.map((a) => [a.address, a.mode, a.nodes, a.problems]),
      [
        ["192.168.10.240", "Local", [{ node: "node1", interface: "eth0" }], []],
        ["192.168.10.241", null, [], ["not announced"]],
        [
          "192.168.10.242",
          "Local",
          [{ node: "node2", interface: "eth0" }],
          ["NodeState node2 does not list it"],
        ],
        // The service wrote upper case; NodeState has the canonical form: one address.
        ["2001:db8:10::1", "Routed", [{ node: "node2", interface: "kube-lb0" }], []],
      ],
    );
  });

  it("reports node conditions that are not True, sessions and the detector view", () => {
    const [node1, node2] = statusView(cluster()).nodes;
    assert.deepEqual(node1?.conditions, []);
    assert.deepEqual(node1?.detector, { alive: ["node1", "node2"], suspects: [], dead: ["node3"] });
    assert.deepEqual(node1?.bgpSessions, [
      {
        peer: "router",
        state: "Established",
        since: ago(7320),
        uptimeSeconds: 7320,
        prefixesSent: 1,
        prefixesReceived: 0,
        lastError: null,
      },
    ]);
    assert.deepEqual(
      node2?.conditions.map((c) => [c.type, c.reason]),
      [["RoutingReady", "ConfigRefused"]],
    );
  });

  it("finds NodeStates that no longer describe a running agent", () => {
    const view = statusView(cluster());
    assert.deepEqual(view.nodes[2]?.stale, [
      "its Node is not Ready (KubeletUnknown)",
      "dead to 2 of 2 peers' failure detectors",
    ]);
    assert.deepEqual(view.nodesWithoutState, ["node4"]);
    const gone = statusView(
      input({
        nodeStates: [
          nodeState("ghost", { updateTime: ago(10) }),
          nodeState("silent", undefined),
          nodeState("restarting", {}, { "herald.dev/restarting-until": ago(600) }),
        ],
        nodes: [node("silent"), node("restarting")],
      }),
    );
    assert.deepEqual(
      gone.nodes.map((n) => [n.name, n.stale]),
      [
        ["ghost", ["its Node no longer exists"]],
        ["restarting", [`its agent stopped to restart and has not announced since ${ago(600)}`]],
        ["silent", ["no status: its agent has never reported"]],
      ],
    );
  });

  it("does not judge a node gone when Nodes could not be read, and says so", () => {
    const view = statusView(input({ nodeStates: [nodeState("n", {})], nodes: undefined }));
    assert.deepEqual(view.nodes[0]?.stale, []);
    assert.match(view.warnings.join("\n"), /Nodes could not be read/);
  });

  it("flags two nodes answering for one local address, and routed addresses nobody lists", () => {
    const listed = (address: string, mode: string, iface: string, services: string[]) => ({
      address,
      mode,
      interface: iface,
      services,
    });
    const view = statusView(
      input({
        services: [
          service("a", "one", {
            ips: ["10.0.0.1"],
            allocated: allocatedTrue,
            annotations: { "herald.dev/announcing-ipv4": "n1 eth0" },
          }),
          service("a", "two", {
            ips: ["10.0.0.2"],
            allocated: allocatedTrue,
            annotations: { "herald.dev/announcing-ipv4": "routed" },
          }),
          service("a", "three", {
            ips: ["10.0.0.3"],
            allocated: allocatedTrue,
            annotations: { "herald.dev/announcing-ipv4": "n1 eth0" },
          }),
          service("a", "four", {
            ips: ["10.0.0.4"],
            allocated: allocatedTrue,
            annotations: { "herald.dev/announcing-ipv4": "n9 eth0" },
          }),
        ],
        nodeStates: [
          nodeState("n1", {
            announced: [
              listed("10.0.0.1", "Local", "eth0", ["a/one"]),
              listed("10.0.0.3", "Local", "eth1", ["a/three"]),
            ],
          }),
          nodeState("n2", {
            announced: [
              listed("10.0.0.1", "Local", "eth0", ["a/one"]),
              listed("10.0.0.9", "Routed", "kube-lb0", ["a/gone"]),
            ],
          }),
        ],
        nodes: [node("n1"), node("n2")],
      }),
    );
    assert.deepEqual(
      view.announcements.map((a) => [a.address, a.problems]),
      [
        ["10.0.0.1", ["also on n2 eth0: more than one node answers ARP/NDP"]],
        ["10.0.0.2", ["annotated routed, but no NodeState lists it"]],
        ["10.0.0.3", ["NodeState n1 lists it on eth1, not eth0"]],
        ["10.0.0.4", ["n9 has no NodeState"]],
        ["10.0.0.9", ["no Herald service holds it, yet n2 announce it"]],
      ],
    );
    assert.deepEqual(view.announcements[4]?.services, ["a/gone"]);
  });

  it("keeps a service with a False condition and an address among the waiting", () => {
    const view = statusView(
      input({
        services: [
          service("a", "keeps", {
            ips: ["10.0.0.1"],
            allocated: {
              status: "False",
              reason: "InvalidRequest",
              message: "keeps 10.0.0.1; bad annotation",
            },
            annotations: { "herald.dev/announcing-ipv4": "n1 eth0" },
          }),
        ],
      }),
    );
    assert.deepEqual(view.summary.services, { served: 0, waiting: 1, notAnnounced: 0 });
    assert.deepEqual(view.waiting[0]?.addresses, ["10.0.0.1"]);
  });
});

describe("statusView on malformed objects", () => {
  const garbage = malformed();

  it("neither throws nor invents: missing becomes unknown, malformed becomes a problem", () => {
    const view = statusView(garbage);
    const odd = view.pools.find((p) => p.name === "odd");
    assert.deepEqual(odd?.addresses, ["10.0.0.0/30"]);
    assert.equal(odd?.mode, "Auto");
    assert.equal(odd?.capacity, null);
    assert.match(view.pools.find((p) => p.name === "behind")?.problem ?? "", /generation 1.*at 2/);
    assert.equal(
      view.pools.find((p) => p.name === "nospec")?.problem,
      "no status yet: is a controller running and leading?",
    );
    const bad = view.announcements.find((a) => a.address === "10.0.0.7");
    assert.deepEqual(bad?.problems, ['malformed herald.dev/announcing-ipv4 annotation: "node1"']);
    const n1 = view.nodes.find((n) => n.name === "n1");
    assert.deepEqual(n1?.announced, { local: 0, routed: 0 });
    assert.deepEqual(
      n1?.bgpSessions.map((s) => [s.peer, s.state, s.uptimeSeconds]),
      [
        ["?", "?", null],
        ["p", "Established", null],
        ["?", "?", null],
      ],
    );
    assert.deepEqual(n1?.detector, { alive: [], suspects: [], dead: [] });
    assert.deepEqual(
      n1?.conditions.map((c) => c.status),
      ["Unknown"],
    );
  });

  it("still makes valid JSON", () => {
    assert.doesNotThrow(() => JSON.parse(statusJson(statusView(garbage))));
  });
});
