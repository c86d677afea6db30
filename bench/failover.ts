// Local-mode failover after a hard node failure, as a client behind the router sees it
// (DESIGN §9: < 1 s to the first good reply). Builds a lab (root), creates a pool and a
// service, then repeatedly powers off the announcing node while the client sends a GET on
// a new connection every 10 ms, and records the time from the failure to the first good
// reply. With kube "real" the lab runs kube-apiserver and real kube-proxy, and after the
// trials come the aftermath runs: 30 s of requests after a hard failure, counting those
// that still fail because the new announcer's kube-proxy sends them to the dead node's pod
// (externalTrafficPolicy Cluster), and the same with Local, where it cannot.
// Prints one JSON object. Usage: node bench/failover.ts [trials] [nodes] [devkube|real]
import { labDown, labUp } from "../src/lab/lab.ts";
import { outageAfter } from "../src/lab/probe.ts";
import { LabSession } from "../src/lab/session.ts";
import {
  failAnnouncer as failAnnouncerStep,
  failedInWindow,
  kernelTarget,
  type ProbeSettings,
} from "./failover-step.ts";

const trials = Number(process.argv[2] ?? 20);
const nodes = Number(process.argv[3] ?? 3);
const kube = process.argv[4] === "real" ? "real" : "devkube";
const ref = { name: kube === "real" ? "bench-failover-rk" : "bench-failover" };
const AFTERMATH_MS = 30_000;
const AFTERMATH_RUNS = 2;

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

await labDown(ref);
const { state } = await labUp({ ...ref, nodes, ipv6: false, agents: true, kube });
const lab = LabSession.open(state);
const outages: {
  ms: number | undefined;
  failed: string;
  servedBy?: string;
  failedRequests: number;
}[] = [];
const aftermath: Record<string, unknown>[] = [];
try {
  await lab.applyPool("lan", { addresses: [state.localPool.ipv4], announce: "Local" });
  // Beside real kube-proxy the answering pod need not be on the announcing node, so an
  // answer from a live node may still have come through the failed one, in flight: with
  // Local the pod is the announcer's own, and the first good reply is the takeover's.
  await lab.createService("web", kube === "real" ? { externalTrafficPolicy: "Local" } : {});
  const target = kernelTarget(lab, "web");
  const failAnnouncer = (probe: ProbeSettings) => failAnnouncerStep(lab, ref, target, probe);
  for (let trial = 0; trial < trials; trial++) {
    const { failed, failedAt, samples } = await failAnnouncer({
      intervalMs: 10,
      timeoutMs: 3000,
      durationMs: 3500,
    });
    const outage = outageAfter(samples, failedAt, failed);
    outages.push({
      ms: outage.firstGoodReplyMs,
      failed,
      servedBy: outage.servedBy,
      failedRequests: outage.failedRequests,
    });
  }
  if (kube === "real")
    for (const policy of ["Cluster", "Local"] as const) {
      await lab.api.mergePatch("/api/v1/namespaces/default/services/web", {
        spec: { externalTrafficPolicy: policy },
      });
      for (let run = 0; run < AFTERMATH_RUNS; run++) {
        // One request every 50 ms, each on a new connection with a 1 s limit: a request
        // sent to the dead node's pod is one that times out.
        const { failed, failedAt, samples } = await failAnnouncer({
          intervalMs: 50,
          timeoutMs: 1000,
          durationMs: AFTERMATH_MS + 1500,
        });
        const outage = outageAfter(samples, failedAt, failed);
        const recoveredAt = failedAt + (outage.firstGoodReplyMs ?? AFTERMATH_MS);
        const window = samples.filter(
          (s) => s.sentAt >= recoveredAt && s.sentAt < failedAt + AFTERMATH_MS,
        );
        const failedAfterRecovery = window.filter((s) => !s.ok).length;
        aftermath.push({
          externalTrafficPolicy: policy,
          failed,
          firstGoodReplyMs: outage.firstGoodReplyMs ?? null,
          requestsIn30s: failedInWindow(samples, failedAt, AFTERMATH_MS).requests,
          failedIn30s: failedInWindow(samples, failedAt, AFTERMATH_MS).failed,
          requestsAfterRecovery: window.length,
          failedAfterRecovery,
          failedShareAfterRecovery: window.length ? failedAfterRecovery / window.length : null,
        });
      }
    }
} finally {
  await lab.close();
  await labDown(ref);
}

const measured = outages.flatMap((o) => (o.ms === undefined ? [] : [o.ms])).sort((a, b) => a - b);
console.log(
  JSON.stringify({
    kube,
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
    ...(kube === "real" ? { aftermath } : {}),
  }),
);
