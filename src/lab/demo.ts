// `herald lab demo`: the whole story on one host, narrated. A lab comes up, a pool and a
// service are created, the address is reached from the LAN and through the router, the
// announcing node is powered off, and the outage a client saw is measured and reported.
// Then routed mode: the router peers with every node by BGP, a service off the LAN gets
// one route with a next hop per node (ECMP), and a node powered off is withdrawn by BFD.
import { labDown, labHeal, labFail, labUp } from "./lab.ts";
import type { LabInfo } from "./info.ts";
import { routerRoutes, routerSessions, type RouterKind } from "./router.ts";
import type { KubeBackend } from "./topology.ts";
import { outageAfter } from "./probe.ts";
import { LabSession, waitUntil } from "./session.ts";

export interface DemoOptions {
  name: string;
  nodes: number;
  keep: boolean;
  router: RouterKind;
  /** devkube (default), or kube-apiserver with real kube-proxy. */
  kube?: KubeBackend;
}

const bold = (text: string) => (process.stdout.isTTY ? `\x1b[1m${text}\x1b[0m` : text);

export async function runDemo(options: DemoOptions, say: (text: string) => void): Promise<number> {
  const step = (title: string) => say(`\n${bold(`== ${title}`)}\n`);
  const ref = { name: options.name };
  let session: LabSession | undefined;
  try {
    step(
      `herald lab up --name ${options.name} --nodes ${options.nodes} --ipv6 --router ${options.router}${
        options.kube === "real" ? " --kube real" : ""
      }`,
    );
    const { state, warnings } = await labUp({
      ...ref,
      nodes: options.nodes,
      ipv6: true,
      agents: true,
      router: options.router,
      kube: options.kube ?? "devkube",
    });
    for (const warning of warnings) say(`warning: ${warning}\n`);
    session = LabSession.open(state);
    const lab = session;
    say(
      `LAN ${state.lan.ipv4} and ${state.lan.ipv6}: ${state.nodes.map((n) => `${n.name} ${n.ipv4}`).join(", ")}\n` +
        `router ${state.router.lan.ipv4}, lanclient ${state.lanclient.ipv4}, ` +
        `client ${state.client.ipv4} (behind the router)\n` +
        `API server ${state.apiServer}; kubeconfig ${state.kubeconfig}\n` +
        (state.kube.proxy === "kube-proxy"
          ? `kube-apiserver and kube-controller-manager run on the host, kube-proxy (${state.kube.proxyMode}) on every node\n` +
            `every node runs the Herald agent and a web backend Pod that answers with its node's name; ` +
            `kube-proxy may pass a request on to another node's Pod\n`
          : `every node runs the Herald agent and a web backend that answers with its node's name\n`) +
        `the router runs ${options.router} (AS ${state.bgp.routerASN}), waiting for the nodes (AS ${state.bgp.nodeASN}) to peer\n`,
    );

    step("kubectl apply: an AddressPool on the LAN and a dual-stack LoadBalancer Service");
    const pool = {
      addresses: [state.localPool.ipv4, state.localPool.ipv6].filter(Boolean),
      announce: "Local",
    };
    say(`AddressPool lan: addresses ${pool.addresses.join(", ")}, announce Local\n`);
    await lab.applyPool("lan", pool);
    // Beside real kube-proxy, Local: the pod that answers is then the announcer's own, so
    // the outage measured below is the takeover's, not a request that reached another
    // node's pod through the failing one while its link was still up.
    const local = state.kube.proxy === "kube-proxy";
    await lab.createService("web", {
      ipFamilyPolicy: "PreferDualStack",
      ipFamilies: ["IPv4", "IPv6"],
      ...(local ? { externalTrafficPolicy: "Local" } : {}),
    });
    say(
      `Service default/web: type LoadBalancer, selector app=lab-web, port 80${
        local ? ", externalTrafficPolicy Local" : ""
      }\n`,
    );

    const served = await waitUntil("an announced address", async () => {
      const service = await lab.service("web");
      const v4 = service.annotations["herald.dev/announcing-ipv4"];
      return service.addresses.length === 2 && v4 ? service : undefined;
    });
    const [ipv4, ipv6] = served.addresses as [string, string];
    const announcer = served.annotations["herald.dev/announcing-ipv4"]!.split(" ")[0]!;
    const condition = served.conditions.find((c) => c.type === "herald.dev/Allocated");
    say(
      `status.loadBalancer.ingress: ${served.addresses.join(", ")}\n` +
        `herald.dev/allocated-from: ${served.annotations["herald.dev/allocated-from"]}\n` +
        `herald.dev/announcing-ipv4: ${served.annotations["herald.dev/announcing-ipv4"]}\n` +
        `herald.dev/announcing-ipv6: ${served.annotations["herald.dev/announcing-ipv6"] ?? "(not yet)"}\n` +
        `condition ${condition?.type}=${condition?.status}: ${condition?.message ?? ""}\n`,
    );
    for (const event of await lab.events("web")) say(`event ${event.reason}: ${event.message}\n`);

    step(`ip addr on every node: the kernel holds ${ipv4} on exactly one`);
    say(`${ipv4} is on: ${(await lab.holders(ipv4)).join(", ")}\n`);

    step("traffic: from the LAN, and from the client through the router");
    if (state.kube.proxy === "kube-proxy") await untilKubeProxyServes(lab, [ipv4, ipv6], say);
    say(`lanclient$ curl http://${ipv4}/      -> ${await lab.curl("lanclient", ipv4)}\n`);
    say(`lanclient$ curl http://[${ipv6}]/ -> ${await lab.curl("lanclient", ipv6)}\n`);
    say(`client$    curl http://${ipv4}/      -> ${await lab.curl("client", ipv4)}\n`);
    say(`client$    curl http://[${ipv6}]/ -> ${await lab.curl("client", ipv6)}\n`);
    const before = await lab.routerNeighbour(ipv4);
    say(`router's neighbour entry for ${ipv4}: ${before} (${announcer}'s eth0)\n`);

    step(`power off ${announcer} while the client sends a request every 10 ms`);
    const probe = lab.probe("client", ipv4, { intervalMs: 10, timeoutMs: 2000, durationMs: 5000 });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const failedAt = Date.now();
    say(`${await labFail(ref, announcer, "hard")}\n`);
    const samples = await probe.result;
    const outage = outageAfter(samples, failedAt, announcer);
    const after = await lab.service("web");
    const newAnnouncer = after.annotations["herald.dev/announcing-ipv4"] ?? "(none)";
    say(
      `first good reply ${outage.firstGoodReplyMs === undefined ? "never came" : `${Math.round(outage.firstGoodReplyMs)} ms after the failure`}, ` +
        `from ${outage.servedBy ?? "nobody"}; ${outage.failedRequests} requests failed meanwhile\n` +
        `herald.dev/announcing-ipv4 is now: ${newAnnouncer}\n` +
        `router's neighbour entry for ${ipv4}: ${await lab.routerNeighbour(ipv4)}\n`,
    );

    step(`heal ${announcer}`);
    say(`${(await labHeal(ref, announcer)).join(", ")}\n`);
    await waitUntil(
      `${ipv4} on exactly one node`,
      async () => (await lab.holders(ipv4)).length === 1,
      10_000,
    );
    say(
      `${ipv4} is on: ${(await lab.holders(ipv4)).join(", ")}; curl -> ${await lab.curl("client", ipv4)}\n`,
    );
    if (outage.firstGoodReplyMs === undefined) return 1;
    return (await routedPart(lab, state, options, step, say)) ? 0 : 1;
  } finally {
    await session?.close();
    if (options.keep) {
      say(
        `\nThe lab stays up: herald lab info --name ${options.name}; herald lab down --name ${options.name}\n`,
      );
    } else {
      step(`herald lab down --name ${options.name}`);
      const down = await labDown(ref);
      say(`stopped ${down.stopped} processes, removed ${down.namespaces.length} namespaces\n`);
    }
  }
}

