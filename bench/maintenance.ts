// Planned maintenance as a client sees it: requests lost while a node is drained and
// powered off, and while every agent restarts one after another. Builds a lab of three
// nodes with a BIRD router (root) and a GET on a new connection every 10 ms:
//   local drain    cordon the announcing node, SIGTERM its agent, power it off, no pause
//   rolling        restart every node's agent in turn, each once its successor announces
//   routed drain   the same drain for a routed address, through the router's ECMP, with
//                  a 4 s stream open across it on a path through the drained node; then
//                  again in a second lab whose router is FRR, which the lab does not
//                  configure to honour GRACEFUL_SHUTDOWN (traffic moves at the withdrawal)
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
const frrRef = { name: "bench-maint-frr" };
const PROBE = { intervalMs: 10, timeoutMs: 2000 };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

await labDown(ref);
await labDown(frrRef);
const { state } = await labUp({ ...ref, nodes: 3, ipv6: false, agents: true, router: "bird" });
const lab = LabSession.open(state);
const failedOf = (samples: readonly ProbeSample[]) => samples.filter((s) => !s.ok).length;
// The stream open across a routed drain: 4 s, past the withdrawal at gracefulShutdownMs.
const STREAM = { lines: 40, everyMs: 100 };

/**
 * Cordon, stop the agent, power off; then heal, uncordon and wait until the node's agent is
 * warm and past the hold-off its peers keep for it. For a local address, also how the
 * router's neighbour entry moved and which failed requests were in flight at a move
 * (neighbour-moves.ts).
 */
async function drain(
  lab: LabSession,
  ref: { name: string },
  node: string,
  address: string,
  options: { stream?: boolean } = {},
) {
  const setCordon = (unschedulable: boolean | null) =>
    lab.api.mergePatch(`/api/v1/nodes/${node}`, { spec: { unschedulable } });
  const probe = lab.probe("client", address, { ...PROBE, durationMs: 12_000 });
  await sleep(300);
  const via = lab.info.nodes.find((n) => n.name === node)!.ipv4;
  const stream = options.stream
    ? lab.stream(
        "client",
        address,
        STREAM.lines,
        STREAM.everyMs,
        await lab.sourcePortVia(address, via),
      )
    : undefined;
  if (stream) await sleep(200);
  const started = Date.now();
  let agentStopMs = 0;
  const { result: samples, moves } = await lab.routerMovesDuring(address, async () => {
    await setCordon(true);
    const stopping = Date.now();
    await labStopAgent(ref, node);
    agentStopMs = Date.now() - stopping;
    await labFail(ref, node, "hard");
    return probe.result;
  });
  // A powered-off node's kernel keeps what its agent left there: nothing, after a handover.
  const leftOnStoppedNode = (await lab.holders(address)).includes(node);
  const healing = Date.now();
  const streamed = await stream;
  await labHeal(ref, node);
  await setCordon(null);
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
    ...(streamed && {
      streamWhole: streamed.exitCode === 0 && streamed.lines.length === STREAM.lines,
      streamLines: streamed.lines.length,
    }),
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

type Drain = Awaited<ReturnType<typeof drain>>;

/** The routed drains of one lab: each node in turn, once the router routes via every node. */
async function routedDrains(lab: LabSession, ref: { name: string }, bgp: string, into: Drain[]) {
  const nodes = lab.info.nodes;
  for (let trial = 0; trial < routedTrials; trial++) {
    // Every node's route at the router first (a healed node's BGP session comes back 10
    // to 15 s after the node): a drain of a node the router does not route to moves nothing.
    await waitUntil(
      `the router's route to ${bgp} via every node`,
      async () => (await routerRoutes(lab.info, `${bgp}/32`))[0]?.nexthops.length === nodes.length,
      60_000,
    );
    into.push(await drain(lab, ref, nodes[trial % nodes.length]!.name, bgp, { stream: true }));
    process.stderr.write(
      `${lab.info.bgp.router} routed drain ${trial + 1}/${routedTrials}: ${JSON.stringify(into.at(-1))}\n`,
    );
  }
}

/** A routed pool, the router as a BGP peer, and a Service in the pool: its address. */
async function routedService(lab: LabSession): Promise<string> {
  await lab.applyPool("routed", { addresses: [lab.info.routedPool.ipv4], announce: "Routed" });
  await lab.peerWithRouter("up4");
  await lab.advertise("all", {});
  await lab.createService("bgp", {}, { "herald.dev/pool": "routed" });
  return waitUntil("bgp's address", async () => (await lab.service("bgp")).addresses[0]);
}

const local: Drain[] = [];
const routed: Drain[] = [];
const routedFrr: Drain[] = [];
let rolling: { requests: number; failed: number; tookMs: number } | undefined;
try {
  await lab.applyPool("lan", { addresses: [state.localPool.ipv4], announce: "Local" });
  await lab.createService("web", {});
  const web = await waitUntil("web's address", async () => (await lab.service("web")).addresses[0]);
  const bgp = await routedService(lab);
  const holder = async () =>
    waitUntil("one holder of web's address", async () => {
      const holders = await lab.holders(web);
      return holders.length === 1 ? holders[0] : undefined;
    });

  for (let trial = 0; trial < trials; trial++) {
    local.push(await drain(lab, ref, await holder(), web));
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

  await routedDrains(lab, ref, bgp, routed);
} finally {
  await lab.close();
  await labDown(ref);
}

// The same routed drains through a router that moves traffic only at the withdrawal.
const frr = LabSession.open(
  (await labUp({ ...frrRef, nodes: 3, ipv6: false, agents: true, router: "frr" })).state,
);
try {
  await routedDrains(frr, frrRef, await routedService(frr), routedFrr);
} finally {
  await frr.close();
  await labDown(frrRef);
}

const routedSummary = (router: string, drains: readonly Drain[]) => ({
  router,
  failed: stats(drains.map((t) => t.failed)),
  streamsBroken: drains.filter((t) => t.streamWhole === false).length,
  leftOnStoppedNode: drains.filter((t) => t.leftOnStoppedNode).length,
  agentStopMs: stats(drains.map((t) => t.agentStopMs)),
  samples: drains,
});

console.log(
  JSON.stringify({
    trials,
    routedTrials,
    nodes: 3,
    probe: { ...PROBE, note: "a GET on a new connection every 10 ms from behind the router" },
    stream: { ...STREAM, note: "routed drains: one connection across the drain, via the node" },
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
    routedDrain: routedSummary("bird (honours GRACEFUL_SHUTDOWN)", routed),
    routedDrainIgnoringCommunity: routedSummary("frr (not configured to honour it)", routedFrr),
  }),
);
