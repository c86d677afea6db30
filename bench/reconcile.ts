// The agent's own cost, in one process: devkube in-process, one node, N LoadBalancer
// Services holding addresses with a serving endpoint each, the real failure detector on
// loopback, and a kernel kept in memory (so that what is timed is the agent's reading,
// deciding and bookkeeping, not iproute2's N process starts). Measures:
// 1. cold start: agent start → every address on the kernel;
// 2. a resync with nothing to change: reconcile duration (median of R);
// 3. one Service added with the N in place: create → its address on the kernel.
// Prints one JSON object. Run: node bench/reconcile.ts [N] [R]
import { CoreV1Api, DiscoveryV1Api } from "@kubernetes/client-node";
import { customResourceDefinitions } from "../src/api/crds.ts";
import { Agent } from "../src/agent/agent.ts";
import { FailureDetector } from "../src/agent/detector/detector.ts";
import type { InterfaceAddress } from "../src/agent/kernel/interfaces.ts";
import type { Kernel, KernelInterface } from "../src/agent/kernel/kernel.ts";
import { AgentMetrics } from "../src/agent/metrics.ts";
import { DevKube } from "../src/devkube/server.ts";
import { PooledKubeConfig } from "../src/kube/kubeconfig.ts";
import { RawClient } from "../src/kube/raw.ts";
import { createLogger } from "../src/log.ts";

const count = Number(process.argv[2] ?? 2000);
const resyncs = Number(process.argv[3] ?? 15);
const NODE = "node1";
const NAMESPACE = "herald-system";

