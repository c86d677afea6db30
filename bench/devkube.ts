// devkube under load, with the server in its own process (herald dev-apiserver):
// 1. create 10k Services (64 in flight): creates per second;
// 2. one informer lists and watches them: time to synced;
// 3. merge-patch Services at a fixed 1,000 writes/s for 10 s (open loop): the rate held,
//    write latency, and how long each change takes to reach the informer.
// Prints one JSON object.
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { CoreV1Api, type V1Service } from "@kubernetes/client-node";
import { Informer } from "../src/kube/informer.ts";
import { PooledKubeConfig } from "../src/kube/kubeconfig.ts";
import { mergePatch } from "../src/kube/patch.ts";

const count = Number(process.argv[2] ?? 10_000);
const rate = Number(process.argv[3] ?? 1000);
const seconds = Number(process.argv[4] ?? 10);

const bin = fileURLToPath(new URL("../bin/herald.js", import.meta.url));
const server = spawn(process.execPath, [bin, "dev-apiserver"], {
  stdio: ["ignore", "pipe", "inherit"],
});
const url = await new Promise<string>((resolve) => {
  server.stdout!.once("data", (chunk: Buffer) => resolve(chunk.toString().trim().split("\n")[0]!));
});
const rssMiB = (pid: number) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024;

try {
  const config = new PooledKubeConfig();
  config.loadFromOptions({
    clusters: [{ name: "devkube", server: url, skipTLSVerify: true }],
    users: [{ name: "devkube" }],
    contexts: [{ name: "devkube", cluster: "devkube", user: "devkube" }],
    currentContext: "devkube",
  });
  const core = config.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: "bench" } } });

  // 1. Creates, 64 in flight.
  let next = 0;
  const createStart = performance.now();
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < count) {
        const i = next++;
        await core.createNamespacedService({
          namespace: "bench",
          body: {
            metadata: { name: `svc-${i}` },
            spec: { type: "LoadBalancer", ports: [{ port: 80 }] },
          },
        });
      }
    }),
  );
  const createSeconds = (performance.now() - createStart) / 1000;

  // 2. One informer over all of them.
  const lags: number[] = [];
  const informer = new Informer<V1Service>({
    config,
    path: "/api/v1/namespaces/bench/services",
    list: (options) => core.listNamespacedService({ namespace: "bench", ...options }),
  });
  informer.on("update", (service) => {
    const sent = Number(service.metadata?.annotations?.["bench/sent"]);
    if (sent) lags.push(performance.timeOrigin + performance.now() - sent);
  });
  const syncStart = performance.now();
  informer.start();
  await informer.synced;
  const syncMillis = performance.now() - syncStart;
  const cached = informer.list().length;

  // 3. Open-loop writes at a fixed rate: a write is due every 1/rate s, whether or not
  // earlier ones have finished, so a slow server shows as latency, not as a lower rate.
  const total = rate * seconds;
  const latencies: number[] = [];
  let failures = 0;
  const inFlight = new Set<Promise<void>>();
  const writeStart = performance.now();
  for (let i = 0; i < total; i++) {
    const due = writeStart + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    const started = performance.now();
    const write = core
      .patchNamespacedService(
        {
          name: `svc-${i % count}`,
          namespace: "bench",
          body: {
            metadata: { annotations: { "bench/sent": String(performance.timeOrigin + started) } },
          },
        },
        mergePatch,
      )
      .then(
        () => void latencies.push(performance.now() - started),
        () => void failures++,
      )
      .finally(() => inFlight.delete(write));
    inFlight.add(write);
  }
  await Promise.all(inFlight);
  const writeSeconds = (performance.now() - writeStart) / 1000;
  const deadline = Date.now() + 10_000;
  while (lags.length < total - failures && Date.now() < deadline)
    await new Promise((r) => setTimeout(r, 20));
  informer.stop();

  const quantile = (list: number[], q: number) => {
    const sorted = [...list].sort((a, b) => a - b);
    return (
      Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! * 10) / 10
    );
  };
  process.stdout.write(
    JSON.stringify({
      services: count,
      createsPerSecond: Math.round(count / createSeconds),
      informer: { syncMillis: Math.round(syncMillis), cached },
      writes: {
        target: rate,
        achievedPerSecond: Math.round(total / writeSeconds),
        failures,
        latencyMillis: { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99) },
      },
      watchLagMillis: {
        p50: quantile(lags, 0.5),
        p99: quantile(lags, 0.99),
        seen: lags.length,
        of: total - failures,
      },
      rssMiB: {
        server: Math.round(rssMiB(server.pid!)),
        client: Math.round(process.memoryUsage().rss / 2 ** 20),
      },
    }) + "\n",
  );
  await config.close();
} finally {
  server.kill("SIGTERM");
}
