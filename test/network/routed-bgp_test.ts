// Routed mode end to end against real routers: the agents' BIRD peers with BIRD, FRR and
// GoBGP in the lab's router namespace; the route for a service appears there with one
// next hop per eligible node, the client reaches it through the router over several
// nodes (ECMP), and a failed node's route goes. Needs root, bird2, frr and gobgpd.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import { labDown, labFail, labHeal, labUp } from "../../src/lab/lab.ts";
import { routerRoutes, routerSessions } from "../../src/lab/router.ts";
import { LabSession, waitUntil } from "../../src/lab/session.ts";
import { requireNetworkTier } from "./require.ts";

type Router = "bird" | "frr" | "gobgp";

async function routedService(router: Router): Promise<void> {
  const ref = { name: `rb${router}${process.pid % 10000}` };
  await labDown(ref);
  const { state } = await labUp({ ...ref, nodes: 3, ipv6: false, agents: true, router });
  const lab = LabSession.open(state);
  try {
    const bgp = state.bgp;
    await lab.api.create("/apis/herald.dev/v1alpha1/bgppeers", {
      apiVersion: "herald.dev/v1alpha1",
      kind: "BGPPeer",
      metadata: { name: "upstream" },
      spec: {
        peerAddress: bgp.routerAddress.ipv4,
        peerASN: bgp.routerASN,
        localASN: bgp.nodeASN,
        // GoBGP has no BFD; its session times out on the hold timer instead.
        ...(router === "gobgp" ? {} : { bfd: { minRxMs: 100, minTxMs: 100, multiplier: 3 } }),
      },
    });
    await lab.api.create("/apis/herald.dev/v1alpha1/bgpadvertisements", {
      apiVersion: "herald.dev/v1alpha1",
      kind: "BGPAdvertisement",
      metadata: { name: "all" },
      spec: {},
    });
    await lab.applyPool("routed", { addresses: [state.routedPool.ipv4], announce: "Routed" });
    await lab.createService("web", {});
    const address = await waitUntil(
      "an address",
      async () => (await lab.service("web")).addresses[0],
    );

    await waitUntil(
      `${router}: a session per node`,
      async () => {
        const sessions = await routerSessions(state);
        return sessions.filter((s) => s.state === "Established").length >= 3;
      },
      30_000,
    );
    const route = await waitUntil(
      `${router}: ${address}/32 with three next hops`,
      async () => {
        const routes = await routerRoutes(state, `${address}/32`);
        return routes[0] && routes[0].nexthops.length === 3 ? routes[0] : undefined;
      },
      30_000,
    );
    assert.deepEqual([...route.nexthops].sort(), state.nodes.map((n) => n.ipv4).sort());

    // The client reaches it through the router, and its connections spread over the nodes.
    const answers = new Set<string>();
    for (let i = 0; i < 30 && answers.size < 2; i++) answers.add(await lab.curl("client", address));
    assert.ok(answers.size >= 2, `all answers from ${[...answers].join(",")}: no ECMP`);

    // A node cut off from the LAN: its next hop goes (BFD, or GoBGP's hold timer).
    await labFail(ref, "node2", "link");
    try {
      await waitUntil(
        `${router}: node2's next hop withdrawn`,
        async () => {
          const routes = await routerRoutes(state, `${address}/32`);
          return (
            routes[0] &&
            !routes[0].nexthops.includes(state.nodes[1]!.ipv4) &&
            routes[0].nexthops.length === 2
          );
        },
        20_000,
      );
      assert.ok((await lab.curl("client", address)) !== "");
    } finally {
      await labHeal(ref, "node2");
    }

    // A wrong password: the session stays down, reported in NodeState, and nothing crashes.
    await lab.api.ensure("/api/v1/namespaces/herald-system/secrets", {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "bgp-password", namespace: "herald-system" },
      stringData: { password: "not-what-the-router-has" },
    });
    await lab.api.mergePatch("/apis/herald.dev/v1alpha1/bgppeers/upstream", {
      spec: {
        passwordSecretRef: { namespace: "herald-system", name: "bgp-password", key: "password" },
      },
    });
    const down = await waitUntil(
      "a session down in NodeState",
      async () => {
        const nodeState = (await lab.api.request(
          "GET",
          "/apis/herald.dev/v1alpha1/nodestates/node1",
        )) as {
          status?: { bgpSessions?: { peer: string; state: string }[] };
        };
        const session = nodeState.status?.bgpSessions?.find((s) => s.peer === "upstream");
        return session && session.state !== "Established" ? session : undefined;
      },
      30_000,
    );
    assert.equal(down.peer, "upstream");
  } finally {
    await lab.close();
    await labDown(ref);
  }
}

describe("routed mode against real routers", { concurrency: false }, () => {
  after(async () => {
    for (const router of ["bird", "frr", "gobgp"])
      await labDown({ name: `rb${router}${process.pid % 10000}` });
  });
  for (const router of ["bird", "frr", "gobgp"] as const) {
    test(`${router}: a route per node, ECMP from the client, a failed node withdrawn`, async () => {
      requireNetworkTier(["ip", "bird", "vtysh", "gobgpd", "curl"]);
      await routedService(router);
    });
  }
});
