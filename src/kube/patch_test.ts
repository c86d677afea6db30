// The patch helpers against devkube: the right endpoint and Content-Type, seen from the result.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { CoreV1Api, KubeConfig, KubernetesObjectApi } from "@kubernetes/client-node";
import { customResourceDefinitions } from "../api/crds.ts";
import { DevKube } from "../devkube/server.ts";
import {
  jsonPatchServiceStatus,
  metadataPatch,
  patchObjectMetadata,
  patchServiceMetadata,
  patchServiceStatus,
} from "./patch.ts";

let kube: DevKube;
let config: KubeConfig;
let core: CoreV1Api;

before(async () => {
  kube = await DevKube.start();
  config = new KubeConfig();
  config.loadFromString(kube.kubeconfig());
  core = config.makeApiClient(CoreV1Api);
  await core.createNamespacedService({
    namespace: "default",
    body: {
      metadata: { name: "web", annotations: { keep: "1", drop: "2" } },
      spec: { type: "LoadBalancer", ports: [{ port: 80 }] },
    },
  });
});
after(() => kube.stop());

describe("patch helpers", () => {
  it("merge-patches a Service's status through the status subresource", async () => {
    kube.resetStats();
    const patched = await patchServiceStatus(core, "default", "web", {
      loadBalancer: { ingress: [{ ip: "192.0.2.10" }] },
    });
    assert.equal(patched.status?.loadBalancer?.ingress?.[0]?.ip, "192.0.2.10");
    assert.deepEqual(kube.requestStats().byVerb, { "PATCH services/status": 1 });
  });

  it("JSON-patches a Service's status", async () => {
    const patched = await jsonPatchServiceStatus(core, "default", "web", [
      { op: "add", path: "/status/loadBalancer/ingress/-", value: { ip: "2001:db8::10" } },
    ]);
    assert.deepEqual(
      patched.status?.loadBalancer?.ingress?.map((i) => i.ip),
      ["192.0.2.10", "2001:db8::10"],
    );
  });

  it("merge-patches annotations, null removing one, and leaves the client's later calls alone", async () => {
    const patched = await patchServiceMetadata(core, "default", "web", {
      annotations: { drop: null, added: "3" },
    });
    assert.deepEqual(patched.metadata?.annotations, { keep: "1", added: "3" });
    // A plain replace afterwards must still go out as JSON, not as a merge patch.
    const replaced = await core.replaceNamespacedService({
      name: "web",
      namespace: "default",
      body: patched,
    });
    assert.equal(replaced.metadata?.annotations?.added, "3");
  });

  it("merge-patches the metadata of a cluster-scoped custom resource", async () => {
    const objects = KubernetesObjectApi.makeApiClient(config);
    for (const crd of customResourceDefinitions()) await objects.create(crd as never);
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
