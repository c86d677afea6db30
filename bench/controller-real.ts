// The controller against a real kube-apiserver (etcd, TLS, RBAC; src/realkube), on the
// token of its own ServiceAccount from deploy/'s RBAC, as in a cluster:
// 1. 10k LoadBalancer Services created at once (64 in flight): time until every one has
//    its address (seen by a watch), and the controller's requests in the burst;
// 2. the controller restarted with the 10k held: time from process start to ready, and
//    the writes it makes (target: none but its Lease);
// 3. at rest: the controller's requests per second over 30 s.
// Requests are counted per user from the API server's audit log. No controller manager
// runs: nothing else writes. Prints one JSON object.
// Usage: node bench/controller-real.ts [services] [workers]
import type { ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Agent, Pool, request } from "undici";
import { customResourceDefinitions } from "../src/api/crds.ts";
import { LabApi } from "../src/lab/api.ts";
import { installDeployRbac } from "../src/lab/real-cluster.ts";
import { loadKubeConfig } from "../src/kube/kubeconfig.ts";
import { countAudit } from "./audit.ts";
import { writeTokenKubeconfig } from "../src/realkube/control-plane.ts";
import { RealKube } from "../src/realkube/real-kube.ts";
import { serviceAccountToken } from "../src/realkube/tokens.ts";
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
const CONTROLLER = "system:serviceaccount:herald-system:herald-controller";
const REST_SECONDS = 30;
const children: ChildProcess[] = [];

const start = (args: string[]) => startHerald(children, args);