/** Routed mode on the same lab: BGP to the router, ECMP, and a failure withdrawn by BFD. */
async function routedPart(
  lab: LabSession,
  state: LabInfo,
  options: DemoOptions,
  step: (title: string) => void,
  say: (text: string) => void,
): Promise<boolean> {
  const ref = { name: options.name };
  // The lab's peers run BFD where the router has it (LabSession.peerWithRouter).
  const bfd = options.router !== "gobgp";
  step("routed mode: a BGPPeer, a BGPAdvertisement and a pool that is on no node's subnet");
  await lab.peerWithRouter("upstream");
  await lab.advertise("everything", { communities: ["64512:100"] });
  await lab.applyPool("routed", { addresses: [state.routedPool.ipv4], announce: "Routed" });
  say(
    `BGPPeer upstream: ${state.bgp.routerAddress.ipv4} AS ${state.bgp.routerASN}, local AS ${state.bgp.nodeASN}` +
      `${bfd ? ", BFD 100 ms x3" : " (GoBGP has no BFD: the hold timer stands in)"}\n` +
      `BGPAdvertisement everything: every pool to every peer, community 64512:100\n` +
      `AddressPool routed: ${state.routedPool.ipv4}, announce Routed\n`,
  );
  // Both pools admit it; the annotation picks (ties would go to "lan", by name).
  await lab.createService("api", {}, { "herald.dev/pool": "routed" });
  const address = await waitUntil("a routed address", async () => {
    const service = await lab.service("api");
    return service.annotations["herald.dev/announcing-ipv4"] === "routed"
      ? service.addresses[0]
      : undefined;
  });
  say(
    `Service default/api (annotation herald.dev/pool: routed): ${address}, ` +
      `herald.dev/announcing-ipv4: routed\n`,
  );

  step(`the router: a BGP session per node, and one route for ${address} via every node`);
  const nodes = state.nodes.length;
  await waitUntil(
    "a session per node",
    async () =>
      (await routerSessions(state)).filter(
        (s) => s.state === "Established" && !s.neighbor.includes(":"),
      ).length === nodes,
    30_000,
  );
  for (const session of await routerSessions(state))
    if (!session.neighbor.includes(":"))
      say(`session with ${session.neighbor}: ${session.state}\n`);
  const route = await waitUntil(
    "a route with a next hop per node",
    async () => {
      const routes = await routerRoutes(state, `${address}/32`);
      return routes[0]?.nexthops.length === nodes ? routes[0] : undefined;
    },
    30_000,
  );
  say(`router$ ip route show ${address}: via ${route.nexthops.join(", ")}\n`);

  step("traffic from the client, spread over the nodes by the router (ECMP)");
  if (state.kube.proxy === "kube-proxy") await untilKubeProxyServes(lab, [address], say);
  const answers = new Map<string, number>();
  for (let i = 0; i < 30; i++) {
    const who = await lab.curl("client", address);
    answers.set(who, (answers.get(who) ?? 0) + 1);
  }
  say(
    `30 requests answered by: ${[...answers].map(([who, count]) => `${who} ${count}`).join(", ")}\n`,
  );

  const victim = state.nodes[nodes - 1]!;
  step(`power off ${victim.name}: its next hop leaves the router's route`);
  const failedAt = Date.now();
  say(`${await labFail(ref, victim.name, "hard")}\n`);
  const withdrawnAt = await waitUntil(
    `${victim.name}'s next hop withdrawn`,
    async () => {
      const routes = await routerRoutes(state, `${address}/32`);
      return routes[0] && !routes[0].nexthops.includes(victim.ipv4) ? Date.now() : undefined;
    },
    30_000,
    10,
  );
  const remaining = (await routerRoutes(state, `${address}/32`))[0]?.nexthops ?? [];
  say(
    `withdrawn ${withdrawnAt - failedAt} ms after the failure (${bfd ? "BFD" : "hold timer"}); ` +
      `the route now goes via ${remaining.join(", ")}\n` +
      `client$ curl http://${address}/ -> ${await curlAfterFailure(lab, address, victim.name)}\n`,
  );

  step(`heal ${victim.name}`);
  say(`${(await labHeal(ref, victim.name)).join(", ")}\n`);
  await waitUntil(
    `${victim.name} back in the route`,
    async () => (await routerRoutes(state, `${address}/32`))[0]?.nexthops.length === nodes,
    30_000,
  );
  say(`${address} is routed via every node again\n`);
  return true;
}

