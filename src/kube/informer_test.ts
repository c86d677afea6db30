// The informer against devkube with faults injected: it must end up with exactly the
// server's objects whatever happens to its watches and lists.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  CoreV1Api,
  KubeConfig,
  PatchStrategy,
  setHeaderOptions,
  type V1Service,
} from "@kubernetes/client-node";
import { DevKube } from "../devkube/server.ts";
import { Informer } from "./informer.ts";

let kube: DevKube;
let core: CoreV1Api;
let config: KubeConfig;

before(async () => {
  kube = await DevKube.start({ bookmarkIntervalMs: 100 });
  config = new KubeConfig();
  config.loadFromString(kube.kubeconfig());
  core = config.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: "inf" } } });
});
after(() => kube.stop());

function serviceInformer(
  extra: Partial<ConstructorParameters<typeof Informer<V1Service>>[0]> = {},
) {
  const informer = new Informer<V1Service>({
    config,
    path: "/api/v1/namespaces/inf/services",
    list: (options) => core.listNamespacedService({ namespace: "inf", ...options }),
    pageSize: 7,
    backoffMs: { initial: 20, max: 200 },
    ...extra,
  });
  const seen = { add: 0, update: 0, delete: 0 };
  informer.on("add", () => seen.add++);
  informer.on("update", () => seen.update++);
  informer.on("delete", () => seen.delete++);
  return { informer, seen };
}

const svc = (name: string, labels: Record<string, string> = {}): V1Service => ({
  metadata: { name, labels },
  spec: { type: "LoadBalancer", ports: [{ port: 80 }] },
});

/** Waits until the informer's cache matches the server exactly (names and versions). */
async function converged(informer: Informer<V1Service>, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const server = (await core.listNamespacedService({ namespace: "inf" })).items;
    const want = server.map((s) => `${s.metadata?.name}@${s.metadata?.resourceVersion}`).sort();
    const have = informer
      .list()
      .map((s) => `${s.metadata?.name}@${s.metadata?.resourceVersion}`)
      .sort();
    if (JSON.stringify(want) === JSON.stringify(have)) return;
    if (Date.now() > deadline) assert.deepEqual(have, want, "the informer did not converge");
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe("Informer", () => {
  it("lists in pages, signals synced, then follows changes", async () => {
    for (let i = 0; i < 20; i++)
      await core.createNamespacedService({ namespace: "inf", body: svc(`s${i}`) });
    const { informer, seen } = serviceInformer();
    informer.start();
    await informer.synced;
    assert.equal(informer.list().length, 20);
    assert.equal(seen.add, 20);
    await core.deleteNamespacedService({ name: "s0", namespace: "inf" });
    await core.patchNamespacedService(
      {
        name: "s1",
        namespace: "inf",
        body: [{ op: "add", path: "/metadata/labels/x", value: "1" }],
      },
      setHeaderOptions("Content-Type", PatchStrategy.JsonPatch),
    );
    await converged(informer);
    assert.equal(seen.delete, 1);
    assert.equal(seen.update, 1);
    informer.stop();
  });

  it("converges after dropped watches, with changes made while it was away", async () => {
    const { informer } = serviceInformer();
    informer.start();
    await informer.synced;
    for (let round = 0; round < 5; round++) {
      kube.dropWatches();
      await core.createNamespacedService({ namespace: "inf", body: svc(`drop${round}`) });
      await core.deleteNamespacedService({ name: `s${round + 2}`, namespace: "inf" });
    }
    await converged(informer);
    informer.stop();
  });

  it("relists after 410 Gone and reports deletions it missed", async () => {
    const { informer, seen } = serviceInformer();
    informer.start();
    await informer.synced;
    // Stopped, it misses a deletion; by the time it resumes, its version is forgotten.
    informer.stop();
    await core.deleteNamespacedService({ name: "s10", namespace: "inf" });
    kube.expireResourceVersions();
    const listsBefore = informer.counters.lists;
    informer.start();
    await converged(informer);
    assert.ok(informer.counters.lists > listsBefore, "it relisted");
    assert.equal(seen.delete, 1);
    informer.stop();
  });

  it("keeps trying through a burst of 500s and 429s", async () => {
    const { informer } = serviceInformer();
    kube.failNext(6, 500);
    informer.start();
    await informer.synced;
    assert.ok(informer.counters.failures >= 1, "the first lists failed");
    // Only the informer talks to the server until the 429s are used up.
    const failuresBefore = informer.counters.failures;
    kube.failNext(3, 429);
    kube.dropWatches();
    while (informer.counters.failures < failuresBefore + 3)
      await new Promise((r) => setTimeout(r, 10));
    await core.createNamespacedService({ namespace: "inf", body: svc("after-burst") });
    await converged(informer);
    informer.stop();
  });

  it("treats a silent watch as lost and relists", async () => {
    const quiet = await DevKube.start({ bookmarkIntervalMs: 60_000 });
    try {
      const quietConfig = new KubeConfig();
      quietConfig.loadFromString(quiet.kubeconfig());
      const quietCore = quietConfig.makeApiClient(CoreV1Api);
      const informer = new Informer<V1Service>({
        config: quietConfig,
        path: "/api/v1/services",
        list: (options) => quietCore.listServiceForAllNamespaces(options),
        silenceLimitMs: 200,
      });
      informer.start();
      await informer.synced;
      await new Promise((r) => setTimeout(r, 600));
      assert.ok(informer.counters.silences >= 1);
      assert.ok(informer.counters.lists >= 2);
      informer.stop();
    } finally {
      await quiet.stop();
    }
  });

  it("repairs a cache that went wrong on its periodic relist", async () => {
    const { informer, seen } = serviceInformer({ relistEveryMs: 300 });
    informer.start();
    await informer.synced;
    const [victim] = informer.list();
    (informer as unknown as { cache: Map<string, V1Service> }).cache.delete(
      `inf/${victim!.metadata!.name}`,
    );
    const addsBefore = seen.add;
    await converged(informer, 3000);
    assert.equal(seen.add, addsBefore + 1, "the missing object came back as an add");
    informer.stop();
  });
});

describe("Informer.relist", () => {
  it("resolves with a list taken after the call, whatever the watch was doing", async () => {
    const { informer } = serviceInformer();
    informer.start();
    // Called at once, while the first list or the first watch is still connecting.
    await informer.relist();
    const listsAfterFirst = informer.counters.lists;
    assert.ok(listsAfterFirst >= 1);
    await core.createNamespacedService({ namespace: "inf", body: svc("relisted") });
    await informer.relist();
    assert.ok(informer.counters.lists > listsAfterFirst);
    assert.ok(informer.get("relisted", "inf"), "the relist saw the new service");
    informer.stop();
  });
});