/** The kernel's address table in memory: the same contract as ip-kernel.ts. */
class MemoryKernel implements Kernel {
  readonly #owned = new Map<string, { address: string; prefixLength: number }[]>();
  readonly #base: KernelInterface = {
    name: "eth0",
    index: 2,
    up: true,
    loopback: false,
    mtu: 1500,
    virtual: false,
    addresses: [
      {
        address: "10.64.0.1",
        prefixLength: 10,
        family: "IPv4",
        owned: false,
        noprefixroute: false,
      },
    ],
  };
  count(): number {
    return [...this.#owned.values()].reduce((sum, list) => sum + list.length, 0);
  }
  has(address: string): boolean {
    return [...this.#owned.values()].some((list) => list.some((a) => a.address === address));
  }
  listInterfaces(): Promise<KernelInterface[]> {
    const owned = (this.#owned.get("eth0") ?? []).map((a): InterfaceAddress => ({
      ...a,
      family: "IPv4",
      owned: true,
      noprefixroute: true,
    }));
    return Promise.resolve([{ ...this.#base, addresses: [...this.#base.addresses, ...owned] }]);
  }
  addAddress(iface: string, address: string, prefixLength: number): Promise<void> {
    const list = this.#owned.get(iface) ?? [];
    if (!list.some((a) => a.address === address)) list.push({ address, prefixLength });
    this.#owned.set(iface, list);
    return Promise.resolve();
  }
  removeAddress(iface: string, address: string): Promise<void> {
    const list = this.#owned.get(iface) ?? [];
    this.#owned.set(
      iface,
      list.filter((a) => a.address !== address),
    );
    return Promise.resolve();
  }
  announce() {
    return Promise.resolve({ done: Promise.resolve({ sent: 0 }) } as never);
  }
  ensureSysctls() {
    return Promise.resolve([]);
  }
  checkSysctls() {
    return Promise.resolve([]);
  }
  ensureVirtualInterface(name: string) {
    return Promise.resolve({ name, kind: "bridge" as const, created: false });
  }
  setHandoffRules() {
    return Promise.resolve();
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
async function until(check: () => boolean, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await sleep(2);
  }
}
const addressOf = (i: number) => `10.${65 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

const kube = await DevKube.start({});
const config = new PooledKubeConfig();
config.loadFromString(kube.kubeconfig());
const raw = new RawClient(config);
const core = config.makeApiClient(CoreV1Api);
const discovery = config.makeApiClient(DiscoveryV1Api);
const post = (path: string, body: unknown) => raw.request("POST", path, body);
for (const crd of customResourceDefinitions())
  await post("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd);
await sleep(200);
await core.createNamespace({ body: { metadata: { name: NAMESPACE } } });
await core.createNamespacedSecret({
  namespace: NAMESPACE,
  body: {
    metadata: { name: "herald-agent-key" },
    data: { key: Buffer.alloc(32, 7).toString("base64") },
  },
});
const port = 20000 + (process.pid % 20000);
await post("/apis/herald.dev/v1alpha1/agentconfigs", {
  apiVersion: "herald.dev/v1alpha1",
  kind: "AgentConfig",
  metadata: { name: "default" },
  spec: { failureDetector: { port } },
});
await post("/apis/herald.dev/v1alpha1/addresspools", {
  apiVersion: "herald.dev/v1alpha1",
  kind: "AddressPool",
  metadata: { name: "lan" },
  spec: { addresses: ["10.65.0.0/16", "10.66.0.0/16"] },
});
const node = await core.createNode({ body: { metadata: { name: NODE } } });
await raw.request(
  "PATCH",
  `/api/v1/nodes/${NODE}/status`,
  {
    status: {
      conditions: [{ type: "Ready", status: "True" }],
      addresses: [{ type: "InternalIP", address: "127.0.0.1" }],
    },
  },
  "application/merge-patch+json",
);
void node;

async function createService(i: number): Promise<void> {
  const name = `svc-${i}`;
  await core.createNamespacedService({
    namespace: "default",
    body: {
      metadata: { name },
      spec: { type: "LoadBalancer", selector: { app: name }, ports: [{ port: 80 }] },
    },
  });
  await raw.request(
    "PATCH",
    `/api/v1/namespaces/default/services/${name}/status`,
    { status: { loadBalancer: { ingress: [{ ip: addressOf(i) }] } } },
    "application/merge-patch+json",
  );
  await discovery.createNamespacedEndpointSlice({
    namespace: "default",
    body: {
      metadata: { name: `${name}-1`, labels: { "kubernetes.io/service-name": name } },
      addressType: "IPv4",
      endpoints: [{ addresses: ["10.244.0.5"], nodeName: NODE, conditions: { serving: true } }],
      ports: [{ port: 80 }],
    },
  });
}

for (let i = 0; i < count; i += 50)
  await Promise.all(
    Array.from({ length: Math.min(50, count - i) }, (_, j) => createService(i + j)),
  );

const kernel = new MemoryKernel();
const metrics = new AgentMetrics(false);
const log = createLogger("warn");
const agent = new Agent({
  config,
  nodeName: NODE,
  namespace: NAMESPACE,
  kernel,
  detector: (options) => FailureDetector.start(options),
  log,
  metrics,
  resyncMs: 3_600_000,
});
const controller = new AbortController();
const started = performance.now();
const running = agent.run(controller.signal);
await until(() => kernel.count() === count);
const coldMs = performance.now() - started;
// The detector warm (its first timeout over), so that every reconcile below runs in full.
await until(() => agent.isReady());
await sleep(1000);

// Resyncs with nothing to change: the histogram's sum over its count, one reconcile at a time.
const durations: number[] = [];
for (let r = 0; r < resyncs; r++) {
  const before = (await metrics.reconcileDuration.get()).values;
  const sum0 = before.find((v) => v.metricName?.endsWith("_sum"))?.value ?? 0;
  const count0 = before.find((v) => v.metricName?.endsWith("_count"))?.value ?? 0;
  agent.requestReconcile();
  let after;
  for (;;) {
    after = (await metrics.reconcileDuration.get()).values;
    if ((after.find((v) => v.metricName?.endsWith("_count"))?.value ?? 0) > count0) break;
    await sleep(2);
  }
  const sum1 = after.find((v) => v.metricName?.endsWith("_sum"))?.value ?? 0;
  durations.push((sum1 - sum0) * 1000);
}

const addStarted = performance.now();
await createService(count);
await until(() => kernel.has(addressOf(count)));
const oneMoreMs = performance.now() - addStarted;

controller.abort();
await running;
await kube.stop();
console.log(
  JSON.stringify({
    services: count,
    coldStartMs: Math.round(coldMs),
    resyncReconcileMs: { median: Number(median(durations).toFixed(2)), runs: resyncs },
    oneServiceAddedMs: Math.round(oneMoreMs),
  }),
);
process.exit(0);
