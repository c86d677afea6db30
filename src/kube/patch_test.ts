import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { CoreV1Api, KubernetesObjectApi } from "@kubernetes/client-node";
import { fakeHttp, type RecordedRequest } from "./fake-http.ts";
import {
  jsonPatchServiceStatus,
  metadataPatch,
  patchObjectMetadata,
  patchServiceMetadata,
  patchServiceStatus,
} from "./patch.ts";

const base = "https://fake.invalid";

function echo(): { status: number; body: unknown } {
  return { status: 200, body: { apiVersion: "v1", kind: "Service", metadata: { name: "web" } } };
}

describe("patch helpers", () => {
  it("merge-patches a Service's status subresource", async () => {
    const http = fakeHttp(echo);
    const core = new CoreV1Api(http.config);
    await patchServiceStatus(
      core,
      "shop",
      "web",
      { loadBalancer: { ingress: [{ ip: "192.0.2.10" }] } },
      { fieldManager: "herald-controller" },
    );
    const req = http.requests[0] as RecordedRequest;
    assert.equal(req.method, "PATCH");
    assert.equal(
      req.url,
      `${base}/api/v1/namespaces/shop/services/web/status?fieldManager=herald-controller`,
    );
    assert.equal(req.headers["Content-Type"], "application/merge-patch+json");
    assert.deepEqual(req.body, { status: { loadBalancer: { ingress: [{ ip: "192.0.2.10" }] } } });
  });

  it("JSON-patches a Service's status when asked", async () => {
    const http = fakeHttp(echo);
    const ops = [
      { op: "test" as const, path: "/status/loadBalancer/ingress/0/ip", value: "192.0.2.10" },
      { op: "remove" as const, path: "/status/loadBalancer/ingress/0" },
    ];
    await jsonPatchServiceStatus(new CoreV1Api(http.config), "shop", "web", ops);
    const req = http.requests[0] as RecordedRequest;
    assert.equal(req.url, `${base}/api/v1/namespaces/shop/services/web/status`);
    assert.equal(req.headers["Content-Type"], "application/json-patch+json");
    assert.deepEqual(req.body, ops);
  });

  it("does not leave the merge Content-Type on later calls of the same client", async () => {
    const http = fakeHttp(echo);
    const core = new CoreV1Api(http.config);
    await patchServiceStatus(core, "shop", "web", {});
    await core.patchNamespacedServiceStatus({ namespace: "shop", name: "web", body: [] });
    assert.equal(http.requests[1]?.headers["Content-Type"], "application/json-patch+json");
  });

  it("merge-patches Service annotations, null removing a key", async () => {
    const http = fakeHttp(echo);
    await patchServiceMetadata(new CoreV1Api(http.config), "shop", "web", {
      annotations: { "herald.dev/allocated-from": "lan", "herald.dev/announcing-ipv6": null },
    });
    const req = http.requests[0] as RecordedRequest;
    assert.equal(req.url, `${base}/api/v1/namespaces/shop/services/web`);
    assert.equal(req.headers["Content-Type"], "application/merge-patch+json");
    assert.deepEqual(req.body, {
      metadata: {
        annotations: { "herald.dev/allocated-from": "lan", "herald.dev/announcing-ipv6": null },
      },
    });
  });

  it("merge-patches metadata of a cluster-scoped custom resource found by discovery", async () => {
    const http = fakeHttp((req) => {
      if (req.method === "GET")
        return {
          status: 200,
          body: {
            groupVersion: "herald.dev/v1alpha1",
            resources: [
              {
                name: "addresspools",
                kind: "AddressPool",
                namespaced: false,
                singularName: "addresspool",
                verbs: [],
              },
            ],
          },
        };
      return {
        status: 200,
        body: { apiVersion: "herald.dev/v1alpha1", kind: "AddressPool", metadata: { name: "lan" } },
      };
    });
    const objects = new KubernetesObjectApi(http.config);
    const result = await patchObjectMetadata(
      objects,
      { apiVersion: "herald.dev/v1alpha1", kind: "AddressPool", name: "lan" },
      { labels: { tier: "edge" } },
    );
    assert.equal(result.metadata?.name, "lan");
    const patch = http.requests.find((r) => r.method === "PATCH") as RecordedRequest;
    assert.equal(patch.url, `${base}/apis/herald.dev/v1alpha1/addresspools/lan`);
    assert.equal(patch.headers["Content-Type"], "application/merge-patch+json");
    assert.deepEqual(patch.body, {
      apiVersion: "herald.dev/v1alpha1",
      kind: "AddressPool",
      metadata: { name: "lan", labels: { tier: "edge" } },
    });
  });

  it("builds metadata patches without sharing the caller's objects", () => {
    const labels = { a: "1" };
    const patch = metadataPatch({ labels });
    labels.a = "2";
    assert.deepEqual(patch, { metadata: { labels: { a: "1" } } });
    assert.deepEqual(metadataPatch({}), { metadata: {} });
  });
});
