import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { CoordinationV1Api } from "@kubernetes/client-node";
import { fakeHttp, type RecordedRequest } from "./fake-http.ts";
import { KubeLeaseStore } from "./lease-store.ts";
import { LeaseConflict, LeaseNotFound, type Lease } from "./leader.ts";

const path =
  "https://fake.invalid/apis/coordination.k8s.io/v1/namespaces/herald/leases/herald-controller";

function store(answer: (req: RecordedRequest) => { status: number; body?: unknown }) {
  const http = fakeHttp(answer);
  return {
    http,
    store: new KubeLeaseStore(new CoordinationV1Api(http.config), "herald", "herald-controller"),
  };
}

const lease: Lease = {
  holderIdentity: "pod-a",
  leaseDurationSeconds: 15,
  acquireTime: Date.UTC(2024, 0, 1, 0, 0, 0, 123),
  renewTime: Date.UTC(2024, 0, 1, 0, 0, 5, 0),
  leaseTransitions: 2,
  resourceVersion: "41",
};

describe("KubeLeaseStore", () => {
  it("reads a lease, and nothing when it does not exist", async () => {
    const { store: s1 } = store(() => ({
      status: 200,
      body: {
        metadata: { name: "herald-controller", resourceVersion: "7" },
        spec: {
          holderIdentity: "pod-b",
          leaseDurationSeconds: 15,
          renewTime: "2024-01-01T00:00:05.000000Z",
          leaseTransitions: 3,
        },
      },
    }));
    assert.deepEqual(await s1.get(), {
      holderIdentity: "pod-b",
      leaseDurationSeconds: 15,
      acquireTime: 0,
      renewTime: Date.UTC(2024, 0, 1, 0, 0, 5),
      leaseTransitions: 3,
      resourceVersion: "7",
    });
    const { store: s2, http } = store(() => ({ status: 404, body: { kind: "Status", code: 404 } }));
    assert.equal(await s2.get(), undefined);
    assert.equal(http.requests[0]?.url, path);
  });

  it("replaces with the resourceVersion it read and MicroTime timestamps", async () => {
    const { store: s, http } = store((req) => ({
      status: 200,
      body: { ...(req.body as object), metadata: { resourceVersion: "42" } },
    }));
    const written = await s.update(lease);
    const req = http.requests[0] as RecordedRequest;
    assert.equal(req.method, "PUT");
    assert.equal(req.url, path);
    const body = req.body as {
      metadata: { resourceVersion: string };
      spec: Record<string, unknown>;
    };
    assert.equal(body.metadata.resourceVersion, "41");
    assert.equal(body.spec.acquireTime, "2024-01-01T00:00:00.123000Z");
    assert.equal(body.spec.renewTime, "2024-01-01T00:00:05.000000Z");
    assert.equal(body.spec.holderIdentity, "pod-a");
    assert.equal(written.resourceVersion, "42");
    assert.equal(written.renewTime, lease.renewTime);
  });

  it("creates without a resourceVersion", async () => {
    const { store: s, http } = store((req) => ({ status: 201, body: req.body }));
    await s.create({ ...lease, resourceVersion: undefined });
    const req = http.requests[0] as RecordedRequest;
    assert.equal(req.method, "POST");
    assert.equal(
      req.url,
      "https://fake.invalid/apis/coordination.k8s.io/v1/namespaces/herald/leases",
    );
    assert.equal("resourceVersion" in (req.body as { metadata: object }).metadata, false);
  });

  it("turns 409 into LeaseConflict and 404 into LeaseNotFound", async () => {
    const conflict = store(() => ({
      status: 409,
      body: { kind: "Status", code: 409, reason: "Conflict" },
    }));
    await assert.rejects(conflict.store.update(lease), LeaseConflict);
    await assert.rejects(conflict.store.create(lease), LeaseConflict);
    const gone = store(() => ({ status: 404, body: { kind: "Status", code: 404 } }));
    await assert.rejects(gone.store.update(lease), LeaseNotFound);
    const broken = store(() => ({ status: 500, body: { kind: "Status", code: 500 } }));
    await assert.rejects(broken.store.update(lease), (err) => !(err instanceof LeaseConflict));
  });
});
