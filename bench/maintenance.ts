// Planned maintenance as a client sees it: requests lost while a node is drained and
// powered off, and while every agent restarts one after another. Builds a lab of three
// nodes with a BIRD router (root) and a GET on a new connection every 10 ms:
//   local drain    cordon the announcing node, SIGTERM its agent, power it off, no pause
//   rolling        restart every node's agent in turn, each once its successor announces
//   routed drain   the same drain for a routed address, through the router's ECMP
// Records failed requests (each with when it was sent, from the cordon, and why) and how
// long the stopping agent took (its handover); for the local drain also how often the
// router's neighbour entry moved, and which failures were connections in flight at that
// instant (which the new holder passes to the old one: none should fail) and which were
// not. Before each drain the lab is settled: the node healed last is warm again and past
// its revival hold-off, so that a drain never starts while it takes an address back.
// Prints one JSON object. Usage: node bench/maintenance.ts [trials] [routed trials]
import { labDown, labFail, labHeal, labRestartAgent, labStopAgent, labUp } from "../src/lab/lab.ts";
import { failuresAtMoves } from "../src/lab/neighbour-moves.ts";
import type { ProbeSample } from "../src/lab/probe.ts";
import { LabSession, waitUntil } from "../src/lab/session.ts";
import { DEFAULT_SETTINGS } from "../src/agent/settings.ts";
import { revivalHoldOffMs } from "../src/agent/peer-liveness.ts";
import { routerRoutes } from "../src/lab/router.ts";

const trials = Number(process.argv[2] ?? 20);
const routedTrials = Number(process.argv[3] ?? 5);
const ref = { name: "bench-maint" };
const PROBE = { intervalMs: 10, timeoutMs: 2000 };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

await labDown(ref);
const { state } = await labUp({ ...ref, nodes: 3, ipv6: false, agents: true, router: "bird" });
const lab = LabSession.open(state);
const setCordon = (node: string, unschedulable: boolean | null) =>
  lab.api.mergePatch(`/api/v1/nodes/${node}`, { spec: { unschedulable } });
const failedOf = (samples: readonly ProbeSample[]) => samples.filter((s) => !s.ok).length;

/**
 * Cordon, stop the agent, power off; then heal, uncordon and wait until the node's agent is
 * warm and past the hold-off its peers keep for it. For a local address, also how the
 * router's neighbour entry moved and which failed requests were in flight at a move
 * (neighbour-moves.ts).
 */
async function drain(node: string, address: string) {
  const probe = lab.probe("client", address, { ...PROBE, durationMs: 12_000 });
  await sleep(300);
  const started = Date.now();
  let agentStopMs = 0;
  const { result: samples, moves } = await lab.routerMovesDuring(address, async () => {
    await setCordon(node, true);
    const stopping = Date.now();
    await labStopAgent(ref, node);
    agentStopMs = Date.now() - stopping;
    await labFail(ref, node, "hard");
    return probe.result;
  });
  // A powered-off node's kernel keeps what its agent left there: nothing, after a handover.
  const leftOnStoppedNode = (await lab.holders(address)).includes(node);
  const healing = Date.now();
  await labHeal(ref, node);
  await setCordon(node, null);
  await waitUntil(
    `${node}'s agent warm again`,
    () => lab.agentLog(healing).includes(` ${node} failure detector ready`),
    30_000,
  );
  await sleep(revivalHoldOffMs(DEFAULT_SETTINGS.failureDetector.timeoutMs) + 500);
  const { atMove, other } = failuresAtMoves(samples, moves);
  return {
    node,
    requests: samples.filter((s) => s.sentAt >= started).length,
    failed: failedOf(samples),
    routerMoves: moves.length,
    resetInFlightAtMove: atMove.length,
    failedOtherwise: other.length,
    leftOnStoppedNode,
    agentStopMs,
    failures: samples
      .filter((s) => !s.ok)
      .map((s) => ({ sentMsAfterCordon: s.sentAt - started, ms: s.ms, error: s.error })),
  };
}

