// Routed mode end to end against real routers: the agents' BIRD (a sidecar, as in the
// pod) peers with BIRD, FRR and GoBGP in the lab's router namespace. For each router:
// IPv4 and IPv6 routes with one next hop per eligible node and the communities as
// configured; ECMP from the client; aggregation; externalTrafficPolicy Local moving the
// route with its endpoint; an agent restart that leaves the sessions alone; a failed node
// withdrawn; a wrong password or ASN reported, not crashed on. Then, over iBGP, local
// preference. Needs root, bird2, frr and gobgpd.
import { after, describe, test } from "node:test";
import assert from "node:assert/strict";
import type { LabInfo } from "../../src/lab/info.ts";
import {
  labBackends,
  labDown,
  labFail,
  labHeal,
  labRestartAgent,
  labStopAgent,
  labUp,
} from "../../src/lab/lab.ts";
import { routerPaths, routerRoutes, routerSessions } from "../../src/lab/router.ts";
import { LabSession, waitUntil } from "../../src/lab/session.ts";
import { herald } from "../cli.ts";
import { requireNetworkTier } from "./require.ts";

type Router = "bird" | "frr" | "gobgp";

const ROUTERS = ["bird", "frr", "gobgp"] as const;
const COMMUNITIES = ["64512:100", "no-export"];
/** COMMUNITIES as the routers' parsers write them (router-paths.ts). */
const COMMUNITIES_SEEN = ["64512:100", "65535:65281"];
const LARGE_COMMUNITIES = ["64512:1:2"];

const labName = (router: Router, kind: "e" | "i") => `r${kind}${router}${process.pid % 10000}`;

interface NodeStateView {
  status?: {
    bgpSessions?: { peer: string; state: string; lastError?: string }[];
    conditions?: { type: string; status: string; message: string }[];
  };
}

/** The router's route for `prefix` once its next hops are exactly `nexthops`. */
async function routeVia(
  info: LabInfo,
  prefix: string,
  nexthops: readonly string[],
  what: string,
  timeoutMs = 30_000,
) {
  const wanted = [...nexthops].sort().join(" ");
  return waitUntil(
    `${info.bgp.router}: ${what} (${prefix} via ${wanted})`,
    async () => {
      const routes = await routerRoutes(info, prefix);
      return routes[0] && [...routes[0].nexthops].sort().join(" ") === wanted
        ? routes[0]
        : undefined;
    },
    timeoutMs,
  );
}

async function nodeState(lab: LabSession, node: string): Promise<NodeStateView> {
  return (await lab.api.request(
    "GET",
    `/apis/herald.dev/v1alpha1/nodestates/${node}`,
  )) as NodeStateView;
}

