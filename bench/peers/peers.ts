// Herald and MetalLB side by side, in one lab on real Kubernetes (kube-apiserver,
// kube-controller-manager, real kube-proxy in every node namespace; root), measured in one
// run with the same nodes, API server and client probes. Each has its own
// loadBalancerClass and its own address range, so neither touches the other's Services.
//
//   1. L2 failover after a hard node failure (link down, processes stopped): probes every
//      10 ms from the client behind the router; first good reply and requests failed in
//      the 30 s after. Trials alternate Herald, MetalLB, so both see the same machine load.
//   2. Planned drain of the announcing node: cordon, stop its agent / speaker (SIGTERM),
//      power off its link; requests failed.
//   3. `services` Services created at once: time until all have addresses.
//   4. API requests/s per client (kube-apiserver's audit log, by ServiceAccount) at rest
//      and in each burst; CPU and RSS of each controller and node agent (/proc).
//
// Prints one JSON object. Usage:
//   node bench/peers/peers.ts [--trials N] [--drain-trials N] [--services N] [--nodes N]
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { parseArgs } from "node:util";
import { setTimeout as sleep } from "node:timers/promises";
import { DEFAULT_SETTINGS } from "../../src/agent/settings.ts";
import { labDown, labFail, labHeal, labUp } from "../../src/lab/lab.ts";
import { outageAfter } from "../../src/lab/probe.ts";
import { pidOf, stopProcesses } from "../../src/lab/processes.ts";
import { auditLogPath } from "../../src/lab/real-cluster.ts";
import { LabSession, waitUntil } from "../../src/lab/session.ts";
import { LabFiles } from "../../src/lab/state.ts";
import { countAudit } from "../audit.ts";
import { cpuMillis } from "../controller-process.ts";
import {
  failAnnouncer,
  failedInWindow,
  kernelTarget,
  type FailoverTarget,
  type ProbeSettings,
  type StepOptions,
} from "../failover-step.ts";
import { MetalLB, METALLB_CLASS, METALLB_USERS, peerBinaries } from "./metallb.ts";

const { values } = parseArgs({
  options: {
    trials: { type: "string", default: "20" },
    "drain-trials": { type: "string", default: "3" },
    services: { type: "string", default: "1000" },
    nodes: { type: "string", default: "3" },
    "rest-seconds": { type: "string", default: "30" },
  },
});
const trials = Number(values.trials);
const drainTrials = Number(values["drain-trials"]);
const services = Number(values.services);
const nodes = Number(values.nodes);
const REST_SECONDS = Number(values["rest-seconds"]);
const WINDOW_MS = 30_000;
const DRAIN_MS = 20_000;
const HERALD_CLASS = "herald.dev/herald";
const HERALD_USERS = {
  controller: "system:serviceaccount:herald-system:herald-controller",
  agent: "system:serviceaccount:herald-system:herald-agent",
} as const;
const ref = { name: "bench-peers" };
// A request on a new connection every 10 ms, each given 1 s: one sent to the dead node's
// MAC fails rather than waiting out TCP's SYN retransmissions.
const FAILOVER_PROBE: ProbeSettings = {
  intervalMs: 10,
  timeoutMs: 1000,
  durationMs: WINDOW_MS + 1000,
};
const DRAIN_PROBE: ProbeSettings = { intervalMs: 10, timeoutMs: 1000, durationMs: DRAIN_MS };

type Who = "herald" | "metallb";
const WHO: readonly Who[] = ["herald", "metallb"];

function median(values: readonly number[]): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
const stats = (values: readonly number[]) => ({
  median: median(values),
  max: values.length ? Math.max(...values) : null,
  min: values.length ? Math.min(...values) : null,
});
const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

const binaries = await peerBinaries();
await labDown(ref);
const loadBefore = loadavg();
const { state } = await labUp({ ...ref, nodes, ipv6: false, agents: true, kube: "real" });
const files = new LabFiles(state.dir);
const lab = LabSession.open(state);
const metallb = new MetalLB(lab, state, binaries);
const nodeNames = state.nodes.map((n) => n.name);

/** Roles of each one's processes: its controller and one node agent per node. */
const roles = (who: Who) =>
  who === "herald"
    ? { controller: "controller", agent: (node: string) => `agent-${node}` }
    : { controller: "metallb-controller", agent: (node: string) => `metallb-speaker-${node}` };

