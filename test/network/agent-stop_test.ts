// What an agent does when it stops, by what its DaemonSet says (the agents run with
// --daemonset, as deploy/ starts them): a rolling update keeps every address where it is,
// a DaemonSet that no longer selects the node hands its addresses over, and a DaemonSet
// that is gone (an uninstall) takes every address off the kernel — nothing would ever
// withdraw them otherwise. Its own lab, so that the agents of local-mode_test run as they
// always did. Needs root, iproute2, arping, ndisc6 and curl (scripts/test.sh installs them);
// on devkube by default, on kube-apiserver with HERALD_TEST_KUBE=real.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { labDown, labRestartAgent, labStopAgent, labUp } from "../../src/lab/lab.ts";
import { failuresAtMoves } from "../../src/lab/neighbour-moves.ts";
import { AGENT_DAEMONSET, INSTALL_NAMESPACE } from "../../src/lab/objects.ts";
import { LabSession, waitUntil } from "../../src/lab/session.ts";
import { BACKEND } from "../cluster.ts";
import { requireNetworkTier } from "./require.ts";

const ref = { name: `as${process.pid % 100000}` };
const DAEMONSET = `/apis/apps/v1/namespaces/${INSTALL_NAMESPACE}/daemonsets/${AGENT_DAEMONSET}`;
const SELECTED = "herald.dev/lab-agent";
let lab: LabSession;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The node that holds `address`, alone, once the Service's annotation agrees. */
async function holder(address: string): Promise<string> {
  return waitUntil(`one holder of ${address}`, async () => {
    const holders = await lab.holders(address);
    const named = (await lab.service("web")).annotations["herald.dev/announcing-ipv4"];
    return holders.length === 1 && named?.startsWith(`${holders[0]} `) ? holders[0] : undefined;
  });
}

/** Restarts `node`'s agent and waits until its detector is warm: it acts on a full view. */
async function restarted(node: string): Promise<void> {
  const since = Date.now();
  await labRestartAgent(ref, node);
  await waitUntil(`${node}'s new agent to warm up`, () =>
    lab.agentLog(since).includes(` ${node} failure detector ready`),
  );
}

/** Runs `steps` under a probe from the client; the failures and the router's moves. */
async function probed(address: string, durationMs: number, steps: () => Promise<void>) {
  const probe = lab.probe("client", address, { intervalMs: 10, timeoutMs: 2000, durationMs });
  try {
    const { result: samples, moves } = await lab.routerMovesDuring(address, async () => {
      await sleep(300);
      await steps();
      return probe.result;
    });
    return { samples, moves, ...failuresAtMoves(samples, moves) };
  } catch (error) {
    await probe.result.catch(() => undefined);
    throw error;
  }
}

