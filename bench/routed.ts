// Routed mode against a real router (BIRD in the lab's router namespace; root): the time
// from creating a Service to its route at the router, and from powering off a node to its
// next hop leaving the router's kernel, with BFD at 100 ms × 3 and then without BFD (the
// BGP hold timer, at the 9 s hold / 3 s keepalive the peer is given for this). Prints one
// JSON object. Usage: node bench/routed.ts [services] [failures] [devkube|real]
import { labDown, labFail, labHeal, labUp } from "../src/lab/lab.ts";
import { routerRoutes, routerSessions } from "../src/lab/router.ts";
import { LabSession, waitUntil } from "../src/lab/session.ts";

const services = Number(process.argv[2] ?? 10);
const failures = Number(process.argv[3] ?? 5);
const kube = process.argv[4] === "real" ? "real" : "devkube";
const ref = { name: kube === "real" ? "bench-routed-rk" : "bench-routed" };

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

await labDown(ref);
const { state } = await labUp({
  ...ref,
  nodes: 3,
  ipv6: false,
  agents: true,
  router: "bird",
  kube,
});
const lab = LabSession.open(state);
const toRoute: number[] = [];
const toAllNextHops: number[] = [];
const toWithdrawn: number[] = [];
const toWithdrawnNoBfd: number[] = [];
const HOLD_SECONDS = 9;
try {
  await lab.peerWithRouter("upstream");
  await lab.advertise("all", {});
  await lab.applyPool("routed", { addresses: [state.routedPool.ipv4], announce: "Routed" });
  const established = () =>
    waitUntil(
      "three sessions",
      async () =>
        (await routerSessions(state)).filter((s) => s.state === "Established").length === 3,
      60_000,
    );

  for (let i = 0; i < services; i++) {
    const started = performance.now();
    await lab.createService(`web${i}`, {});
    const address = await waitUntil(
      "an address",
      async () => (await lab.service(`web${i}`)).addresses[0],
      10_000,
      5,
    );
    if (i === 0) await established();
    let first: number | undefined;
    await waitUntil(
      "three next hops",
      async () => {
        const route = (await routerRoutes(state, `${address}/32`))[0];
        if (route && first === undefined) first = performance.now() - started;
        return route?.nexthops.length === 3;
      },
      60_000,
      10,
    );
    if (i === 0) continue; // the first waits for the sessions to come up
    toRoute.push(first!);
    toAllNextHops.push(performance.now() - started);
  }

  const address = (await lab.service("web1")).addresses[0]!;
  const node = state.nodes[1]!;
  const failAndMeasure = async (into: number[]) => {
    await established();
    await waitUntil(
      "three next hops",
      async () => (await routerRoutes(state, `${address}/32`))[0]?.nexthops.length === 3,
      30_000,
    );
    const failedAt = performance.now();
    await labFail(ref, node.name, "hard");
    await waitUntil(
      "the failed next hop gone",
      async () => {
        const route = (await routerRoutes(state, `${address}/32`))[0];
        return route !== undefined && !route.nexthops.includes(node.ipv4);
      },
      30_000,
      10,
    );
    into.push(performance.now() - failedAt);
    await labHeal(ref, node.name);
  };
  for (let i = 0; i < failures; i++) await failAndMeasure(toWithdrawn);
  // Without BFD: only the hold timer notices a node that went silent.
  await lab.api.mergePatch("/apis/herald.dev/v1alpha1/bgppeers/upstream", {
    spec: { bfd: null, holdTime: HOLD_SECONDS, keepaliveTime: HOLD_SECONDS / 3 },
  });
  for (let i = 0; i < Math.min(failures, 3); i++) await failAndMeasure(toWithdrawnNoBfd);
} finally {
  await lab.close();
  await labDown(ref);
}

const round = (values: number[]) => values.map((v) => Math.round(v));
console.log(
  JSON.stringify({
    kube,
    router: "bird",
    nodes: 3,
    bfd: "100 ms x 3",
    serviceToRouteMs: {
      median: Math.round(median(toRoute)!),
      max: Math.round(Math.max(...toRoute)),
      samples: round(toRoute),
    },
    serviceToAllNextHopsMs: {
      median: Math.round(median(toAllNextHops)!),
      max: Math.round(Math.max(...toAllNextHops)),
    },
    nodeFailureToWithdrawnMs: {
      median: Math.round(median(toWithdrawn)!),
      max: Math.round(Math.max(...toWithdrawn)),
      samples: round(toWithdrawn),
    },
    withoutBfd: {
      holdTimeSeconds: HOLD_SECONDS,
      keepaliveSeconds: HOLD_SECONDS / 3,
      nodeFailureToWithdrawnMs: {
        median: Math.round(median(toWithdrawnNoBfd)!),
        max: Math.round(Math.max(...toWithdrawnNoBfd)),
        samples: round(toWithdrawnNoBfd),
      },
    },
    targetsMet: median(toRoute)! < 1000 && median(toWithdrawn)! < 1000,
  }),
);
