// KubeLeaseStore and LeaderElector against Leases in an API server.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ApiException, CoordinationV1Api } from "@kubernetes/client-node";
import { devkubeOnly, startCluster, type TestCluster } from "../../test/cluster.ts";
import { realClock } from "../clock.ts";
import { LeaderElector, LeaseConflict, LeaseNotFound, type Lease } from "./leader.ts";
import { KubeLeaseStore, type LeaseApi } from "./lease-store.ts";

let cluster: TestCluster;
let leases: CoordinationV1Api;

before(async () => {
  cluster = await startCluster({ crds: false });
  leases = cluster.config.makeApiClient(CoordinationV1Api);
});
after(() => cluster.stop());

const lease: Lease = {
  holderIdentity: "pod-a",
  leaseDurationSeconds: 15,
  acquireTime: Date.UTC(2024, 0, 1, 0, 0, 0, 123),
  renewTime: Date.UTC(2024, 0, 1, 0, 0, 5, 0),
  leaseTransitions: 2,
};

describe("KubeLeaseStore", () => {
  it("reads nothing before the lease exists, then what it created", async () => {
    const store = new KubeLeaseStore(leases, "kube-system", "store-a");
    assert.equal(await store.get(), undefined);
    const created = await store.create(lease);
    assert.ok(created.resourceVersion);
    assert.deepEqual(
      { ...(await store.get()), resourceVersion: undefined },
      { ...lease, resourceVersion: undefined },
    );
  });

  it("writes timestamps as MicroTime, as the API server stores them", async () => {
    const stored = await leases.readNamespacedLease({ name: "store-a", namespace: "kube-system" });
    const raw = (await cluster.request(
      "GET",
      "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/store-a",
    )) as { spec: { acquireTime: string; renewTime: string } };
    assert.equal(raw.spec.acquireTime, "2024-01-01T00:00:00.123000Z");
    assert.equal(raw.spec.renewTime, "2024-01-01T00:00:05.000000Z");
    assert.equal(stored.spec?.holderIdentity, "pod-a");
  });

  it("updates from the version it read and refuses a stale one", async () => {
    const store = new KubeLeaseStore(leases, "kube-system", "store-a");
    const current = (await store.get())!;
    const renewed = await store.update({ ...current, renewTime: current.renewTime + 1000 });
    assert.notEqual(renewed.resourceVersion, current.resourceVersion);
    await assert.rejects(store.update({ ...current, holderIdentity: "pod-b" }), LeaseConflict);
    await assert.rejects(store.create(lease), LeaseConflict);
  });

  it("writes a lease that is gone anew on update, as the API server creates Leases on PUT", async () => {
    const store = new KubeLeaseStore(leases, "kube-system", "vanished");
    const written = await store.update({ ...lease, resourceVersion: "1" });
    assert.ok(written.resourceVersion);
    assert.equal((await store.get())?.holderIdentity, lease.holderIdentity);
  });

  it("reads a 404 on update as LeaseNotFound, from an API that refuses to create", async () => {
    const refusing: LeaseApi = {
      readNamespacedLease: () => Promise.reject(new Error("not called")),
      createNamespacedLease: () => Promise.reject(new Error("not called")),
      replaceNamespacedLease: () =>
        Promise.reject(new ApiException(404, 'leases "never" not found', "", {})),
    };
    await assert.rejects(
      new KubeLeaseStore(refusing, "kube-system", "never").update({
        ...lease,
        resourceVersion: "1",
      }),
      LeaseNotFound,
    );
  });

  it(
    "passes a server failure on as it is, not as a conflict",
    { skip: devkubeOnly("answers a request with 500 on demand (failNext)") },
    async () => {
      const store = new KubeLeaseStore(leases, "kube-system", "store-a");
      cluster.devkube!.failNext(1, 500);
      await assert.rejects(store.get(), (error) => !(error instanceof LeaseConflict));
    },
  );
});

describe("LeaderElector over the API server", () => {
  it("lets one of three lead at any instant, and hands over on stop", async () => {
    const electors = ["a", "b", "c"].map(
      (identity) =>
        new LeaderElector({
          identity,
          store: new KubeLeaseStore(leases, "kube-system", "race"),
          clock: realClock,
          // A lease far longer than a release needs: a standby that takes over well
          // before it could expire proves the stop released it, however loaded the
          // machine (a 600 ms lease and a 1 s bound failed under CI's load).
          leaseDurationMs: 20_000,
          renewDeadlineMs: 15_000,
          retryPeriodMs: 100,
        }),
    );
    for (const elector of electors) void elector.run();
    // Stopped whatever happens: a failed assertion must not leave electors renewing,
    // which would keep this file from ever exiting.
    try {
      const deadline = Date.now() + 1500;
      let sawLeader = false;
      while (Date.now() < deadline) {
        const leading = electors.filter((e) => e.isLeader()).length;
        assert.ok(leading <= 1, `${leading} electors lead at once`);
        sawLeader ||= leading === 1;
        await new Promise((r) => setTimeout(r, 5));
      }
      assert.ok(sawLeader, "someone led");
      const leader = electors.find((e) => e.isLeader())!;
      const stoppedAt = Date.now();
      await leader.stop();
      const others = electors.filter((e) => e !== leader);
      // Released on stop, so the takeover needs no expiry: about one retry period.
      while (!others.some((e) => e.isLeader())) {
        assert.ok(
          Date.now() - stoppedAt < 10_000,
          "no standby took over in half the lease's duration: the stop did not release it",
        );
        await new Promise((r) => setTimeout(r, 5));
      }
    } finally {
      await Promise.all(electors.map((e) => e.stop()));
    }
  });
});