async function ebgp(router: Router): Promise<void> {
  const ref = { name: labName(router, "e") };
  await labDown(ref);
  const { state } = await labUp({ ...ref, nodes: 3, ipv6: true, agents: true, router });
  const lab = LabSession.open(state);
  try {
    const [node1, , node3] = state.nodes as [
      LabInfo["nodes"][0],
      LabInfo["nodes"][0],
      LabInfo["nodes"][0],
    ];
    const allV4 = state.nodes.map((n) => n.ipv4);
    const allV6 = state.nodes.map((n) => n.ipv6!);
    await lab.peerWithRouter("up4", { family: "ipv4" });
    await lab.peerWithRouter("up6", { family: "ipv6" });
    await lab.advertise("all", { communities: COMMUNITIES, largeCommunities: LARGE_COMMUNITIES });
    // The routed /24 in two: the lower half hands out host routes, the upper /28 is
    // aggregated into one route.
    const base = state.routedPool.ipv4!.split("/")[0]!.replace(/\.0$/, "");
    await lab.applyPool("routed", {
      addresses: [`${base}.0/25`, state.routedPool.ipv6!],
      announce: "Routed",
    });
    await lab.applyPool("aggregated", {
      addresses: [`${base}.128/28`],
      announce: "Routed",
      autoAssign: false,
      aggregation: { ipv4: 28 },
    });
    await lab.createService("web", {
      ipFamilyPolicy: "RequireDualStack",
      ipFamilies: ["IPv4", "IPv6"],
    });
    const [v4, v6] = await waitUntil("two addresses", async () => {
      const { addresses } = await lab.service("web");
      return addresses.length === 2 ? addresses : undefined;
    });
    assert.ok(v4 && v6 && !v4.includes(":") && v6.includes(":"), `addresses ${v4}, ${v6}`);

    await waitUntil(
      `${router}: a session per node and family`,
      async () =>
        (await routerSessions(state)).filter((s) => s.state === "Established").length === 6,
      30_000,
    );
    await routeVia(state, `${v4}/32`, allV4, "IPv4 route with three next hops");
    await routeVia(state, `${v6}/128`, allV6, "IPv6 route with three next hops");

    // The communities arrive on every node's path, in both families.
    for (const prefix of [`${v4}/32`, `${v6}/128`]) {
      const paths = await routerPaths(state, prefix);
      assert.equal(paths.length, 3, `${prefix}: ${JSON.stringify(paths)}`);
      for (const path of paths) {
        assert.deepEqual([...path.communities].sort(), COMMUNITIES_SEEN, JSON.stringify(path));
        assert.deepEqual(path.largeCommunities, LARGE_COMMUNITIES, JSON.stringify(path));
      }
    }

    // herald status shows the routed address on every node and, once each agent has
    // published them (every 2 s), each node's sessions up.
    interface StatusView {
      announcements: { address: string; mode: string; nodes: { node: string }[] }[];
      nodes: { name: string; bgpSessions: { peer: string; state: string }[] }[];
    }
    const view = await waitUntil(
      "herald status: every session Established",
      () => {
        const status = herald(["status", "--kubeconfig", state.kubeconfig, "-o", "json"]);
        assert.equal(status.code, 0, status.stderr);
        const parsed = JSON.parse(status.stdout) as StatusView;
        return parsed.nodes.every(
          (node) => node.bgpSessions.filter((s) => s.state === "Established").length === 2,
        )
          ? parsed
          : undefined;
      },
      20_000,
      500,
    );
    const routed = view.announcements.find((a) => a.address === v4);
    assert.equal(routed?.mode, "Routed");
    assert.deepEqual(
      routed?.nodes.map((n) => n.node).sort(),
      state.nodes.map((n) => n.name).sort(),
    );
    assert.equal(view.nodes.length, state.nodes.length);

    // The client reaches it through the router, and its connections spread over the nodes.
    const answers = new Set<string>();
    for (let i = 0; i < 30 && answers.size < 2; i++) answers.add(await lab.curl("client", v4));
    assert.ok(answers.size >= 2, `all answers from ${[...answers].join(",")}: no ECMP`);
    assert.notEqual(await lab.curl("client", v6), "");

    // Aggregation: two services, one route for both, and no host routes.
    for (const name of ["agg1", "agg2"])
      await lab.createService(name, {}, { "herald.dev/pool": "aggregated" });
    const aggregated = await Promise.all(
      ["agg1", "agg2"].map((name) =>
        waitUntil(`${name}'s address`, async () => (await lab.service(name)).addresses[0]),
      ),
    );
    await routeVia(state, `${base}.128/28`, allV4, "one aggregated route");
    for (const address of aggregated)
      assert.deepEqual(await routerRoutes(state, `${address}/32`), [], `${address}: host route`);

    // externalTrafficPolicy Local: the route goes only to nodes with an endpoint, and
    // follows the endpoint when it moves.
    await lab.createService("local", { externalTrafficPolicy: "Local" });
    const local = await waitUntil(
      "local's address",
      async () => (await lab.service("local")).addresses[0],
    );
    await labBackends(ref, ["node1"]);
    await routeVia(state, `${local}/32`, [node1.ipv4], "Local: node1 only");
    await labBackends(ref, ["node3"]);
    await routeVia(state, `${local}/32`, [node3.ipv4], "Local: moved to node3");
    await labBackends(
      ref,
      state.nodes.map((n) => n.name),
    );
    await routeVia(state, `${local}/32`, allV4, "Local: every node again");

    // A rolling restart of node1's agent leaves its sessions and routes alone: BIRD runs
    // beside the agent, and the new agent takes over what is there.
    const before = (await routerSessions(state)).filter(
      (s) => s.neighbor === node1.ipv4 || s.neighbor === node1.ipv6,
    );
    let watching = true;
    const lost: string[] = [];
    const watcher = (async () => {
      while (watching) {
        const routes = await routerRoutes(state, `${v4}/32`);
        if (!routes[0]?.nexthops.includes(node1.ipv4))
          lost.push(`${new Date().toISOString()} ${JSON.stringify(routes)}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    await labRestartAgent(ref, "node1");
    await waitUntil("node1's agent back in NodeState", async () => {
      const status = (await nodeState(lab, "node1")).status;
      return status?.bgpSessions?.filter((s) => s.state === "Established").length === 2;
    });
    await new Promise((resolve) => setTimeout(resolve, 3000));
    watching = false;
    await watcher;
    assert.deepEqual(lost, [], "node1's next hop left the route during the agent restart");
    const afterRestart = (await routerSessions(state)).filter(
      (s) => s.neighbor === node1.ipv4 || s.neighbor === node1.ipv6,
    );
    assert.deepEqual(afterRestart, before, "node1's sessions went down and up again");

    // Planned maintenance of node2: cordon, stop its agent, power it off, with no pause
    // between. Its routes first carry GRACEFUL_SHUTDOWN (the lab's BIRD router honours
    // it: LOCAL_PREF 0, so its traffic moves at once; FRR and GoBGP here do not, and move
    // it at the withdrawal), then are withdrawn, and node2 keeps the address unadvertised
    // a moment more before its agent exits: no request through the router fails.
    const drained = state.nodes[1]!;
    const probe = lab.probe("client", v4, { intervalMs: 10, timeoutMs: 2000, durationMs: 12_000 });
    await new Promise((resolve) => setTimeout(resolve, 300));
    // A connection open across the move, on a source port the router sends to node2: its
    // segments reach another node once node2's path loses (at the community or at the
    // withdrawal), and that node passes them to node2, which still holds the address
    // (flow-handoff.ts). 4 s: past the withdrawal at 3 s (gracefulShutdownMs), within the
    // 2 s more that node2 keeps the address (connectionDrainMs).
    const port = await lab.sourcePortVia(v4, drained.ipv4);
    const stream = lab.stream("client", v4, 40, 100, port);
    await new Promise((resolve) => setTimeout(resolve, 200));
    try {
      await lab.api.mergePatch(`/api/v1/nodes/${drained.name}`, { spec: { unschedulable: true } });
      const marked = await waitUntil(
        `${router}: ${drained.name}'s path with GRACEFUL_SHUTDOWN`,
        async () =>
          (await routerPaths(state, `${v4}/32`)).find(
            (p) => p.nexthop === drained.ipv4 && p.communities.includes("65535:0"),
          ),
        5000,
      );
      if (router === "bird") assert.equal(marked.localPref, 0, JSON.stringify(marked));
      await labStopAgent(ref, drained.name);
      await routeVia(
        state,
        `${v4}/32`,
        [node1.ipv4, node3.ipv4],
        `${drained.name} withdrawn`,
        1000,
      );
      await labFail(ref, drained.name, "hard");
      const failed = (await probe.result).filter((s) => !s.ok);
      assert.equal(failed.length, 0, `failed requests: ${JSON.stringify(failed.slice(0, 5))}`);
      const streamed = await stream;
      assert.equal(streamed.exitCode, 0, `the stream broke: ${streamed.lines.join(" | ")}`);
      assert.equal(streamed.lines.length, 40, streamed.lines.join(" | "));
    } finally {
      await labHeal(ref, drained.name);
      await lab.api.mergePatch(`/api/v1/nodes/${drained.name}`, { spec: { unschedulable: null } });
    }
    await routeVia(state, `${v4}/32`, allV4, `${drained.name} back after maintenance`);
    await waitUntil(
      `${router}: a session per node and family again`,
      async () =>
        (await routerSessions(state)).filter((s) => s.state === "Established").length === 6,
      30_000,
    );

    // A node cut off from the LAN: its next hop goes (BFD, or GoBGP's hold timer).
    await labFail(ref, "node2", "link");
    try {
      await routeVia(state, `${v4}/32`, [node1.ipv4, node3.ipv4], "node2 withdrawn", 20_000);
      assert.ok((await lab.curl("client", v4)) !== "");
    } finally {
      await labHeal(ref, "node2");
    }

    // A wrong password on one peer and a wrong ASN on the other: both sessions down,
    // said in NodeState with BIRD's reason, and the agent goes on.
    await lab.api.ensure("/api/v1/namespaces/herald-system/secrets", {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "bgp-password", namespace: "herald-system" },
      stringData: { password: "not-what-the-router-has" },
    });
    await lab.api.mergePatch("/apis/herald.dev/v1alpha1/bgppeers/up4", {
      spec: {
        passwordSecretRef: { namespace: "herald-system", name: "bgp-password", key: "password" },
      },
    });
    await lab.api.mergePatch("/apis/herald.dev/v1alpha1/bgppeers/up6", {
      spec: { peerASN: 65099 },
    });
    const condition = await waitUntil(
      "BGPSessionsEstablished=False naming both peers",
      async () => {
        const status = (await nodeState(lab, "node1")).status;
        const found = status?.conditions?.find((c) => c.type === "BGPSessionsEstablished");
        return found?.status === "False" &&
          found.message.includes("up4") &&
          found.message.includes("up6")
          ? found
          : undefined;
      },
      30_000,
    );
    assert.match(condition.message, /up4: \w+/);
    const sessions = (await nodeState(lab, "node1")).status?.bgpSessions ?? [];
    assert.ok(
      sessions.every((s) => s.state !== "Established"),
      `sessions: ${JSON.stringify(sessions)}`,
    );
    // Put right, the session comes back: the agent is still at work.
    await lab.api.mergePatch("/apis/herald.dev/v1alpha1/bgppeers/up6", {
      spec: { peerASN: state.bgp.routerASN },
    });
    await waitUntil(
      "up6 Established again",
      async () =>
        (await nodeState(lab, "node1")).status?.bgpSessions?.find((s) => s.peer === "up6")
          ?.state === "Established",
      30_000,
    );
  } finally {
    await lab.close();
    await labDown(ref);
  }
}

/** iBGP carries local preference (eBGP drops it): it arrives as configured. */
async function ibgp(router: Router): Promise<void> {
  const ref = { name: labName(router, "i") };
  await labDown(ref);
  const { state } = await labUp({
    ...ref,
    nodes: 2,
    ipv6: false,
    agents: true,
    router,
    ibgp: true,
  });
  const lab = LabSession.open(state);
  try {
    assert.equal(state.bgp.nodeASN, state.bgp.routerASN);
    await lab.peerWithRouter("up4");
    await lab.advertise("all", { localPreference: 150, communities: ["64512:7"] });
    await lab.applyPool("routed", { addresses: [state.routedPool.ipv4], announce: "Routed" });
    await lab.createService("web", {});
    const address = await waitUntil(
      "an address",
      async () => (await lab.service("web")).addresses[0],
    );
    await routeVia(
      state,
      `${address}/32`,
      state.nodes.map((n) => n.ipv4),
      "iBGP route with two next hops",
    );
    const paths = await routerPaths(state, `${address}/32`);
    assert.equal(paths.length, 2, JSON.stringify(paths));
    for (const path of paths) {
      assert.equal(path.localPref, 150, JSON.stringify(path));
      assert.deepEqual(path.communities, ["64512:7"]);
    }
  } finally {
    await lab.close();
    await labDown(ref);
  }
}

describe("routed mode against real routers", { concurrency: false }, () => {
  after(async () => {
    for (const router of ROUTERS)
      for (const kind of ["e", "i"] as const) await labDown({ name: labName(router, kind) });
  });
  for (const router of ROUTERS) {
    test(`${router}: dual-stack routes per node with communities, ECMP, aggregation, Local, restart, failure, bad peers`, async () => {
      requireNetworkTier(["ip", "bird", "vtysh", "gobgpd", "curl"]);
      await ebgp(router);
    });
    test(`${router}: iBGP carries local preference`, async () => {
      requireNetworkTier(["ip", "bird", "vtysh", "gobgpd"]);
      await ibgp(router);
    });
  }
});