/** CPU time so far (ms) and resident memory now (MiB) of every process of both. */
function sampleCost(): Record<string, { cpuMs: number; rssMiB: number }> {
  const out: Record<string, { cpuMs: number; rssMiB: number }> = {};
  for (const who of WHO) {
    const r = roles(who);
    for (const role of [r.controller, ...nodeNames.map(r.agent)]) {
      const pid = pidOf(files, role);
      if (pid === undefined) continue;
      const rss = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
      out[role] = { cpuMs: cpuMillis(pid), rssMiB: round(Number(rss ?? 0) / 1024) };
    }
  }
  return out;
}

/** What each one's controller and node agents cost and asked of the API server in a window. */
function windowFigures(from: number, to: number, before: ReturnType<typeof sampleCost>) {
  const after = sampleCost();
  const seconds = (to - from) / 1000;
  const counts = countAudit(readFileSync(auditLogPath(files), "utf8"), { from, to });
  const perSecond = (user: string) => round((counts.byUser[user] ?? 0) / seconds, 2);
  const cost = (role: string) => {
    const a = after[role];
    const b = before[role];
    if (!a || !b) return null;
    // Share of one core over the window, and resident memory at its end.
    return { cpuPercent: round(((a.cpuMs - b.cpuMs) / (to - from)) * 100, 2), rssMiB: a.rssMiB };
  };
  const figures = (who: Who) => {
    const users = who === "herald" ? HERALD_USERS : METALLB_USERS;
    const agentUser = who === "herald" ? HERALD_USERS.agent : METALLB_USERS.speaker;
    const r = roles(who);
    const agents = nodeNames.map((node) => cost(r.agent(node))).filter((c) => c !== null);
    return {
      controllerRequestsPerSecond: perSecond(users.controller),
      // All node agents together; each node's is this divided by the node count.
      agentRequestsPerSecond: perSecond(agentUser),
      controllerByVerb: counts.byUserAndVerb[users.controller] ?? {},
      agentsByVerb: counts.byUserAndVerb[agentUser] ?? {},
      forbidden: {
        controller: counts.forbidden[users.controller] ?? 0,
        agents: counts.forbidden[agentUser] ?? 0,
      },
      controller: cost(r.controller),
      agentPerNode: {
        cpuPercentMedian: median(agents.map((c) => c.cpuPercent)),
        rssMiBMedian: median(agents.map((c) => c.rssMiB)),
        byNode: Object.fromEntries(nodeNames.map((node) => [node, cost(r.agent(node))])),
      },
    };
  };
  return { seconds: round(seconds), herald: figures("herald"), metallb: figures("metallb") };
}

async function restWindow() {
  const before = sampleCost();
  const from = Date.now();
  await sleep(REST_SECONDS * 1000);
  const to = Date.now();
  await sleep(2000); // the audit log's batch reaches the file
  return windowFigures(from, to, before);
}

const setCordon = (node: string, unschedulable: boolean) =>
  lab.api.mergePatch(`/api/v1/nodes/${node}`, { spec: { unschedulable } });

/** Cordon, stop the node agent gracefully, then power off the node's link. */
function drainSteps(who: Who): StepOptions {
  return {
    fail: async (node) => {
      await setCordon(node, true);
      const role = who === "herald" ? `agent-${node}` : `metallb-speaker-${node}`;
      const pid = pidOf(files, role);
      if (pid === undefined) throw new Error(`no ${role} runs: nothing to drain`);
      await stopProcesses([pid], 10_000);
      await sleep(2000);
      await labFail(ref, node, "link");
    },
    heal: async (node) => {
      await labHeal(ref, node); // link up; restarts Herald's agent if it is not running
      if (who === "metallb") metallb.ensureSpeaker(node);
      await setCordon(node, false);
    },
  };
}