/**
 * A request after a node failure. Beside real kube-proxy a new connection may still be
 * sent to the dead node's pod — no kubelet reports it gone, and the node-lifecycle
 * controller does not run in the lab — and time out: try a few times, and say so.
 */
async function curlAfterFailure(lab: LabSession, address: string, victim: string): Promise<string> {
  const url = `http://${address.includes(":") ? `[${address}]` : address}/`;
  for (let attempt = 0; attempt < 5; attempt++) {
    const { ok, output } = await lab.tryExec("client", ["curl", "-sS", "--max-time", "1", url]);
    if (ok) {
      const who = output.split("\n")[0] ?? "";
      return attempt === 0
        ? who
        : `${who} (${attempt} timed out first: kube-proxy still sends a share to ${victim}'s pod)`;
    }
  }
  return "no answer in 5 tries";
}

/**
 * Herald announces an address as soon as its Service has endpoints; kube-proxy writes
 * its rules for it up to a second later, and rejects the connections until then.
 */
async function untilKubeProxyServes(
  lab: LabSession,
  addresses: readonly string[],
  say: (text: string) => void,
): Promise<void> {
  const started = Date.now();
  for (const address of addresses)
    await waitUntil(
      `kube-proxy to serve ${address}`,
      async () => (await lab.get("client", address, 1000).catch(() => undefined))?.status === 200,
      15_000,
      100,
    );
  say(
    `kube-proxy serves ${addresses.join(" and ")} (${Date.now() - started} ms after the announcement was seen)\n`,
  );
}