describe("an agent's stop, by its DaemonSet", { concurrency: false }, () => {
  let ipv4 = "";
  let ipv6 = "";

  before(async () => {
    requireNetworkTier(["ip", "arping", "ndisc6", "curl"]);
    await labDown(ref);
    const { state } = await labUp({
      ...ref,
      nodes: 3,
      ipv6: true,
      agents: true,
      kube: BACKEND,
      daemonSet: true,
    });
    lab = LabSession.open(state);
    await lab.applyPool("lan", {
      addresses: [state.localPool.ipv4, state.localPool.ipv6],
      announce: "Local",
    });
    await lab.createService("web", {
      ipFamilyPolicy: "RequireDualStack",
      ipFamilies: ["IPv4", "IPv6"],
      externalTrafficPolicy: BACKEND === "real" ? "Local" : "Cluster",
    });
    [ipv4, ipv6] = await waitUntil("web's two addresses", async () => {
      const { addresses } = await lab.service("web");
      return addresses.length === 2 ? (addresses as [string, string]) : undefined;
    });
    await waitUntil(
      `${ipv4} served`,
      async () => (await lab.get("client", ipv4, 1000).catch(() => undefined))?.status === 200,
    );
  });
  after(async () => {
    await lab?.close();
    await labDown(ref);
  });

  test("the DaemonSet in place: a restart keeps the addresses where they are", async () => {
    const node = await holder(ipv4);
    const { samples, moves } = await probed(ipv4, 5000, async () => {
      await labRestartAgent(ref, node);
    });
    const failed = samples.filter((s) => !s.ok);
    const log = () => `\nagents meanwhile:\n${lab.agentLog(samples[0]?.sentAt ?? 0)}`;
    assert.equal(
      failed.length,
      0,
      `failed requests: ${JSON.stringify(failed.slice(0, 5))}${log()}`,
    );
    assert.equal(moves.length, 0, `the router's entry moved: ${JSON.stringify(moves)}${log()}`);
    assert.equal(await holder(ipv4), node);
  });

  test("a DaemonSet that no longer selects the node: its agent hands over as it stops", async () => {
    const node = await holder(ipv4);
    const others = lab.info.nodes.map((n) => n.name).filter((n) => n !== node);
    for (const other of others)
      await lab.api.mergePatch(`/api/v1/nodes/${other}`, {
        metadata: { labels: { [SELECTED]: "yes" } },
      });
    await lab.api.mergePatch(DAEMONSET, {
      spec: { template: { spec: { nodeSelector: { [SELECTED]: "yes" } } } },
    });
    try {
      const { moves, atMove, other } = await probed(ipv4, 5000, async () => {
        await labStopAgent(ref, node);
      });
      // Handed over make-before-break: one move, and nothing lost, not even the connection
      // in flight at that instant (the new holder passes it to the old: flow-handoff.ts).
      assert.equal(moves.length, 1);
      assert.deepEqual(other, []);
      assert.deepEqual(atMove, []);
      const next = await holder(ipv4);
      assert.ok(others.includes(next), `${next} holds ${ipv4}`);
      assert.deepEqual(await lab.holders(ipv6).then((h) => h.includes(node)), false);
    } finally {
      await lab.api.mergePatch(DAEMONSET, {
        spec: { template: { spec: { nodeSelector: null } } },
      });
      for (const other of others)
        await lab.api.mergePatch(`/api/v1/nodes/${other}`, {
          metadata: { labels: { [SELECTED]: null } },
        });
      await restarted(node);
    }
  });

  test("stopped on a cordoned node before its detector is warm: it still hands over", async () => {
    // A warm-up of 3 s, so that the stop surely lands inside it.
    const configured = Date.now();
    await lab.api.create("/apis/herald.dev/v1alpha1/agentconfigs", {
      apiVersion: "herald.dev/v1alpha1",
      kind: "AgentConfig",
      metadata: { name: "default" },
      spec: { failureDetector: { intervalMs: 100, suspicionMs: 300, timeoutMs: 3000 } },
    });
    const nodes = lab.info.nodes.map((n) => n.name);
    await waitUntil("every agent on the new timing", () =>
      nodes.every((n) =>
        lab.agentLog(configured).includes(` ${n} failure detector timing changed`),
      ),
    );
    // A node back from the previous test's stop counts for elections 2 × timeoutMs after
    // its revival, by the new timing: until then its peers would take its addresses.
    await sleep(6500);
    const node = await holder(ipv4);
    const nodePath = `/api/v1/nodes/${node}`;
    try {
      const since = Date.now();
      await labRestartAgent(ref, node);
      await waitUntil(`${node}'s new agent to start its detector`, () =>
        lab.agentLog(since).includes(` ${node} failure detector started`),
      );
      const { moves, atMove, other } = await probed(ipv4, 8000, async () => {
        await lab.api.mergePatch(nodePath, { spec: { unschedulable: true } });
        await labStopAgent(ref, node);
      });
      const agents = lab.agentLog(since);
      const log = `\nagents meanwhile:\n${agents}`;
      const stopped = agents.indexOf(` ${node} stopping on a node that is going away`);
      const warm = agents.indexOf(` ${node} failure detector ready`);
      assert.ok(stopped >= 0 && (warm < 0 || stopped < warm), `stopped inside the warm-up${log}`);
      // Before, it found no peer alive to hand to and left the address on the kernel.
      const next = await holder(ipv4);
      assert.notEqual(next, node, log);
      assert.equal(moves.length, 1, `${JSON.stringify(moves)}${log}`);
      assert.deepEqual(other, [], log);
      assert.deepEqual(atMove, [], log);
    } finally {
      await lab.api.delete("/apis/herald.dev/v1alpha1/agentconfigs/default");
      await lab.api.mergePatch(nodePath, { spec: { unschedulable: null } });
      await restarted(node);
    }
  });

  test("the DaemonSet gone (an uninstall): every agent takes its addresses off as it stops", async () => {
    const nodes = lab.info.nodes.map((n) => n.name);
    await waitUntil("both addresses held", async () => {
      const held = [...(await lab.holders(ipv4)), ...(await lab.holders(ipv6))];
      return held.length === 2;
    });
    await lab.api.request("DELETE", DAEMONSET);
    await waitUntil("the DaemonSet gone", () =>
      lab.api.request("GET", DAEMONSET).then(
        () => false,
        () => true,
      ),
    );
    for (const node of nodes) await labStopAgent(ref, node);
    assert.deepEqual(await lab.holders(ipv4), []);
    assert.deepEqual(await lab.holders(ipv6), []);
  });
});
