// What the controller and the agents ask of a real API server, in a lab on real
// Kubernetes (`herald lab up --kube real`: kube-apiserver, kube-controller-manager,
// kube-proxy; root): requests per second by each ServiceAccount, counted from the API
// server's audit log, at rest with one Service, in a burst of Services created at once
// (routed, so that every agent announces every one), and at rest again with them held.
// Prints one JSON object. Usage: node bench/lab-api.ts [services] [nodes]
import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { labDown, labUp } from "../src/lab/lab.ts";
import { auditLogPath } from "../src/lab/real-cluster.ts";
import { LabSession, waitUntil } from "../src/lab/session.ts";
import { LabFiles } from "../src/lab/state.ts";
import { countAudit, type AuditCounts } from "./audit.ts";

const services = Number(process.argv[2] ?? 1000);
const nodes = Number(process.argv[3] ?? 3);
const REST_SECONDS = 30;
const CONTROLLER = "system:serviceaccount:herald-system:herald-controller";
const AGENT = "system:serviceaccount:herald-system:herald-agent";
const ref = { name: "bench-lab-api" };

function rates(counts: AuditCounts, seconds: number) {
  const perSecond = (user: string) =>
    Math.round(((counts.byUser[user] ?? 0) / seconds) * 100) / 100;
  return {
    seconds: Math.round(seconds * 10) / 10,
    controllerPerSecond: perSecond(CONTROLLER),
    // All agents together; per agent is this divided by the node count.
    agentsPerSecond: perSecond(AGENT),
    controllerByVerb: counts.byUserAndVerb[CONTROLLER] ?? {},
    agentsByVerb: counts.byUserAndVerb[AGENT] ?? {},
    forbidden: counts.forbidden,
  };
}

await labDown(ref);
const { state } = await labUp({
  ...ref,
  nodes,
  ipv6: false,
  agents: true,
  router: "bird",
  kube: "real",
});
const lab = LabSession.open(state);
const audit = auditLogPath(new LabFiles(state.dir));
const window = (from: number, to: number) => countAudit(readFileSync(audit, "utf8"), { from, to });
try {
  await lab.peerWithRouter("upstream");
  await lab.advertise("all", {});
  await lab.applyPool("routed", { addresses: ["10.200.0.0/20"], announce: "Routed" });
  await lab.createService("first", { allocateLoadBalancerNodePorts: false });
  await waitUntil(
    "the first service served",
    async () => (await lab.service("first")).addresses[0],
  );
  await sleep(5000); // startup's lists and first writes are over

  const restFrom = Date.now();
  await sleep(REST_SECONDS * 1000);
  const restTo = Date.now();

  const burstFrom = Date.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < services) {
        const i = next++;
        await lab.createService(`burst-${i}`, { allocateLoadBalancerNodePorts: false });
      }
    }),
  );
  const created = Date.now();
  // Every agent has announced every address: NodeState lists them.
  await waitUntil(
    "every node announcing every service",
    async () => {
      for (const node of state.nodes) {
        const view = (await lab.api.request(
          "GET",
          `/apis/herald.dev/v1alpha1/nodestates/${node.name}`,
        )) as { status?: { announced?: unknown[] } };
        if ((view.status?.announced?.length ?? 0) < services + 1) return false;
      }
      return true;
    },
    300_000,
    500,
  );
  const burstTo = Date.now();
  await sleep(5000);

  const heldFrom = Date.now();
  await sleep(REST_SECONDS * 1000);
  const heldTo = Date.now();
  await sleep(2000); // the audit log's batch reaches the file

  process.stdout.write(
    JSON.stringify({
      apiServer: "kube-apiserver with kube-controller-manager and kube-proxy (nftables)",
      nodes,
      services,
      burst: {
        createdMillis: created - burstFrom,
        allAnnouncedMillis: burstTo - burstFrom,
        ...rates(window(burstFrom, burstTo), (burstTo - burstFrom) / 1000),
      },
      atRestOneService: rates(window(restFrom, restTo), (restTo - restFrom) / 1000),
      atRestHeld: rates(window(heldFrom, heldTo), (heldTo - heldFrom) / 1000),
    }) + "\n",
  );
} finally {
  await lab.close();
  await labDown(ref);
}
