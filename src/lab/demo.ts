// `herald lab demo`: the whole story on one host, narrated. A lab comes up, a pool and a
// service are created, the address is reached from the LAN and through the router, the
// announcing node is powered off, and the outage a client saw is measured and reported.
import { labDown, labHeal, labFail, labUp } from "./lab.ts";
import { outageAfter } from "./probe.ts";
import { LabSession, waitUntil } from "./session.ts";

export interface DemoOptions {
  name: string;
  nodes: number;
  keep: boolean;
}

const bold = (text: string) => (process.stdout.isTTY ? `\x1b[1m${text}\x1b[0m` : text);

export async function runDemo(options: DemoOptions, say: (text: string) => void): Promise<number> {
  const step = (title: string) => say(`\n${bold(`== ${title}`)}\n`);
  const ref = { name: options.name };
  let session: LabSession | undefined;
  try {
    step(`herald lab up --name ${options.name} --nodes ${options.nodes} --ipv6`);
    const { state, warnings } = await labUp({
      ...ref,
      nodes: options.nodes,
      ipv6: true,
      agents: true,
    });
    for (const warning of warnings) say(`warning: ${warning}\n`);
    session = LabSession.open(state);
    const lab = session;
    say(
      `LAN ${state.lan.ipv4} and ${state.lan.ipv6}: ${state.nodes.map((n) => `${n.name} ${n.ipv4}`).join(", ")}\n` +
        `router ${state.router.lan.ipv4}, lanclient ${state.lanclient.ipv4}, ` +
        `client ${state.client.ipv4} (behind the router)\n` +
        `API server ${state.apiServer}; kubeconfig ${state.kubeconfig}\n` +
        `every node runs the Herald agent and a web backend that answers with its node's name\n`,
    );

    step("kubectl apply: an AddressPool on the LAN and a dual-stack LoadBalancer Service");
    const pool = {
      addresses: [state.localPool.ipv4, state.localPool.ipv6].filter(Boolean),
      announce: "Local",
    };
    say(`AddressPool lan: addresses ${pool.addresses.join(", ")}, announce Local\n`);
    await lab.applyPool("lan", pool);
    await lab.createService("web", {
      ipFamilyPolicy: "PreferDualStack",
      ipFamilies: ["IPv4", "IPv6"],
    });
    say("Service default/web: type LoadBalancer, selector app=lab-web, port 80\n");

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
    return outage.firstGoodReplyMs === undefined ? 1 : 0;
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