const kube = await RealKube.start({ audit: true });
try {
  const { pki } = kube.files;
  const tls = {
    ca: readFileSync(pki.caCert),
    cert: readFileSync(join(pki.dir, "user-herald-admin.crt")),
    key: readFileSync(join(pki.dir, "user-herald-admin.key")),
  };
  const config = loadKubeConfig(kube.files.adminKubeconfig);
  const api = new LabApi(config);
  await installDeployRbac(api);
  for (const crd of customResourceDefinitions())
    await api.ensure("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd);
  for (;;) {
    try {
      await api.request("GET", "/apis/herald.dev/v1alpha1/addresspools");
      break;
    } catch {
      await sleep(100); // until the CRDs are served
    }
  }
  await api.ensure("/api/v1/namespaces", { metadata: { name: "bench" } });
  await api.ensure("/apis/herald.dev/v1alpha1/addresspools", {
    apiVersion: "herald.dev/v1alpha1",
    kind: "AddressPool",
    metadata: { name: "bench" },
    spec: { addresses: ["10.128.0.0/17"] },
  });
  const token = await serviceAccountToken(api, "herald-system", "herald-controller");
  const kubeconfig = join(kube.dir, "controller.kubeconfig");
  await writeTokenKubeconfig(kubeconfig, kube.server, pki.caCert, token);
  const controllerArgs = (healthPort: number) => controllerArgs_(kubeconfig, workers, healthPort);
  let controller = start(controllerArgs(17591));
  await untilReady(17591);

  // Served = an address in status, as a watch from here sees it.
  const served = new Set<string>();
  const watcher = new Agent({ connect: tls });
  const watch = await request(
    `${kube.server}/api/v1/namespaces/bench/services?watch=1&allowWatchBookmarks=false`,
    { dispatcher: watcher },
  );
  let allServed: () => void = () => {};
  const allServedPromise = new Promise<void>((resolve) => (allServed = resolve));
  let buffered = "";
  watch.body.on("data", (chunk: Buffer) => {
    buffered += chunk.toString();
    const lines = buffered.split("\n");
    buffered = lines.pop()!;
    for (const line of lines) {
      const event = JSON.parse(line) as {
        object: { metadata: { name: string }; status?: { loadBalancer?: { ingress?: unknown[] } } };
      };
      if (event.object.status?.loadBalancer?.ingress?.length)
        served.add(event.object.metadata.name);
    }
    if (served.size >= count) allServed();
  });
  watch.body.on("error", () => {});

  // 1. The burst.
  const pool = new Pool(kube.server, { connections: 64, connect: tls });
  const burstCpu = { controller: cpuMillis(controller.pid!) };
  const burstStartedAt = Date.now();
  const burstStart = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < count) {
        const i = next++;
        const response = await pool.request({
          path: "/api/v1/namespaces/bench/services",
          method: "POST",
          headers: { "Content-Type": "application/json" },
          body: JSON.stringify({
            metadata: { name: `svc-${i}` },
            spec: {
              type: "LoadBalancer",
              // 10k Services would exhaust the 2,768 NodePorts of 30000-32767 (devkube
              // allocates none): on bare metal the LoadBalancer address is the way in.
              allocateLoadBalancerNodePorts: false,
              ports: [{ port: 80 }],
              selector: { app: `a${i}` },
            },
          }),
        });
        if (response.statusCode >= 300)
          throw new Error(`create svc-${i}: ${response.statusCode} ${await response.body.text()}`);
        await response.body.dump();
      }
    }),
  );
  const createdAfter = performance.now() - burstStart;
  const giveUp = new AbortController();
  const timeout = sleep(300_000, undefined, { signal: giveUp.signal }).then(() => {
    throw new Error(`${served.size} of ${count} served after 300 s`);
  });
  timeout.catch(() => {}); // aborted once all are served
  await Promise.race([allServedPromise, timeout]);
  giveUp.abort();
  const allServedAfter = performance.now() - burstStart;
  const burstEndedAt = Date.now();
  const burstCpuMillis = cpuMillis(controller.pid!) - burstCpu.controller;
  const controllerRss = rssMiB(controller.pid!);
  await pool.close();
  watch.body.destroy();
  await watcher.close();
  await sleep(3000); // events and pool status drain

  // 2. Restart with everything held.
  await stop(controller);
  const restartAt = Date.now();
  const restartStart = performance.now();
  controller = start(controllerArgs(17592));
  await untilReady(17592);
  const readyAfter = performance.now() - restartStart;
  await sleep(3000);
  const restartEnd = Date.now();

  // 3. At rest.
  const restFrom = Date.now();
  await sleep(REST_SECONDS * 1000);
  const restTo = Date.now();
  await sleep(2000); // the audit log's batch reaches the file

  const audit = readFileSync(kube.auditLog, "utf8");
  const inBurst = countAudit(audit, { from: burstStartedAt, to: burstEndedAt });
  const inRestart = countAudit(audit, { from: restartAt, to: restartEnd });
  const atRest = countAudit(audit, { from: restFrom, to: restTo });
  const verbs = (counts: typeof inBurst) => counts.byUserAndVerb[CONTROLLER] ?? {};
  const writes = (byVerb: Readonly<Record<string, number>>) =>
    Object.fromEntries(
      Object.entries(byVerb).filter(
        ([what]) => !/^(get|list|watch) /.test(what) && !what.includes("leases"),
      ),
    );
  const burstVerbs = verbs(inBurst);
  const seconds = (allServedAfter / 1000).toFixed(2);
  process.stdout.write(
    JSON.stringify({
      apiServer: "kube-apiserver (src/realkube: etcd, TLS, RBAC, audit log)",
      services: count,
      burst: {
        createdMillis: Math.round(createdAfter),
        allServedMillis: Math.round(allServedAfter),
        serviceStatusWritesPerService: (burstVerbs["patch services/status"] ?? 0) / count,
        controllerRequests: inBurst.byUser[CONTROLLER] ?? 0,
        controllerRequestsPerSecond: Math.round(
          (inBurst.byUser[CONTROLLER] ?? 0) / Number(seconds),
        ),
        controllerRequestsByVerb: burstVerbs,
        controllerPeakRssMiB: Math.round(controllerRss),
        controllerCpuMillis: burstCpuMillis,
      },
      restart: {
        readyMillis: Math.round(readyAfter),
        writesOtherThanLease: writes(verbs(inRestart)),
        requestsByVerb: verbs(inRestart),
      },
      atRest: {
        seconds: REST_SECONDS,
        controllerRequests: atRest.byUser[CONTROLLER] ?? 0,
        controllerRequestsPerSecond: (atRest.byUser[CONTROLLER] ?? 0) / REST_SECONDS,
        requestsByVerb: verbs(atRest),
      },
      forbidden: { ...inBurst.forbidden, ...inRestart.forbidden, ...atRest.forbidden },
    }) + "\n",
  );
  await config.close?.();
} finally {
  for (const child of children.reverse()) await stop(child);
  await kube.stop();
}
