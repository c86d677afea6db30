// The controller under load, each part its own process (herald dev-apiserver, herald
// controller, this client):
// 1. 10k LoadBalancer Services created at once (64 in flight): time from the first
//    create until every one has its address, API writes per service, controller RSS;
// 2. the controller restarted with the 10k held: time from process start to ready, and
//    the writes it makes (target: none but its Lease);
// 3. 10k more Services created while no controller runs, then a controller started: time
//    from its process start until all are served (the controller's own throughput).
// Prints one JSON object. BENCH_NODE_FLAGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof")
// passes node flags to every child process, whose pids and roles then go to stderr;
// BENCH_LOG_LEVEL sets the controllers' (warn by default).
import type { ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { V1Service } from "@kubernetes/client-node";
import { Pool } from "undici";
import { customResourceDefinitions } from "../src/api/crds.ts";
import {
  controllerArgs as controllerArgs_,
  cpuMillis,
  rssMiB,
  startHerald,
  stop,
  untilReady,
} from "./controller-process.ts";

const count = Number(process.argv[2] ?? 10_000);
const workers = process.argv[3] ?? "32";
const dir = mkdtempSync(join(tmpdir(), "herald-bench-controller-"));
const kubeconfig = join(dir, "kubeconfig");
const children: ChildProcess[] = [];

const nodeFlags = (process.env.BENCH_NODE_FLAGS ?? "").split(" ").filter(Boolean);

const cpuSeconds = ({ user, system }: NodeJS.CpuUsage) => (user + system) / 1e6;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const start = (args: string[]) => startHerald(children, args, { nodeFlags, stdout: "pipe" });

try {
  const api = start(["dev-apiserver", "--kubeconfig-out", kubeconfig]);
  const url = await new Promise<string>((resolve) =>
    api.stdout!.once("data", (c: Buffer) => resolve(c.toString().split("\n")[0]!)),
  );
  while (!readFileSync(kubeconfig, { flag: "a+" }).length) await sleep(10);
  // undici's request() on a keep-alive pool rather than fetch: fetch's WHATWG machinery
  // made this client cost the 2 cores about as much as the server it measures.
  const pool = new Pool(url, { connections: 64 });
  const post = async (path: string, body: unknown) => {
    const response = await pool.request({
      path,
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    if (response.statusCode >= 300)
      throw new Error(`${path}: ${response.statusCode} ${await response.body.text()}`);
    await response.body.dump();
  };
  for (const crd of customResourceDefinitions())
    await post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd);
  await post("/api/v1/namespaces", { metadata: { name: "herald-system" } });
  await post("/api/v1/namespaces", { metadata: { name: "bench" } });
  await post("/apis/herald.dev/v1alpha1/addresspools", {
    apiVersion: "herald.dev/v1alpha1",
    kind: "AddressPool",
    metadata: { name: "bench" },
    spec: { addresses: ["10.128.0.0/17"] },
  });
  const controllerArgs = (healthPort: number) =>
    controllerArgs_(kubeconfig, workers, healthPort, process.env.BENCH_LOG_LEVEL ?? "warn");
  let controller = start(controllerArgs(17581));
  await untilReady(17581);

  const stats = async () =>
    ((await (await fetch(`${url}/devkube/stats`)).json()) as { byVerb: Record<string, number> })
      .byVerb;
  // Watching 10k services from here would cost the same 2 cores the system under test
  // needs. Every service gets exactly one status write, so the server's count of them says
  // when all are served; one list then checks that each holds an address.
  const untilServed = async (namespace: string, writesBefore: number, since: number) => {
    for (;;) {
      const writes = ((await stats())["PATCH services/status"] ?? 0) - writesBefore;
      if (writes >= count) break;
      if (performance.now() - since > 120_000)
        throw new Error(`${namespace}: ${writes} of ${count} served after 120 s`);
      await sleep(20);
    }
    const at = performance.now() - since;
    const list = (await (await fetch(`${url}/api/v1/namespaces/${namespace}/services`)).json()) as {
      items: V1Service[];
    };
    const unserved = list.items.filter(
      (service) => !service.status?.loadBalancer?.ingress?.length,
    ).length;
    if (unserved > 0) throw new Error(`${namespace}: ${unserved} services without an address`);
    return at;
  };
  const statsBefore = { byVerb: await stats() };

  // 1. The burst.
  const burstCpu = { api: cpuMillis(api.pid!), controller: cpuMillis(controller.pid!) };
  const clientCpu = process.cpuUsage();
  const burstStart = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < count) {
        const i = next++;
        // Plain JSON over fetch: this client should cost the 2 cores as little as it can.
        await post("/api/v1/namespaces/bench/services", {
          metadata: { name: `svc-${i}` },
          spec: { type: "LoadBalancer", ports: [{ port: 80 }], selector: { app: `a${i}` } },
        });
      }
    }),
  );
  const createdAfter = performance.now() - burstStart;
  const allServedAfter = await untilServed(
    "bench",
    statsBefore.byVerb["PATCH services/status"] ?? 0,
    burstStart,
  );
  const burstCpuMillis = {
    apiserver: cpuMillis(api.pid!) - burstCpu.api,
    controller: cpuMillis(controller.pid!) - burstCpu.controller,
    client: Math.round(cpuSeconds(process.cpuUsage(clientCpu)) * 1000),
  };
  await sleep(1500); // let events and pool status drain
  const statsAfter = (await (await fetch(`${url}/devkube/stats`)).json()) as {
    byVerb: Record<string, number>;
  };
  const delta = (key: string) => (statsAfter.byVerb[key] ?? 0) - (statsBefore.byVerb[key] ?? 0);
  const controllerRss = rssMiB(controller.pid!);

  // 2. Restart with everything held.
  await stop(controller);
  await fetch(`${url}/devkube/faults`, { method: "POST", body: "{}" });
  const before = (await (await fetch(`${url}/devkube/stats`)).json()) as {
    byVerb: Record<string, number>;
  };
  const restartStart = performance.now();
  controller = start(controllerArgs(17582));
  await untilReady(17582);
  const readyAfter = performance.now() - restartStart;
  await sleep(3000);
  const after = (await (await fetch(`${url}/devkube/stats`)).json()) as {
    byVerb: Record<string, number>;
  };
  const restartWrites = Object.fromEntries(
    Object.entries(after.byVerb)
      .filter(([key]) => !key.startsWith("GET") && !key.includes("leases"))
      .map(([key, value]) => [key, value - (before.byVerb[key] ?? 0)])
      .filter(([, value]) => (value as number) > 0),
  );
  // 3. A backlog of waiting services, and a controller starting on it.
  await stop(controller);
  await post("/api/v1/namespaces", { metadata: { name: "backlog" } });
  next = 0;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < count) {
        const i = next++;
        await post("/api/v1/namespaces/backlog/services", {
          metadata: { name: `svc-${i}` },
          spec: { type: "LoadBalancer", ports: [{ port: 80 }], selector: { app: `b${i}` } },
        });
      }
    }),
  );
  await pool.close();
  const backlogWritesBefore = (await stats())["PATCH services/status"] ?? 0;
  const backlogApiCpu = cpuMillis(api.pid!);
  const backlogStart = performance.now();
  controller = start(controllerArgs(17583));
  const backlogMillis = await untilServed("backlog", backlogWritesBefore, backlogStart);
  const backlogCpuMillis = {
    apiserver: cpuMillis(api.pid!) - backlogApiCpu,
    controller: cpuMillis(controller.pid!),
  };

  process.stdout.write(
    JSON.stringify({
      services: count,
      burst: {
        createdMillis: Math.round(createdAfter),
        allServedMillis: Math.round(allServedAfter),
        serviceStatusWritesPerService: delta("PATCH services/status") / count,
        eventWritesPerService: (delta("POST events") + delta("PATCH events")) / count,
        poolStatusWrites: delta("PATCH addresspools/status"),
        controllerPeakRssMiB: Math.round(controllerRss),
        apiserverPeakRssMiB: Math.round(rssMiB(api.pid!)),
        cpuMillis: burstCpuMillis,
      },
      restart: {
        readyMillis: Math.round(readyAfter),
        writesOtherThanLease: restartWrites,
      },
      backlog: {
        allServedMillisFromProcessStart: Math.round(backlogMillis),
        cpuMillis: backlogCpuMillis,
      },
    }) + "\n",
  );
} finally {
  // The controllers first, so that they can release their Lease while the server runs.
  for (const child of children.reverse()) await stop(child);
  rmSync(dir, { recursive: true, force: true });
}