/** `count` Services of one class at once; ms from the first create until all have addresses. */
async function burst(
  who: Who,
  count: number,
): Promise<{ createdMs: number; allAddressedMs: number }> {
  const label = `burst-${who}`;
  const start = Date.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < count) {
        const i = next++;
        await lab.api.create("/api/v1/namespaces/default/services", {
          apiVersion: "v1",
          kind: "Service",
          metadata: {
            name: `${label}-${i}`,
            labels: { bench: label },
            annotations:
              who === "herald"
                ? { "herald.dev/pool": "burst" }
                : { "metallb.io/address-pool": "burst" },
          },
          spec: {
            type: "LoadBalancer",
            loadBalancerClass: who === "herald" ? HERALD_CLASS : METALLB_CLASS,
            allocateLoadBalancerNodePorts: false,
            selector: state.backends.labels,
            ports: [{ name: "http", port: 80, targetPort: state.backends.port, protocol: "TCP" }],
          },
        });
      }
    }),
  );
  const created = Date.now();
  await waitUntil(
    `${count} ${who} services with addresses`,
    async () => {
      const list = await lab.api.list<{ status?: { loadBalancer?: { ingress?: unknown[] } } }>(
        "/api/v1/namespaces/default/services",
        { labelSelector: `bench=${label}` },
      );
      return (
        list.items.length === count &&
        list.items.every((s) => (s.status?.loadBalancer?.ingress?.length ?? 0) > 0)
      );
    },
    600_000,
    250,
  );
  return { createdMs: created - start, allAddressedMs: Date.now() - start };
}

