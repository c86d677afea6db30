// KubeLeaseStore and LeaderElector against Leases in devkube.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { CoordinationV1Api, KubeConfig } from "@kubernetes/client-node";
import { DevKube } from "../devkube/server.ts";
import { realClock } from "./clock.ts";
import { LeaderElector, LeaseConflict, LeaseNotFound, type Lease } from "./leader.ts";
import { KubeLeaseStore } from "./lease-store.ts";

let kube: DevKube;
let leases: CoordinationV1Api;

before(async () => {
  kube = await DevKube.start();
  const config = new KubeConfig();
  config.loadFromString(kube.kubeconfig());
  leases = config.makeApiClient(CoordinationV1Api);
});
after(() => kube.stop());

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
    const raw = (await (
      await fetch(`${kube.url}/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/store-a`)
    ).json()) as {
      spec: { acquireTime: string; renewTime: string };
    };
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
    await assert.rejects(
      new KubeLeaseStore(leases, "kube-system", "never").update({ ...lease, resourceVersion: "1" }),
      LeaseNotFound,
    );
    kube.failNext(1, 500);
    await assert.rejects(store.get(), (error) => !(error instanceof LeaseConflict));
  });
});

describe("LeaderElector over devkube", () => {
  it("lets one of three lead at any instant, and hands over on stop", async () => {
    const electors = ["a", "b", "c"].map(
      (identity) =>
        new LeaderElector({
          identity,
          store: new KubeLeaseStore(leases, "kube-system", "race"),
          clock: realClock,
          leaseDurationMs: 600,
          renewDeadlineMs: 400,
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
      while (!others.some((e) => e.isLeader())) {
        assert.ok(Date.now() - stoppedAt < 1000, "no standby took over within a second");
        await new Promise((r) => setTimeout(r, 5));
      }
      // Released on stop, so the takeover needs no lease expiry: about one retry period.
      assert.ok(Date.now() - stoppedAt < 600, "the released lease was taken before it expired");
    } finally {
      await Promise.all(electors.map((e) => e.stop()));
    }
  });
});
