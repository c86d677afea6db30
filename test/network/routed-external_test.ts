// AgentConfig `routing: External`: the agents put routed addresses on kube-lb0 and run no
// BIRD; the operator's own daemon advertises them. The example configurations the docs
// point to (examples/routing-external/) run here as they are, with only the documented
// addresses replaced: node1 runs the BIRD example, node2 the FRR example, and the lab's
// router (BIRD) must see one route with both nodes as next hops. Needs root, bird2, frr.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { mkdir, readFile, rm, rmdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { LabInfo } from "../../src/lab/info.ts";
import { labDown, labUp } from "../../src/lab/lab.ts";
import { startProcess } from "../../src/lab/processes.ts";
import { frrSpecs, routerRoutes, startFrr } from "../../src/lab/router.ts";
import { LabSession, waitUntil } from "../../src/lab/session.ts";
import { LabFiles, labDir } from "../../src/lab/state.ts";
import { requireNetworkTier } from "./require.ts";

const ref = { name: `rx${process.pid % 100000}` };
const EXAMPLES = new URL("../../examples/routing-external/", import.meta.url);

/** The example with its documented placeholders replaced by the lab's addresses. */
async function example(file: string, info: LabInfo, node: LabInfo["nodes"][0]): Promise<string> {
  const text = await readFile(new URL(file, EXAMPLES), "utf8");
  return text
    .replace(/192\.0\.2\.11\b/g, node.ipv4)
    .replace(/192\.0\.2\.1\b/g, info.bgp.routerAddress.ipv4)
    .replace(/\b64513\b/g, String(info.bgp.nodeASN))
    .replace(/\b64512\b/g, String(info.bgp.routerASN));
}

/**
 * Lab down, then the node daemons' directory, which is this test's and not the lab's (the
 * lab removes only what it made, and leaves its directory while anything else is in it).
 */
async function down(): Promise<void> {
  await labDown(ref);
  const dir = labDir(ref.name);
  await rm(join(dir, "external"), { recursive: true, force: true });
  await rmdir(dir).catch(() => {});
}

describe("routing: External with the documented BIRD and FRR examples", () => {
  after(down);

  test("the node's own daemons advertise kube-lb0; Herald runs no BIRD", async () => {
    requireNetworkTier(["ip", "bird", "vtysh"]);
    await down();
    const { state } = await labUp({ ...ref, nodes: 2, ipv6: false, agents: true, router: "bird" });
    const lab = LabSession.open(state);
    try {
      const files = new LabFiles(state.dir);
      const [node1, node2] = state.nodes as [LabInfo["nodes"][0], LabInfo["nodes"][0]];
      await lab.api.create("/apis/herald.dev/v1alpha1/agentconfigs", {
        apiVersion: "herald.dev/v1alpha1",
        kind: "AgentConfig",
        metadata: { name: "default" },
        spec: { routing: "External" },
      });

      // node1: the BIRD example; node2: the FRR example. Both in the lab directory, so
      // that lab down stops them.
      const birdDir = join(state.dir, "external", node1.name);
      await mkdir(birdDir, { recursive: true });
      await writeFile(join(birdDir, "bird.conf"), await example("bird.conf", state, node1));
      startProcess(files, {
        role: `external-bird-${node1.name}`,
        namespace: node1.namespace,
        program: ["bird"],
        args: ["-f", "-c", join(birdDir, "bird.conf"), "-s", join(birdDir, "bird.ctl")],
      });
      const frrDir = join(state.dir, "external", node2.name);
      await startFrr(
        files,
        frrDir,
        { zebra: "log stdout informational\n", bgpd: await example("frr.conf", state, node2) },
        frrSpecs(`external-${node2.name}-`, node2.namespace, frrDir, ["zebra", "bgpd"]),
      );

      await lab.applyPool("routed", { addresses: [state.routedPool.ipv4], announce: "Routed" });
      await lab.createService("web", {});
      const address = await waitUntil(
        "an address",
        async () => (await lab.service("web")).addresses[0],
      );
      const route = await waitUntil(
        `${address}/32 at the router via both nodes`,
        async () => {
          const routes = await routerRoutes(state, `${address}/32`);
          return routes[0]?.nexthops.length === 2 ? routes[0] : undefined;
        },
        45_000,
      );
      assert.deepEqual([...route.nexthops].sort(), [node1.ipv4, node2.ipv4].sort());
      assert.notEqual(await lab.curl("client", address), "");

      // Herald's own BIRD never started: routing External renders nothing.
      for (const node of state.nodes) {
        const { ok } = await lab.tryExec(node.name, [
          "test",
          "-e",
          join(state.dir, "bird", node.name, "bird.conf"),
        ]);
        assert.equal(ok, false, `${node.name}: Herald wrote a bird.conf under routing External`);
      }

      // The node's subnets stay out of BGP: only kube-lb0's addresses are advertised.
      assert.deepEqual(await routerRoutes(state, state.lan.ipv4), []);
    } finally {
      await lab.close();
      await down();
    }
  });
});
