// The patch helpers against an API server: the right endpoint and Content-Type, seen from
// the result.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { KubernetesObjectApi } from "@kubernetes/client-node";
import { devkubeOnly, startCluster, type TestCluster } from "../../test/cluster.ts";
import {
  jsonPatchServiceStatus,
  metadataPatch,
  patchObjectMetadata,
  patchServiceMetadata,
  patchServiceStatus,
} from "./patch.ts";

let cluster: TestCluster;

before(async () => {
  cluster = await startCluster();
  await cluster.core.createNamespacedService({
    namespace: "default",
    body: {
      metadata: { name: "web", annotations: { keep: "1", drop: "2" } },
      spec: { type: "LoadBalancer", ports: [{ port: 80 }] },
    },
  });
});
after(() => cluster.stop());

const statusWithAddress = { loadBalancer: { ingress: [{ ip: "192.0.2.10" }] } };

describe("patch helpers", () => {
  it("merge-patches a Service's status through the status subresource", async () => {
    // Only the subresource can have written it: a write to the Service itself keeps the
    // status it had.
    const patched = await patchServiceStatus(cluster.core, "default", "web", statusWithAddress);
    assert.equal(patched.status?.loadBalancer?.ingress?.[0]?.ip, "192.0.2.10");
  });

  it(
    "writes a Service's status in one PATCH of services/status",
    { skip: devkubeOnly("counts the requests it serves by verb (requestStats)") },
    async () => {
      const devkube = cluster.devkube!;
      devkube.resetStats();
      await patchServiceStatus(cluster.core, "default", "web", statusWithAddress);
      assert.deepEqual(devkube.requestStats().byVerb, { "PATCH services/status": 1 });
    },
  );

  it("JSON-patches a Service's status", async () => {
    const patched = await jsonPatchServiceStatus(cluster.core, "default", "web", [
      { op: "add", path: "/status/loadBalancer/ingress/-", value: { ip: "2001:db8::10" } },
    ]);
    assert.deepEqual(
      patched.status?.loadBalancer?.ingress?.map((i) => i.ip),
      ["192.0.2.10", "2001:db8::10"],
    );
  });

  it("merge-patches annotations, null removing one, and leaves the client's later calls alone", async () => {
    const patched = await patchServiceMetadata(cluster.core, "default", "web", {
      annotations: { drop: null, added: "3" },
    });
    assert.deepEqual(patched.metadata?.annotations, { keep: "1", added: "3" });
    // A plain replace afterwards must still go out as JSON, not as a merge patch.
    const replaced = await cluster.core.replaceNamespacedService({
      name: "web",
      namespace: "default",
      body: patched,
    });
    assert.equal(replaced.metadata?.annotations?.added, "3");
  });

  it("merge-patches the metadata of a cluster-scoped custom resource", async () => {
    // startCluster installed Herald's CRDs, and on a real server waited for them to serve.
    const objects = KubernetesObjectApi.makeApiClient(cluster.config);
    await objects.create({
      apiVersion: "herald.dev/v1alpha1",
      kind: "AddressPool",
      metadata: { name: "lan" },
      spec: { addresses: ["10.0.0.0/24"] },
    } as never);
    const result = await patchObjectMetadata(
      objects,
      { apiVersion: "herald.dev/v1alpha1", kind: "AddressPool", name: "lan" },
      {
        labels: { tier: "edge" },
      },
    );
    assert.deepEqual(result.metadata?.labels, { tier: "edge" });
  });

  it("builds metadata patches without sharing the caller's objects", () => {
    const labels = { a: "1" };
    const patch = metadataPatch({ labels });
    labels.a = "2";
    assert.deepEqual(patch, { metadata: { labels: { a: "1" } } });
    assert.deepEqual(metadataPatch({}), { metadata: {} });
  });
});
