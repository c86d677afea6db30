// Local-mode failover after a hard node failure, as a client behind the router sees it
// (DESIGN §9: < 1 s to the first good reply). Builds a lab (root), creates a pool and a
// service, then repeatedly powers off the announcing node while the client sends a GET on
// a new connection every 10 ms, and records the time from the failure to the first good
// reply. Prints one JSON object. Usage: node bench/failover.ts [trials] [nodes]
import { labDown, labFail, labHeal, labUp } from "../src/lab/lab.ts";
import { outageAfter } from "../src/lab/probe.ts";
import { LabSession, waitUntil } from "../src/lab/session.ts";

const trials = Number(process.argv[2] ?? 20);
const nodes = Number(process.argv[3] ?? 3);
const ref = { name: "bench-failover" };

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

await labDown(ref);
const { state } = await labUp({ ...ref, nodes, ipv6: false, agents: true });
const lab = LabSession.open(state);
const outages: {
  ms: number | undefined;
  failed: string;
  servedBy?: string;
  failedRequests: number;
}[] = [];
try {
  await lab.applyPool("lan", { addresses: [state.localPool.ipv4], announce: "Local" });
  await lab.createService("web", {});
  const announcer = async () => {
    const service = await lab.service("web");
    const value = service.annotations["herald.dev/announcing-ipv4"];
    return value && service.addresses[0]
      ? { node: value.split(" ")[0]!, address: service.addresses[0] }
      : undefined;
  };
  for (let trial = 0; trial < trials; trial++) {
    const current = await waitUntil("an announcing node", announcer, 20_000);
    await waitUntil(
      "a good reply",
      async () => (await lab.curl("client", current.address, 1000)) !== "",
      10_000,
    );
    const probe = lab.probe("client", current.address, {
      intervalMs: 10,
      timeoutMs: 3000,
      durationMs: 3500,
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    const failedAt = Date.now();
    await labFail(ref, current.node, "hard");
    const outage = outageAfter(await probe.result, failedAt, current.node);
    outages.push({
      ms: outage.firstGoodReplyMs,
      failed: current.node,
      servedBy: outage.servedBy,
      failedRequests: outage.failedRequests,
    });
    await labHeal(ref, current.node);
    // The healed node takes back the addresses it wins; wait until exactly one holds it.
    await waitUntil(
      "one holder",
      async () => (await lab.holders(current.address)).length === 1,
      15_000,
    );
    await new Promise((resolve) => setTimeout(resolve, 1500));
  }
} finally {
  await lab.close();
  await labDown(ref);
}

const measured = outages.flatMap((o) => (o.ms === undefined ? [] : [o.ms])).sort((a, b) => a - b);
console.log(
  JSON.stringify({
    trials,
    nodes,
    probeIntervalMs: 10,
    recovered: measured.length,
    firstGoodReplyMs: {
      median: measured.length ? quantile(measured, 0.5) : null,
      p90: measured.length ? quantile(measured, 0.9) : null,
      max: measured.length ? measured[measured.length - 1] : null,
      min: measured.length ? measured[0] : null,
    },
    medianUnder1s: measured.length === trials && quantile(measured, 0.5) < 1000,
    outages,
  }),
);
