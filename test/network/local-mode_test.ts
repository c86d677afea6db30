// Local (L2) mode end to end, on the real kernel: a lab of three nodes running real agents,
// a router, a client behind it and a client on the LAN. Needs root, iproute2, arping,
// ndisc6 and curl (scripts/test.sh installs them). On devkube by default; with
// HERALD_TEST_KUBE=real (npm run test:real) the same lab runs on kube-apiserver with real
// kube-proxy, and the Service is externalTrafficPolicy Local, so that the pod that
// answers is still the announcer's own and the answer names the node that took the
// traffic (with Cluster, kube-proxy would hand it to any node's pod).
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import {
  labBackends,
  labDown,
  labFail,
  labHeal,
  labRestartAgent,
  labStopAgent,
  labUp,
} from "../../src/lab/lab.ts";
import { type NeighbourMove } from "../../src/lab/neighbour-moves.ts";
import { outageAfter, type ProbeSample } from "../../src/lab/probe.ts";
import { LabSession, waitUntil } from "../../src/lab/session.ts";
import { herald } from "../cli.ts";
import { BACKEND } from "../cluster.ts";
import { requireNetworkTier } from "./require.ts";

const ref = { name: `lm${process.pid % 100000}` };
const POLICY = BACKEND === "real" ? "Local" : "Cluster";
let lab: LabSession;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function announcer(service: string, family: "ipv4" | "ipv6" = "ipv4") {
  const state = await lab.service(service);
  const value = state.annotations[`herald.dev/announcing-${family}`];
  return value ? { node: value.split(" ")[0]!, interface: value.split(" ")[1]!, state } : undefined;
}

/** Waits until exactly one node's kernel holds `address` and returns it. */
async function soleHolder(address: string, notOn?: string): Promise<string> {
  return waitUntil(
    `${address} on exactly one node${notOn ? ` other than ${notOn}` : ""}`,
    async () => {
      const holders = await lab.holders(address);
      return holders.length === 1 && holders[0] !== notOn ? holders[0] : undefined;
    },
  );
}

/** Waits until `node`, and only it, holds `address`. */
async function heldBy(address: string, node: string): Promise<void> {
  await waitUntil(`${address} on ${node} only`, async () => {
    const holders = await lab.holders(address);
    return holders.length === 1 && holders[0] === node;
  });
}

/** Waits until one node holds the service's IPv4 address and its annotation names that node. */
async function settled(service: string) {
  return waitUntil(`${service}'s announcer to settle`, async () => {
    const current = await announcer(service);
    const address = current?.state.addresses[0];
    if (!current || !address) return undefined;
    const holders = await lab.holders(address);
    return holders.length === 1 && holders[0] === current.node
      ? { ...current, address }
      : undefined;
  });
}

function macOf(node: string): string {
  return lab.info.nodes.find((n) => n.name === node)!.mac;
}

const nodeOfMac = (mac: string) => lab.info.nodes.find((n) => n.mac === mac)?.name ?? mac;
/** The first failed requests, and what the agents logged from 3 s before the first. */
const failedReport = (failed: readonly ProbeSample[]) =>
  failed.length === 0
    ? ""
    : `failed requests: ${JSON.stringify(failed.slice(0, 5))}\nagents:\n${lab.agentLog(failed[0]!.sentAt - 3000)}`;

/** The moves, and when there were any, what the agents logged from the first one on. */
const describeMoves = (moves: readonly NeighbourMove[]) =>
  moves.length === 0
    ? "none"
    : moves.map((m) => `${nodeOfMac(m.from)}→${nodeOfMac(m.to)}`).join(", ") +
      `\nagents, from 3 s before the first move:\n${lab.agentLog(moves[0]!.at - 3000)}`;

