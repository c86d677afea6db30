// The endpoints mirror against devkube: Services and Pods in, EndpointSlices out.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startCluster, waitFor, type TestCluster } from "../../test/cluster.ts";
import { createLogger } from "../log.ts";
import { EndpointsMirror } from "./endpoints-mirror.ts";

let cluster: TestCluster;
let mirror: EndpointsMirror;

before(async () => {
  // The mirror stands in for kube-controller-manager's EndpointSlice controller in devkube
  // labs; a real control plane runs the real one.
  cluster = await startCluster({ crds: false, backend: "devkube" });
  let synced = false;
  mirror = new EndpointsMirror({
    config: cluster.config,
    log: createLogger("silent"),
    onSynced: () => (synced = true),
  });
  await mirror.start();
  await waitFor("the first pass", () => synced);
});

after(async () => {
  mirror.stop();
  await cluster.stop();
});

async function createPod(name: string, node: string, ip: string): Promise<void> {
  await cluster.post("/api/v1/namespaces/default/pods", {
    metadata: { name, labels: { app: "web" } },
    spec: { nodeName: node, containers: [{ name: "web", image: "x" }] },
  });
  const response = await fetch(`${cluster.url}/api/v1/namespaces/default/pods/${name}/status`, {
    method: "PATCH",
    headers: { "Content-Type": "application/merge-patch+json" },
    body: JSON.stringify({
      status: {
        phase: "Running",
        podIP: ip,
        podIPs: [{ ip }],
        conditions: [{ type: "Ready", status: "True" }],
      },
    }),
  });
  assert.equal(response.status, 200, await response.text());
}

interface Slice {
  metadata: { name: string };
  endpoints: { addresses: string[]; nodeName?: string }[];
}

async function slicesOf(service: string): Promise<Slice[]> {
  const response = await fetch(
    `${cluster.url}/apis/discovery.k8s.io/v1/namespaces/default/endpointslices?labelSelector=kubernetes.io/service-name=${service}`,
  );
  return ((await response.json()) as { items: Slice[] }).items;
}

describe("EndpointsMirror", () => {
  it("keeps a selector Service's slice listing its Pods, following Pod changes", async () => {
    await createPod("web-1", "node1", "10.1.0.1");
    await cluster.post("/api/v1/namespaces/default/services", {
      metadata: { name: "web" },
      spec: { selector: { app: "web" }, ports: [{ port: 80, targetPort: 8080 }] },
    });
    await waitFor("a slice with web-1", async () => {
      const [slice] = await slicesOf("web");
      return slice?.endpoints.map((e) => e.addresses[0]).join() === "10.1.0.1";
    });
    await createPod("web-2", "node2", "10.1.0.2");
    await waitFor("web-2 added", async () => {
      const [slice] = await slicesOf("web");
      return slice?.endpoints.map((e) => e.nodeName).join() === "node1,node2";
    });
    await cluster.core.deleteNamespacedPod({ name: "web-1", namespace: "default" });
    await waitFor("web-1 removed", async () => {
      const [slice] = await slicesOf("web");
      return slice?.endpoints.map((e) => e.nodeName).join() === "node2";
    });
  });

  it("leaves Services without a selector alone and deletes slices of deleted Services", async () => {
    await cluster.post("/api/v1/namespaces/default/services", {
      metadata: { name: "manual" },
      spec: { ports: [{ port: 80 }] },
    });
    await cluster.post("/api/v1/namespaces/default/services", {
      metadata: { name: "gone" },
      spec: { selector: { app: "web" }, ports: [{ port: 80 }] },
    });
    await waitFor("a slice for gone", async () => (await slicesOf("gone")).length === 1);
    assert.deepEqual(await slicesOf("manual"), []);
    await cluster.core.deleteNamespacedService({ name: "gone", namespace: "default" });
    await waitFor("gone's slice deleted", async () => (await slicesOf("gone")).length === 0);
  });
});
