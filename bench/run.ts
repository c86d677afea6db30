// npm run bench [-- allocate|plan|maintenance|…]: runs the benchmarks, each in fresh processes, and
// writes their figures with the targets of DESIGN §9 to bench/results/<name>.json.
// Options after the names go to the benchmarks that take them (peers: --trials N,
// --drain-trials N, --services N).
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { fileURLToPath } from "node:url";

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const firstOption = process.argv.slice(2).findIndex((arg) => arg.startsWith("--"));
const only = process.argv.slice(2, firstOption === -1 ? undefined : firstOption + 2);
const options = firstOption === -1 ? [] : process.argv.slice(firstOption + 2);

function run(script: string, args: string[], nodeFlags: string[] = []): Record<string, unknown> {
  const out = execFileSync(process.execPath, [...nodeFlags, here(script), ...args], {
    encoding: "utf8",
    maxBuffer: 1 << 26,
    // The benchmark's progress reaches the terminal as it goes; its JSON comes on stdout.
    stdio: ["ignore", "pipe", "inherit"],
  });
  return JSON.parse(out) as Record<string, unknown>;
}

function save(name: string, result: Record<string, unknown>): void {
  const record = {
    benchmark: name,
    date: new Date().toISOString(),
    machine: { node: process.version, cpu: cpus()[0]?.model, cores: cpus().length },
    ...result,
  };
  writeFileSync(here(`results/${name}.json`), JSON.stringify(record, null, 2) + "\n");
  console.log(`${name}: ${JSON.stringify(result, null, 2)}`);
}

if (only.length === 0 || only.includes("allocate")) {
  const scenario = (name: string, count: number) =>
    run("allocate.ts", [name, String(count)], ["--expose-gc"]);
  const mixed = scenario("mixed", 100_000);
  // A /112 holds 65,536 addresses, so the pool-size comparison uses 50,000 services.
  const small = scenario("ipv6-112", 50_000);
  const large = scenario("ipv6-64", 50_000);
  const p99 = (mixed.perAllocationMicros as { p99: number }).p99;
  save("allocate", {
    target: "p99 < 50 µs per allocation; memory independent of pool size",
    mixed100k: mixed,
    ipv6Slash112: small,
    ipv6Slash64: large,
    heapRatioSlash64ToSlash112:
      (large.allocatorHeapMiB as number) / (small.allocatorHeapMiB as number),
    p99Met: p99 < 50,
  });
}

if (only.length === 0 || only.includes("plan")) {
  save("plan", {
    target: "whole-process time of herald plan on 10k services",
    ...run("plan.ts", ["10000", "7"]),
  });
}

if (only.length === 0 || only.includes("devkube")) {
  save("devkube", {
    target: "10k services listed and watched by one informer; 1,000 writes/s held",
    ...run("devkube.ts", ["10000", "1000", "10"]),
  });
}

if (only.length === 0 || only.includes("controller")) {
  save("controller", {
    target:
      "10k created at once all served < 10 s, one status write each; restart with 10k held ready < 3 s, no writes",
    ...run("controller.ts", ["10000", "32"]),
  });
}

if (only.length === 0 || only.includes("reconcile")) {
  const runs = [1, 2, 3].map(() => run("reconcile.ts", ["2000", "15"]));
  const mid = (pick: (r: Record<string, unknown>) => number) =>
    runs.map(pick).sort((a, b) => a - b)[1];
  save("reconcile", {
    target:
      "the agent's own cost with 2,000 services (kernel in memory): a resync that changes nothing, and one service added",
    coldStartMs: mid((r) => r.coldStartMs as number),
    resyncReconcileMsMedian: mid((r) => (r.resyncReconcileMs as { median: number }).median),
    oneServiceAddedMs: mid((r) => r.oneServiceAddedMs as number),
    runs,
  });
}

if (only.length === 0 || only.includes("detector")) {
  // DETECTOR_SOAK_SECONDS=600 adds the ten-minute soak under CPU load (off by default).
  save("detector", {
    target:
      "a stopped member seen dead by every other in < 1 s at 100/300/700 ms; packets per member flat from 3 to 200 members; no false deaths under CPU load",
    ...run("detector.ts", ["3", "50", "200"]),
  });
}

if (only.length === 0 || only.includes("detector-attack")) {
  save("detector-attack", {
    target:
      "a key holder's forged deaths evict no live member; packets per member stay O(N) per interval; a real death is still seen in < 1 s",
    ...run("detector.ts", ["attack", "50"]),
  });
}

if (only.length === 0 || only.includes("failover")) {
  save("failover", {
    target: "local-mode failover after a hard node failure: median < 1 s to the first good reply",
    ...run("failover.ts", ["20", "3"]),
  });
}

if (only.length === 0 || only.includes("routed")) {
  save("routed", {
    target:
      "routed mode: service created → route at the router < 1 s; node failure → route withdrawn < 1 s with BFD",
    ...run("routed.ts", ["10", "5"]),
  });
}

if (only.length === 0 || only.includes("bird-reload")) {
  save("bird-reload", {
    target:
      "routed mode at scale: BIRD with 10k addresses on kube-lb0 — reload time for one more, and its route at the router",
    ...run("bird-reload.ts", ["10000", "7"]),
  });
}

// On real Kubernetes (scripts/k8s.sh's binaries): not in the default run, which stays
// on devkube; name them to run them.
if (only.length === 0 || only.includes("maintenance")) {
  save("maintenance", {
    target:
      "planned maintenance loses nothing: 0 failed requests (a GET every 10 ms) for a drained and powered-off node, local and routed (through a router that honours GRACEFUL_SHUTDOWN and one that does not), and a rolling restart of every agent, not even one in flight at the instant the router's neighbour entry moves (once per local drain)",
    ...run("maintenance.ts", ["20", "5"]),
  });
}

if (only.includes("failover-real")) {
  save("failover-real", {
    target:
      "local-mode failover with kube-apiserver and real kube-proxy: median < 1 s to the first good reply; and what fails in the 30 s after",
    ...run("failover.ts", ["20", "3", "real"]),
  });
}

if (only.includes("routed-real")) {
  save("routed-real", {
    target:
      "routed mode with kube-apiserver and real kube-proxy: route at the router < 1 s; withdrawn < 1 s with BFD",
    ...run("routed.ts", ["10", "5", "real"]),
  });
}

if (only.includes("controller-real")) {
  save("controller-real", {
    target:
      "against kube-apiserver: 10k created at once all served, one status write each; restart ready < 3 s, no writes; requests per second at rest",
    ...run("controller-real.ts", ["10000", "32"]),
  });
}

if (only.includes("lab-api")) {
  save("lab-api", {
    target:
      "requests per second by the controller and the agents on a real API server, at rest and in a burst",
    ...run("lab-api.ts", ["1000", "3"]),
  });
}

// Herald and MetalLB side by side in one lab on real Kubernetes (scripts/peers.sh builds
// MetalLB); then docs/comparison.md's table is rewritten from the result.
if (only.includes("peers")) {
  save("peers", {
    target:
      "Herald and MetalLB in the same lab and run: L2 failover and drain as the client sees them, 1,000 services at once, API requests/s, CPU and RSS",
    loadavgAtStart: loadavg(),
    ...run("peers/peers.ts", options),
  });
  const { updateComparison } = await import("./peers/table.ts");
  await updateComparison();
}