describe("local mode in the lab", { concurrency: false }, () => {
  before(async () => {
    requireNetworkTier(["ip", "arping", "ndisc6", "curl"]);
    await labDown(ref);
    const { state } = await labUp({ ...ref, nodes: 3, ipv6: true, agents: true, kube: BACKEND });
    lab = LabSession.open(state);
    await lab.applyPool("lan", {
      addresses: [state.localPool.ipv4, state.localPool.ipv6],
      announce: "Local",
    });
  });
  after(async () => {
    await lab?.close();
    await labDown(ref);
  });

  test("a dual-stack address answers ARP/NDP and HTTP from the LAN and via the router", async () => {
    const created = Date.now();
    await lab.createService("web", {
      ipFamilyPolicy: "RequireDualStack",
      ipFamilies: ["IPv4", "IPv6"],
      externalTrafficPolicy: POLICY,
    });
    // One node holds each address, and it is the one the annotation names. The lab is
    // up once every agent's detector is warm, so the first holder is the last; the
    // annotation follows its holder a moment later (written off the takeover path), so
    // wait until the two agree.
    const served = await waitUntil("both families announced by their holders", async () => {
      const v4 = await announcer("web", "ipv4");
      const v6 = await announcer("web", "ipv6");
      if (!v4 || !v6 || v4.state.addresses.length !== 2) return undefined;
      const [a4, a6] = v4.state.addresses as [string, string];
      const [h4, h6] = [await lab.holders(a4), await lab.holders(a6)];
      return h4.length === 1 && h4[0] === v4.node && h6.length === 1 && h6[0] === v6.node
        ? { v4, v6 }
        : undefined;
    });
    const [ipv4, ipv6] = served.v4.state.addresses as [string, string];
    assert.equal(served.v4.interface, "eth0");
    assert.equal(await soleHolder(ipv4), served.v4.node);
    assert.equal(await soleHolder(ipv6), served.v6.node);

    // kube-proxy writes its rules for a new address up to a second after Herald announces it.
    for (const address of [ipv4, ipv6])
      await waitUntil(
        `${address} served`,
        async () => (await lab.get("client", address, 1000).catch(() => undefined))?.status === 200,
      );
    // Every node runs a backend, so the answer names the node that took the traffic.
    assert.equal(await lab.curl("lanclient", ipv4), served.v4.node);
    assert.equal(await lab.curl("lanclient", ipv6), served.v6.node);
    assert.equal(await lab.curl("client", ipv4), served.v4.node);
    assert.equal(await lab.curl("client", ipv6), served.v6.node);
    // The LAN client resolved the address by ARP to the announcer's MAC.
    const neighbour = JSON.parse(
      await lab.exec("lanclient", ["ip", "-j", "neigh", "show", ipv4]),
    ) as {
      lladdr?: string;
    }[];
    assert.equal(neighbour[0]?.lladdr, macOf(served.v4.node));
    assert.equal(await lab.routerNeighbour(ipv4), macOf(served.v4.node));

    // The announcer's NodeState lists the address; the event says who announces.
    const nodeState = (await lab.api.request(
      "GET",
      `/apis/herald.dev/v1alpha1/nodestates/${served.v4.node}`,
    )) as { status?: { announced?: { address: string; interface: string; services: string[] }[] } };
    const { since, ...entry } = (nodeState.status?.announced?.find((a) => a.address === ipv4) ??
      {}) as { since?: string };
    assert.deepEqual(entry, {
      address: ipv4,
      services: ["default/web"],
      mode: "Local",
      interface: "eth0",
    });
    assert.ok(Date.now() - Date.parse(since ?? "") < 60_000, `since ${since}: just now`);
    const events = await waitUntil("an Announcing event", async () => {
      const list = await lab.events("web");
      return list.some((e) => e.reason === "Announcing") ? list : undefined;
    });
    assert.ok(events.some((e) => e.message === `${served.v4.node} announces ${ipv4} on eth0`));

    // herald status, against the lab as against a cluster, says the same.
    const status = herald(["status", "--kubeconfig", lab.info.kubeconfig, "-o", "json"]);
    assert.equal(status.code, 0, status.stderr);
    const view = JSON.parse(status.stdout) as {
      announcements: {
        address: string;
        mode: string;
        nodes: { node: string; interface: string }[];
        problems: string[];
      }[];
      nodes: { name: string }[];
    };
    const shown = view.announcements.find((a) => a.address === ipv4);
    assert.deepEqual(
      shown?.nodes,
      [{ node: served.v4.node, interface: "eth0" }],
      `agents since the Service was created:\n${lab.agentLog(created)}`,
    );
    assert.equal(shown?.mode, "Local");
    assert.deepEqual(shown?.problems, []);
    assert.equal(view.nodes.length, lab.info.nodes.length);
  });

  test("a hard node failure moves the address; the router's neighbour entry follows", async () => {
    const { node: failed, address } = await settled("web");
    const probe = lab.probe("client", address, {
      intervalMs: 10,
      timeoutMs: 3000,
      durationMs: 4000,
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    const failedAt = Date.now();
    await labFail(ref, failed, "hard");
    try {
      const outage = outageAfter(await probe.result, failedAt, failed);
      assert.ok(outage.firstGoodReplyMs !== undefined, "the client never got an answer again");
      // The failed node is frozen with the address still on it; the new holder is another.
      const holders = (await lab.holders(address)).filter((n) => n !== failed);
      assert.equal(holders.length, 1, `expected one other holder, got ${holders.join(",")}`);
      assert.equal(outage.servedBy, holders[0]);
      assert.equal(await lab.routerNeighbour(address), macOf(holders[0]!));
      const now = await waitUntil("the annotation to move", async () => {
        const current = await announcer("web");
        return current && current.node !== failed ? current : undefined;
      });
      assert.equal(now.node, holders[0]);
    } catch (error) {
      await labHeal(ref, failed);
      throw error;
    }
    // Healed, the node wins its addresses back and the other lets go: one holder again,
    // and the two never announce against each other meanwhile (each announcement moves
    // the router's entry, and each move resets the connections in flight).
    const { result: holder, moves } = await lab.routerMovesDuring(address, async () => {
      await labHeal(ref, failed);
      return soleHolder(address);
    });
    assert.ok(moves.length <= 1, `the router's entry moved ${describeMoves(moves)}`);
    // …and the router ends up at the node that holds it, not at the one that let go.
    assert.equal(await lab.routerNeighbour(address), macOf(holder), describeMoves(moves));
  });

  test("restarting an agent causes no outage for its addresses", async () => {
    const { node, address } = await settled("web");
    const probe = lab.probe("client", address, {
      intervalMs: 10,
      timeoutMs: 2000,
      durationMs: 6000,
    });
    const { result: samples, moves } = await lab.routerMovesDuring(address, async () => {
      await sleep(300);
      await labRestartAgent(ref, node);
      return probe.result;
    });
    const failed = samples.filter((s) => !s.ok);
    assert.equal(failed.length, 0, failedReport(failed));
    assert.equal(moves.length, 0, `the router's entry moved ${describeMoves(moves)}`);
    assert.equal(await soleHolder(address), node);
  });

  test("a rolling restart of every agent, one node at a time, loses no request", async () => {
    const { address } = await settled("web");
    const nodes = lab.info.nodes.map((n) => n.name);
    // Three restarts take about 15 s (a stop of up to 2 s, start, sync, detector warm-up).
    const probe = lab.probe("client", address, {
      intervalMs: 10,
      timeoutMs: 2000,
      durationMs: 20_000,
    });
    await sleep(300);
    const started = Date.now();
    const { result: samples, moves } = await lab.routerMovesDuring(address, async () => {
      for (const node of nodes) {
        await labRestartAgent(ref, node);
        // As the DaemonSet's maxUnavailable 1 waits for readiness.
        await lab.agentTookOver(node);
      }
      return probe.result;
    });
    const tookMs = Date.now() - started;
    assert.equal(moves.length, 0, `the router's entry moved ${describeMoves(moves)}`);
    const during = samples.filter((s) => s.sentAt >= started && s.sentAt < started + tookMs);
    const failed = samples.filter((s) => !s.ok);
    assert.ok(during.length > 100, `${during.length} requests during the rollout`);
    assert.equal(failed.length, 0, failedReport(failed));
    await settled("web");
  });

  test("planned maintenance: cordon, stop the agent, power the node off — no request fails", async () => {
    const { node, address } = await settled("web");
    const nodePath = `/api/v1/nodes/${node}`;
    const probe = lab.probe("client", address, {
      intervalMs: 10,
      timeoutMs: 2000,
      durationMs: 12_000,
    });
    await sleep(300);
    // A connection open across the handover: 1.8 s of lines, within the old holder's
    // 2 s drain after the move. It finishes there (flow-handoff.ts).
    const stream = lab.stream("client", address, 18, 100);
    await sleep(200);
    let passed = false;
    try {
      const { result: samples, moves } = await lab.routerMovesDuring(address, async () => {
        // As `kubectl drain` then a shutdown: no pause between the steps.
        await lab.api.mergePatch(nodePath, { spec: { unschedulable: true } });
        await labStopAgent(ref, node);
        await labFail(ref, node, "hard");
        return probe.result;
      });
      const next = await soleHolder(address, node);
      // One move, to the new holder, before the old one let go.
      assert.equal(
        moves.map((m) => `${nodeOfMac(m.from)}→${nodeOfMac(m.to)}`).join(", "),
        `${node}→${next}`,
        describeMoves(moves),
      );
      // Not even the connections in flight at the move fail: the new holder passes them to
      // the old one, which drains them (docs/operations.md).
      const failed = samples.filter((s) => !s.ok);
      assert.deepEqual(failed, [], failedReport(failed));
      const streamed = await stream;
      const movedAt = moves[0]!.at;
      assert.ok(
        streamed.startedAt < movedAt && movedAt < streamed.endedAt,
        `the stream (${streamed.startedAt}…${streamed.endedAt}) was not open at the move (${movedAt})`,
      );
      assert.equal(streamed.exitCode, 0, `the stream broke: ${streamed.lines.join(" | ")}`);
      assert.equal(streamed.lines.length, 18, streamed.lines.join(" | "));
      passed = true;
    } catch (error) {
      process.stderr.write(lab.agentLog(Date.now() - 30_000) + "\n");
      throw error;
    } finally {
      await labHeal(ref, node);
      await lab.api.mergePatch(nodePath, { spec: { unschedulable: null } });
      // Back in service, it takes back what it wins — make-before-break again — before
      // the next test starts, whether this one passed or not (then its own error counts).
      await heldBy(address, node).catch((error: unknown) => {
        if (passed) throw error;
      });
    }
  });

  test("excluded by label, NotReady, or no local endpoint: the address moves or is withdrawn", async () => {
    const { node: first, address } = await settled("web");
    const nodePath = `/api/v1/nodes/${first}`;
    const exclude = (value: string | null) =>
      lab.api.mergePatch(nodePath, {
        metadata: { labels: { "node.kubernetes.io/exclude-from-external-load-balancers": value } },
      });
    const setReady = async (ready: boolean) => {
      const node = (await lab.api.request("GET", nodePath)) as {
        status: { conditions: { type: string; status: string }[] };
      };
      for (const condition of node.status.conditions)
        if (condition.type === "Ready") condition.status = ready ? "True" : "False";
      await lab.api.request("PUT", `${nodePath}/status`, node);
    };

    await exclude("");
    await soleHolder(address, first);
    await exclude(null);
    await heldBy(address, first);

    await setReady(false);
    await soleHolder(address, first);
    await setReady(true);
    await heldBy(address, first);

    // externalTrafficPolicy Local: only a node with a local endpoint; none, no one.
    await lab.api.mergePatch("/api/v1/namespaces/default/services/web", {
      spec: { externalTrafficPolicy: "Local" },
    });
    const other = lab.info.nodes.map((n) => n.name).find((n) => n !== first)!;
    await labBackends(ref, [other]);
    await heldBy(address, other);
    await labBackends(ref, []);
    await waitUntil("the address withdrawn", async () => (await lab.holders(address)).length === 0);
    await labBackends(
      ref,
      lab.info.nodes.map((n) => n.name),
    );
    await lab.api.mergePatch("/api/v1/namespaces/default/services/web", {
      spec: { externalTrafficPolicy: POLICY },
    });
    await heldBy(address, first);
  });

  test("a node cut off from its peers and the API server withdraws its addresses", async () => {
    const { node, address } = await settled("web");
    await labFail(ref, node, "link");
    try {
      // Its peers take the address; the cut-off node lets go instead of holding a duplicate.
      await waitUntil(`${node} to withdraw ${address}`, async () => {
        const holders = await lab.holders(address);
        return holders.length === 1 && holders[0] !== node;
      });
    } finally {
      await labHeal(ref, node);
    }
    await heldBy(address, node);
  });

  test("bad input: a bad AgentConfig regex, a subnet no node has, a forged heartbeat", async () => {
    const nodeState = async (node: string) =>
      (await lab.api.request("GET", `/apis/herald.dev/v1alpha1/nodestates/${node}`)) as {
        status?: {
          conditions?: { type: string; status: string; reason: string; message: string }[];
        };
      };
    const condition = async (node: string, type: string) =>
      (await nodeState(node)).status?.conditions?.find((c) => c.type === type);

    // An invalid interface regex: a condition on every node, an event, and addresses still served.
    await lab.api.create("/apis/herald.dev/v1alpha1/agentconfigs", {
      apiVersion: "herald.dev/v1alpha1",
      kind: "AgentConfig",
      metadata: { name: "default" },
      spec: { localInterfaces: ["eth("] },
    });
    const bad = await waitUntil("ConfigValid=False", async () => {
      const c = await condition("node1", "ConfigValid");
      return c?.status === "False" ? c : undefined;
    });
    assert.match(bad.message, /eth\(/);
    const { address, node: holder } = await settled("web");
    assert.equal(
      await lab.curl("client", address),
      holder,
      `the router's entry: ${nodeOfMac((await lab.routerNeighbour(address)) ?? "none")}\n${lab.agentLog(Date.now() - 10_000)}`,
    );
    await lab.api.delete("/apis/herald.dev/v1alpha1/agentconfigs/default");
    await waitUntil(
      "ConfigValid=True",
      async () => (await condition("node1", "ConfigValid"))?.status === "True",
    );

    // A Local pool whose addresses are in no node's subnet: not announced, and said so.
    await lab.applyPool("elsewhere", {
      addresses: ["203.0.113.10-203.0.113.20"],
      announce: "Local",
    });
    await lab.createService("stranded", {}, { "herald.dev/pool": "elsewhere" });
    // Until its EndpointSlice arrives the reason is "no serving endpoint"; then the subnets.
    const events = await waitUntil("a NotAnnounced event naming the subnets", async () => {
      const list = await lab.events("stranded");
      return list.find(
        (e) => e.reason === "NotAnnounced" && e.message.includes("no eligible node"),
      );
    });
    assert.match(
      events.message,
      /203\.0\.113\.10 is not announced: no eligible node can hold the address on an interface/,
    );
    assert.match(
      events.message,
      /no interface on this node has a subnet containing 203\.0\.113\.10/,
    );
    for (const node of lab.info.nodes)
      assert.deepEqual(await lab.holders("203.0.113.10"), [], node.name);

    // A heartbeat signed with another key: dropped, counted, and visible in NodeState.
    const { encode } = await import("../../src/agent/detector/wire.ts");
    const { createSecretKey, randomBytes } = await import("node:crypto");
    const { createSocket } = await import("node:dgram");
    const forged = encode(
      {
        type: "heartbeat",
        sender: "node2",
        receiver: "node1",
        incarnation: Date.now(),
        sentAt: Date.now(),
        seq: 1,
        rumours: [],
      },
      createSecretKey(randomBytes(32)),
    );
    const socket = createSocket("udp4");
    await new Promise<void>((resolve, reject) =>
      socket.send(forged, 7474, lab.info.nodes[0]!.ipv4, (error) =>
        error ? reject(error) : resolve(),
      ),
    );
    socket.close();
    const unhealthy = await waitUntil("DetectorHealthy=False", async () => {
      const c = await condition("node1", "DetectorHealthy");
      return c?.status === "False" ? c : undefined;
    });
    assert.match(unhealthy.message, /dropped 1 unauthenticated/);
    // kube-proxy in IPVS mode without strictARP: a warning on every node.
    await lab.api.ensure("/api/v1/namespaces", {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: "kube-system" },
    });
    await lab.api.create("/api/v1/namespaces/kube-system/configmaps", {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "kube-proxy" },
      data: {
        "config.conf": "kind: KubeProxyConfiguration\nmode: ipvs\nipvs:\n  strictARP: false\n",
      },
    });
    const strictArp = await waitUntil("KubeProxyStrictARP=False", async () => {
      const c = await condition("node2", "KubeProxyStrictARP");
      return c?.status === "False" ? c : undefined;
    });
    assert.match(strictArp.message, /strictARP: true/);
    await lab.api.delete("/api/v1/namespaces/kube-system/configmaps/kube-proxy");
    await waitUntil(
      "KubeProxyStrictARP=True",
      async () => (await condition("node2", "KubeProxyStrictARP"))?.status === "True",
    );

    // Nothing else broke: the service is still served.
    assert.ok((await lab.curl("client", address)).startsWith("node"));
  });
});