const failover: Record<Who, Record<string, unknown>[]> = { herald: [], metallb: [] };
const drain: Record<Who, Record<string, unknown>[]> = { herald: [], metallb: [] };
let output: Record<string, unknown>;
try {
  await metallb.start();
  const lan = state.localPool.ipv4; // .200-.250 of the LAN: Herald .200-.224, MetalLB .225-.250
  const prefix = lan.split("-")[0]!.replace(/\.\d+$/, "");
  await lab.applyPool("lan", { addresses: [`${prefix}.200-${prefix}.224`], announce: "Local" });
  await metallb.applyPool("lan", [`${prefix}.225-${prefix}.250`]);
  // The burst's addresses are off the LAN's subnet; both put them on the nodes' eth0.
  await lab.applyPool("burst", {
    addresses: ["10.210.0.0/20"],
    announce: "Local",
    interfaces: ["^eth0$"],
    autoAssign: false,
  });
  await metallb.applyPool("burst", ["10.211.0.0/20"]);
  // externalTrafficPolicy Local: the answering pod is the announcer's own, so the first
  // good reply after a failure is the takeover's, not one in flight through the dead node.
  await lab.createService(
    "web-herald",
    { loadBalancerClass: HERALD_CLASS, externalTrafficPolicy: "Local" },
    { "herald.dev/pool": "lan" },
  );
  await lab.createService(
    "web-metallb",
    { loadBalancerClass: METALLB_CLASS, externalTrafficPolicy: "Local" },
    { "metallb.io/address-pool": "lan" },
  );
  const targets: Record<Who, FailoverTarget> = {
    herald: kernelTarget(lab, "web-herald"),
    metallb: metallb.target("web-metallb"),
  };
  // A peer that moves an address back after a heal must have done so before the next step.
  const common: StepOptions = { stableMs: 3000, settleTimeoutMs: 90_000 };
  for (const who of WHO)
    await waitUntil(`${who}'s first announcer`, () => targets[who].announcer(), 90_000, 500);
  await sleep(5000); // startup's lists and first writes are over

  const atRest = await restWindow();

  for (let trial = 0; trial < trials; trial++)
    for (const who of WHO) {
      const step = await failAnnouncer(lab, ref, targets[who], FAILOVER_PROBE, common);
      const outage = outageAfter(step.samples, step.failedAt, step.failed);
      const window = failedInWindow(step.samples, step.failedAt, WINDOW_MS);
      failover[who].push({
        failed: step.failed,
        firstGoodReplyMs:
          outage.firstGoodReplyMs === undefined ? null : round(outage.firstGoodReplyMs),
        servedBy: outage.servedBy ?? null,
        requestsIn30s: window.requests,
        failedIn30s: window.failed,
      });
      process.stderr.write(
        `failover ${who} ${trial + 1}/${trials}: ${JSON.stringify(failover[who].at(-1))}\n`,
      );
    }

  for (let trial = 0; trial < drainTrials; trial++)
    for (const who of WHO) {
      const step = await failAnnouncer(lab, ref, targets[who], DRAIN_PROBE, {
        ...common,
        ...drainSteps(who),
      });
      const window = failedInWindow(step.samples, step.failedAt, DRAIN_MS);
      drain[who].push({ drained: step.failed, requests: window.requests, failed: window.failed });
      process.stderr.write(
        `drain ${who} ${trial + 1}/${drainTrials}: ${JSON.stringify(drain[who].at(-1))}\n`,
      );
    }

  const bursts: Record<string, unknown> = {};
  for (const who of WHO) {
    const before = sampleCost();
    const from = Date.now();
    const times = await burst(who, services);
    const to = Date.now();
    await sleep(2000);
    bursts[who] = { ...times, window: windowFigures(from, to, before) };
    process.stderr.write(`burst ${who}: ${JSON.stringify(times)}\n`);
    await sleep(5000);
  }

  const atRestHeld = await restWindow();
  const loadAfter = loadavg();

  const summary = (who: Who) => {
    const firstGood = failover[who].flatMap((t) =>
      typeof t.firstGoodReplyMs === "number" ? [t.firstGoodReplyMs] : [],
    );
    return {
      failover: {
        trials: failover[who].length,
        recovered: firstGood.length,
        firstGoodReplyMs: stats(firstGood),
        failedIn30s: stats(failover[who].map((t) => t.failedIn30s as number)),
        samples: failover[who],
      },
      drain: {
        trials: drain[who].length,
        failed: stats(drain[who].map((t) => t.failed as number)),
        samples: drain[who],
      },
      burst: bursts[who],
    };
  };
  const herald = summary("herald");
  const metallbSummary = summary("metallb");
  const ratio = (a: number | null | undefined, b: number | null | undefined) =>
    a === null || a === undefined || !b ? null : round(a / b, 3);
  const burstMs = (who: Who) => (bursts[who] as { allAddressedMs: number }).allAddressedMs;
  output = {
    kube: "real",
    nodes,
    settings: {
      trials,
      drainTrials,
      services,
      restSeconds: REST_SECONDS,
      probe: { failover: FAILOVER_PROBE, drain: DRAIN_PROBE, windowMs: WINDOW_MS },
      failure: "hard: the node's LAN link down and every process in its namespace SIGSTOPped",
      drain:
        "cordon, SIGTERM the node's agent / speaker and wait for it to exit, 2 s, the node's LAN link down",
      externalTrafficPolicy: "Local (failover and drain services); Cluster for the burst",
      herald: {
        loadBalancerClass: HERALD_CLASS,
        failureDetector: DEFAULT_SETTINGS.failureDetector,
        garp: DEFAULT_SETTINGS.garp,
        pools: { failover: `${prefix}.200-${prefix}.224`, burst: "10.210.0.0/20" },
      },
      metallb: {
        ...metallb.settings,
        pools: { failover: `${prefix}.225-${prefix}.250`, burst: "10.211.0.0/20" },
      },
    },
    versions: {
      herald: JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"))
        .version as string,
      metallb: binaries.metallbVersion,
      kubeVip: binaries.kubeVip,
      kubernetes:
        "kube-apiserver, kube-controller-manager and kube-proxy (nftables) from scripts/k8s.sh",
    },
    machineLoad: {
      loadavgBefore: loadBefore.map((l) => round(l, 2)),
      loadavgAfter: loadAfter.map((l) => round(l, 2)),
      note: "2 cores shared with other workers' builds and tests; both peers ran at once in the same lab, so each also carried the other's load",
    },
    herald,
    metallb: metallbSummary,
    api: { atRest, atRestHeld },
    ratios: {
      note: "Herald / MetalLB: below 1, Herald needs less",
      failoverFirstGoodReplyMedian: ratio(
        herald.failover.firstGoodReplyMs.median,
        metallbSummary.failover.firstGoodReplyMs.median,
      ),
      failoverFailedIn30sMedian: ratio(
        herald.failover.failedIn30s.median,
        metallbSummary.failover.failedIn30s.median,
      ),
      drainFailedMedian: ratio(herald.drain.failed.median, metallbSummary.drain.failed.median),
      burstAllAddressed: ratio(burstMs("herald"), burstMs("metallb")),
    },
  };
} finally {
  await lab.close();
  await labDown(ref);
}
process.stdout.write(JSON.stringify(output) + "\n");
