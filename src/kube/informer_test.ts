// The informer against an API server, and against devkube with faults injected: it must
// end up with exactly the server's objects whatever happens to its watches and lists.
import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import { PatchStrategy, setHeaderOptions, type V1Service } from "@kubernetes/client-node";
import { devkubeOnly, startCluster, waitFor, type TestCluster } from "../../test/cluster.ts";
import { Informer } from "./informer.ts";

// devkube's bookmarks a second apart (a real API server's come about a minute apart): far
// longer than the silence the silent-watch test allows, so a quiet watch there is silent.
const BOOKMARK_INTERVAL_MS = 1000;

let cluster: TestCluster;

before(async () => {
  cluster = await startCluster({ crds: false, bookmarkIntervalMs: BOOKMARK_INTERVAL_MS });
  await cluster.core.createNamespace({ body: { metadata: { name: "inf" } } });
});
// Stopped after each test even when it failed: one left running would take the faults
// injected for the next test's informer, and keep this file from exiting.
const started: Informer<V1Service>[] = [];
afterEach(() => {
  for (const informer of started.splice(0)) informer.stop();
});
after(() => cluster.stop());

function serviceInformer(
  extra: Partial<ConstructorParameters<typeof Informer<V1Service>>[0]> = {},
) {
  const informer = new Informer<V1Service>({
    config: cluster.config,
    path: "/api/v1/namespaces/inf/services",
    list: (options) => cluster.core.listNamespacedService({ namespace: "inf", ...options }),
    pageSize: 7,
    backoffMs: { initial: 20, max: 200 },
    ...extra,
  });
  started.push(informer);
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
    const server = (await cluster.core.listNamespacedService({ namespace: "inf" })).items;
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
      await cluster.core.createNamespacedService({ namespace: "inf", body: svc(`s${i}`) });
    const { informer, seen } = serviceInformer();
    informer.start();
    await informer.synced;
    assert.equal(informer.list().length, 20);
    assert.equal(seen.add, 20);
    await cluster.core.deleteNamespacedService({ name: "s0", namespace: "inf" });
    await cluster.core.patchNamespacedService(
      {
        name: "s1",
        namespace: "inf",
        // The whole map: an API server stores no empty labels, so s1 has none to add to.
        body: [{ op: "add", path: "/metadata/labels", value: { x: "1" } }],
      },
      setHeaderOptions("Content-Type", PatchStrategy.JsonPatch),
    );
    await converged(informer);
    assert.equal(seen.delete, 1);
    assert.equal(seen.update, 1);
  });

  it(
    "converges after dropped watches, with changes made while it was away",
    { skip: devkubeOnly("drops every watch at once (dropWatches)") },
    async () => {
      const { informer } = serviceInformer();
      informer.start();
      await informer.synced;
      for (let round = 0; round < 5; round++) {
        cluster.devkube!.dropWatches();
        await cluster.core.createNamespacedService({ namespace: "inf", body: svc(`drop${round}`) });
        await cluster.core.deleteNamespacedService({ name: `s${round + 2}`, namespace: "inf" });
      }
      await converged(informer);
    },
  );

  it(
    "relists after 410 Gone and reports deletions it missed",
    { skip: devkubeOnly("forgets its history on demand (expireResourceVersions)") },
    async () => {
      const { informer, seen } = serviceInformer();
      informer.start();
      await informer.synced;
      // Its watch must be open before it stops, or that watch would start late, after the
      // deletion below, and bring it in: a service made now comes only through the watch.
      await cluster.core.createNamespacedService({ namespace: "inf", body: svc("watched") });
      await waitFor("the informer's watch", () => informer.get("watched", "inf"));
      // Stopped, it misses a deletion; by the time it resumes, its version is forgotten.
      informer.stop();
      await cluster.core.deleteNamespacedService({ name: "s10", namespace: "inf" });
      cluster.devkube!.expireResourceVersions();
      const listsBefore = informer.counters.lists;
      informer.start();
      await converged(informer);
      assert.ok(informer.counters.lists > listsBefore, "it relisted");
      assert.equal(seen.delete, 1);
    },
  );

  it(
    "keeps trying through a burst of 500s and 429s",
    { skip: devkubeOnly("answers requests with errors on demand (failNext, dropWatches)") },
    async () => {
      const { informer } = serviceInformer();
      cluster.devkube!.failNext(6, 500);
      informer.start();
      await informer.synced;
      assert.ok(informer.counters.failures >= 1, "the first lists failed");
      // Only the informer talks to the server until the 429s are used up.
      const failuresBefore = informer.counters.failures;
      cluster.devkube!.failNext(3, 429);
      cluster.devkube!.dropWatches();
      await waitFor(
        "the informer to meet the 429s",
        () => informer.counters.failures >= failuresBefore + 3,
      );
      await cluster.core.createNamespacedService({ namespace: "inf", body: svc("after-burst") });
      await converged(informer);
    },
  );

  it("treats a silent watch as lost and relists", async () => {
    // Nothing changes in the namespace meanwhile, and the next bookmark is further off
    // than the limit: each watch the informer opens stays silent until it gives up on it.
    const { informer } = serviceInformer({ silenceLimitMs: BOOKMARK_INTERVAL_MS / 5 });
    informer.start();
    await informer.synced;
    await new Promise((r) => setTimeout(r, (3 * BOOKMARK_INTERVAL_MS) / 5));
    assert.ok(informer.counters.silences >= 1);
    assert.ok(informer.counters.lists >= 2);
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
    await cluster.core.createNamespacedService({ namespace: "inf", body: svc("relisted") });
    await informer.relist();
    assert.ok(informer.counters.lists > listsAfterFirst);
    assert.ok(informer.get("relisted", "inf"), "the relist saw the new service");
  });
});