const stats = (values: readonly number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    median: sorted[Math.floor(sorted.length / 2)] ?? null,
    max: sorted.at(-1) ?? null,
    total: sorted.reduce((a, b) => a + b, 0),
  };
};

const local: Awaited<ReturnType<typeof drain>>[] = [];
const routed: Awaited<ReturnType<typeof drain>>[] = [];
let rolling: { requests: number; failed: number; tookMs: number } | undefined;
try {
  await lab.applyPool("lan", { addresses: [state.localPool.ipv4], announce: "Local" });
  await lab.applyPool("routed", { addresses: [state.routedPool.ipv4], announce: "Routed" });
  await lab.peerWithRouter("up4");
  await lab.advertise("all", {});
  await lab.createService("web", {});
  await lab.createService("bgp", {}, { "herald.dev/pool": "routed" });
  const address = async (name: string) =>
    waitUntil(`${name}'s address`, async () => (await lab.service(name)).addresses[0]);
  const web = await address("web");
  const bgp = await address("bgp");
  const holder = async () =>
    waitUntil("one holder of web's address", async () => {
      const holders = await lab.holders(web);
      return holders.length === 1 ? holders[0] : undefined;
    });

  for (let trial = 0; trial < trials; trial++) {
    local.push(await drain(await holder(), web));
    process.stderr.write(`local drain ${trial + 1}/${trials}: ${JSON.stringify(local.at(-1))}\n`);
    await sleep(3000);
  }

  const probe = lab.probe("client", web, { ...PROBE, durationMs: 40_000 });
  await sleep(300);
  const started = Date.now();
  for (const node of state.nodes.map((n) => n.name)) {
    await labRestartAgent(ref, node);
    await lab.agentTookOver(node);
  }
  const tookMs = Date.now() - started;
  const samples = await probe.result;
  rolling = {
    requests: samples.filter((s) => s.sentAt >= started && s.sentAt < started + tookMs).length,
    failed: failedOf(samples),
    tookMs,
  };
  process.stderr.write(`rolling restart: ${JSON.stringify(rolling)}\n`);

  for (let trial = 0; trial < routedTrials; trial++) {
    // Every node's route at the router first (a healed node's BGP session comes back 10
    // to 15 s after the node): a drain of a node the router does not route to moves nothing.
    await waitUntil(
      `the router's route to ${bgp} via every node`,
      async () =>
        (await routerRoutes(state, `${bgp}/32`))[0]?.nexthops.length === state.nodes.length,
      60_000,
    );
    const node = state.nodes[trial % state.nodes.length]!.name;
    routed.push(await drain(node, bgp));
    process.stderr.write(
      `routed drain ${trial + 1}/${routedTrials}: ${JSON.stringify(routed.at(-1))}\n`,
    );
  }
} finally {
  await lab.close();
  await labDown(ref);
}

console.log(
  JSON.stringify({
    trials,
    routedTrials,
    nodes: 3,
    probe: { ...PROBE, note: "a GET on a new connection every 10 ms from behind the router" },
    drain:
      "cordon the node, SIGTERM its agent and wait for it to exit, power the node off; no pause",
    localDrain: {
      failed: stats(local.map((t) => t.failed)),
      routerMoves: stats(local.map((t) => t.routerMoves)),
      resetInFlightAtMove: stats(local.map((t) => t.resetInFlightAtMove)),
      failedOtherwise: stats(local.map((t) => t.failedOtherwise)),
      leftOnStoppedNode: local.filter((t) => t.leftOnStoppedNode).length,
      agentStopMs: stats(local.map((t) => t.agentStopMs)),
      samples: local,
    },
    rollingRestart: rolling,
    routedDrain: {
      router: "bird (honours GRACEFUL_SHUTDOWN)",
      failed: stats(routed.map((t) => t.failed)),
      leftOnStoppedNode: routed.filter((t) => t.leftOnStoppedNode).length,
      agentStopMs: stats(routed.map((t) => t.agentStopMs)),
      samples: routed,
    },
  }),
);
