// Routed mode on the real kernel: addresses outside every node's subnet go on the virtual
// interface (kube-lb0; a bridge without ports on this kernel, which has no dummy driver)
// of every eligible node, with the pool's aggregation prefix, or a host route for
// externalTrafficPolicy Local. Needs root (scripts/test.sh installs the tools). On
// devkube by default; with HERALD_TEST_KUBE=real (npm run test:real) the same lab runs on
// kube-apiserver with real kube-proxy, the agents on their ServiceAccount's token.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { labBackends, labDown, labUp } from "../../src/lab/lab.ts";
import { LabSession, waitUntil } from "../../src/lab/session.ts";
import { BACKEND } from "../cluster.ts";
import { requireNetworkTier } from "./require.ts";

const ref = { name: `rm${process.pid % 100000}` };
let lab: LabSession;

interface Link {
  ifname: string;
  linkinfo?: { info_kind?: string };
  addr_info?: { local?: string; prefixlen?: number; metric?: number }[];
}

/** The addresses on kube-lb0 of each node, as "address/prefix". */
async function virtualAddresses(): Promise<Map<string, string[]>> {
  const found = new Map<string, string[]>();
  for (const node of lab.info.nodes) {
    const { ok, output } = await lab.tryExec(node.name, [
      "ip",
      "-j",
      "-d",
      "addr",
      "show",
      "dev",
      "kube-lb0",
    ]);
    const links = ok ? (JSON.parse(output) as Link[]) : [];
    found.set(
      node.name,
      (links[0]?.addr_info ?? []).map((a) => `${a.local}/${a.prefixlen}`).sort(),
    );
  }
  return found;
}

describe("routed mode in the lab", { concurrency: false }, () => {
  before(async () => {
    requireNetworkTier(["ip"]);
    await labDown(ref);
    const { state } = await labUp({ ...ref, nodes: 3, ipv6: false, agents: true, kube: BACKEND });
    lab = LabSession.open(state);
  });
  after(async () => {
    await lab?.close();
    await labDown(ref);
  });

  test("every eligible node holds a routed address on kube-lb0 with the pool's aggregation", async () => {
    const prefix = lab.info.routedPool.ipv4!; // e.g. 198.19.k.0/24, outside the LAN
    await lab.applyPool("routed", { addresses: [prefix], aggregation: { ipv4: 28 } });
    await lab.createService("web", {});
    const service = await waitUntil("routed annotation", async () => {
      const s = await lab.service("web");
      return s.annotations["herald.dev/announcing-ipv4"] === "routed" ? s : undefined;
    });
    const address = service.addresses[0]!;
    const expected = `${address}/28`;
    const held = await waitUntil("kube-lb0 on every node", async () => {
      const all = await virtualAddresses();
      return [...all.values()].every((list) => list.includes(expected)) ? all : undefined;
    });
    assert.equal(held.size, 3);
    // It is a bridge with no ports here (no dummy driver), and the address is the agent's.
    const link = JSON.parse(
      await lab.exec("node1", ["ip", "-j", "-d", "addr", "show", "dev", "kube-lb0"]),
    ) as Link[];
    assert.equal(link[0]?.linkinfo?.info_kind, "bridge");
    assert.equal(link[0]?.addr_info?.find((a) => a.local === address)?.metric, 7474);
    // Every eligible node's kernel holds it: the router spreads traffic over them (ECMP).
    assert.deepEqual(await lab.holders(address), ["node1", "node2", "node3"]);
    const nodeState = (await lab.api.request(
      "GET",
      "/apis/herald.dev/v1alpha1/nodestates/node2",
    )) as {
      status?: {
        announced?: { address: string; mode: string; interface: string }[];
        counts?: { routed: number };
      };
    };
    const { since, ...entry } = (nodeState.status?.announced?.find((a) => a.address === address) ??
      {}) as { since?: string };
    assert.deepEqual(entry, {
      address,
      services: ["default/web"],
      mode: "Routed",
      interface: "kube-lb0",
    });
    assert.ok(Date.now() - Date.parse(since ?? "") < 60_000, `since ${since}: just now`);
    assert.equal(nodeState.status?.counts?.routed, 1);
  });

  test("externalTrafficPolicy Local: host routes, only where an endpoint is, gone with it", async () => {
    const { addresses } = await lab.service("web");
    const address = addresses[0]!;
    await lab.api.mergePatch("/api/v1/namespaces/default/services/web", {
      spec: { externalTrafficPolicy: "Local" },
    });
    await labBackends(ref, ["node3"]);
    await waitUntil("a host route on node3 only", async () => {
      const all = await virtualAddresses();
      return (
        all.get("node3")!.includes(`${address}/32`) &&
        !all.get("node1")!.some((a) => a.startsWith(`${address}/`)) &&
        !all.get("node2")!.some((a) => a.startsWith(`${address}/`))
      );
    });
    await labBackends(ref, []);
    await waitUntil("withdrawn everywhere", async () =>
      [...(await virtualAddresses()).values()].every(
        (list) => !list.some((a) => a.startsWith(`${address}/`)),
      ),
    );
    await labBackends(
      ref,
      lab.info.nodes.map((n) => n.name),
    );
  });
});
