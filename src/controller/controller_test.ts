// The controller against devkube through the real client, over time.
import assert from "node:assert/strict";
import { after, afterEach, before, describe, it } from "node:test";
import type { V1Service } from "@kubernetes/client-node";
import {
  devkubeOnly,
  installCrds,
  startCluster,
  waitFor,
  type TestCluster,
} from "../../test/cluster.ts";
import { mergePatch } from "../kube/patch.ts";
import { createLogger } from "../log.ts";
import { AllocationController } from "./controller.ts";
import { ControllerMetrics } from "./metrics.ts";

let cluster: TestCluster;
const running: { abort: AbortController; done: Promise<void> }[] = [];

before(async () => (cluster = await startCluster()));
afterEach(async () => {
  for (const controller of running.splice(0)) {
    controller.abort.abort();
    await controller.done;
  }
});
after(() => cluster.stop());

function startController(identity = "c1", metrics?: ControllerMetrics) {
  const controller = new AllocationController({
    config: cluster.config,
    namespace: "kube-system",
    identity,
    log: createLogger("silent"),
    metrics,
    lease: { durationMs: 900, renewDeadlineMs: 600, retryPeriodMs: 150 },
    poolStatusDelayMs: 20,
  });
  const abort = new AbortController();
  running.push({ abort, done: controller.run(abort.signal) });
  return { controller, stop: () => abort.abort() };
}

let namespaceCount = 0;
/** A fresh namespace per test, so tests do not see each other's services. */
async function namespace(): Promise<string> {
  const name = `t${++namespaceCount}`;
  await cluster.core.createNamespace({ body: { metadata: { name } } });
  return name;
}

async function pool(name: string, spec: Record<string, unknown>) {
  await cluster.post("/apis/herald.dev/v1alpha1/addresspools", {
    apiVersion: "herald.dev/v1alpha1",
    kind: "AddressPool",
    metadata: { name },
    spec,
  });
}

async function deletePool(name: string) {
  await cluster.custom.deleteClusterCustomObject({
    group: "herald.dev",
    version: "v1alpha1",
    plural: "addresspools",
    name,
  });
}

async function service(
  ns: string,
  name: string,
  extra: Partial<V1Service["spec"]> = {},
  annotations?: Record<string, string>,
) {
  await cluster.core.createNamespacedService({
    namespace: ns,
    body: {
      metadata: { name, ...(annotations ? { annotations } : {}) },
      spec: { type: "LoadBalancer", ports: [{ port: 80 }], selector: { app: name }, ...extra },
    },
  });
}

const read = (ns: string, name: string) =>
  cluster.core.readNamespacedService({ name, namespace: ns });
const ips = (service: V1Service) => (service.status?.loadBalancer?.ingress ?? []).map((i) => i.ip);
const allocated = (service: V1Service) =>
  service.status?.conditions?.find((c) => c.type === "herald.dev/Allocated");

async function addresses(ns: string, name: string, expected: string[]) {
  let seen: V1Service | undefined;
  try {
    return await waitFor(`${ns}/${name} to hold ${expected.join(",") || "nothing"}`, async () => {
      seen = await read(ns, name);
      return JSON.stringify(ips(seen)) === JSON.stringify(expected) ? seen : undefined;
    });
  } catch (error) {
    const condition = seen && allocated(seen);
    throw new Error(
      `${(error as Error).message}; it holds [${seen ? ips(seen).join(",") : "?"}], ${condition?.reason}: ${condition?.message}`,
      { cause: error },
    );
  }
}

async function events(ns: string, name: string) {
  return (
    await cluster.core.listNamespacedEvent({
      namespace: ns,
      fieldSelector: `involvedObject.name=${name}`,
    })
  ).items;
}

describe("AllocationController", () => {
  it("gives a service an address, with annotation, condition, event and pool status", async () => {
    await pool("basic", { addresses: ["192.0.2.10-192.0.2.12"] });
    const ns = await namespace();
    startController();
    await service(ns, "web");
    const web = await addresses(ns, "web", ["192.0.2.10"]);
    assert.equal(web.metadata?.annotations?.["herald.dev/allocated-from"], "basic");
    assert.equal(allocated(web)?.status, "True");
    assert.equal(allocated(web)?.reason, "Allocated");
    await waitFor("an AddressAllocated event", async () =>
      (await events(ns, "web")).find((e) => e.reason === "AddressAllocated"),
    );
    const status = await waitFor("pool status", async () => {
      const object = (await cluster.custom.getClusterCustomObject({
        group: "herald.dev",
        version: "v1alpha1",
        plural: "addresspools",
        name: "basic",
      })) as {
        status?: {
          allocated?: { ipv4: string };
          capacity?: { ipv4: string };
          available?: { ipv4: string };
          conditions?: { type: string; status: string }[];
        };
      };
      return object.status?.allocated?.ipv4 === "1" ? object.status : undefined;
    });
    assert.equal(status.capacity?.ipv4, "3");
    assert.equal(status.available?.ipv4, "2");
    assert.deepEqual(
      status.conditions?.map((c) => [c.type, c.status]),
      [
        ["Ready", "True"],
        ["Conflict", "False"],
      ],
    );
  });

  it("says why a service waits, in its condition and one event, and serves it once an address frees", async () => {
    await pool("tiny", { addresses: ["192.0.2.20"], priority: 0 });
    const ns = await namespace();
    startController();
    await service(ns, "first", {}, { "herald.dev/pool": "tiny" });
    await addresses(ns, "first", ["192.0.2.20"]);
    await service(ns, "second", {}, { "herald.dev/pool": "tiny" });
    const waiting = await waitFor("second to wait", async () => {
      const s = await read(ns, "second");
      return allocated(s)?.status === "False" ? s : undefined;
    });
    assert.equal(allocated(waiting)?.reason, "PoolExhausted");
    assert.deepEqual(ips(waiting), []);
    await waitFor("an AllocationFailed event", async () =>
      (await events(ns, "second")).find((e) => e.reason === "AllocationFailed"),
    );
    await cluster.core.deleteNamespacedService({ name: "first", namespace: ns });
    await addresses(ns, "second", ["192.0.2.20"]);
    const failed = (await events(ns, "second")).filter((e) => e.reason === "AllocationFailed");
    assert.equal(failed.length, 1);
    assert.equal(failed[0]?.count ?? 1, 1, "one event, not one per retry");
  });

  it("refuses a requested address outside every pool without falling back", async () => {
    await pool("some", { addresses: ["192.0.2.30-192.0.2.31"] });
    const ns = await namespace();
    startController();
    await service(ns, "asks", { loadBalancerIP: "203.0.113.99" });
    const waiting = await waitFor("asks to wait", async () => {
      const s = await read(ns, "asks");
      return allocated(s)?.reason === "NoMatchingPool" ? s : undefined;
    });
    assert.deepEqual(ips(waiting), []);
    assert.match(allocated(waiting)!.message!, /203\.0\.113\.99, which is in no AddressPool/);
  });

  it("frees the address of a service that stops being a LoadBalancer", async () => {
    await pool("freeing", { addresses: ["192.0.2.40"] });
    const ns = await namespace();
    startController();
    await service(ns, "lb", {}, { "herald.dev/pool": "freeing" });
    await addresses(ns, "lb", ["192.0.2.40"]);
    await cluster.core.patchNamespacedService(
      { name: "lb", namespace: ns, body: { spec: { type: "ClusterIP" } } },
      mergePatch,
    );
    // The API server clears the ingress itself in that write; the controller then drops
    // its annotation and condition.
    const cleared = await waitFor("lb to lose address, annotation and condition", async () => {
      const s = await read(ns, "lb");
      return ips(s).length === 0 &&
        s.metadata?.annotations?.["herald.dev/allocated-from"] === undefined &&
        allocated(s) === undefined
        ? s
        : undefined;
    });
    assert.deepEqual(ips(cleared), []);
    await waitFor("an AddressReleased event", async () =>
      (await events(ns, "lb")).find((e) => e.reason === "AddressReleased"),
    );
  });

  it("moves only the services whose range a shrunk pool lost, and nothing when it grows", async () => {
    await pool("shrink", { addresses: ["192.0.3.0/30"], priority: 0 });
    const ns = await namespace();
    startController();
    for (const name of ["a", "b", "c"]) {
      await service(ns, name, {}, { "herald.dev/pool": "shrink" });
      await addresses(ns, name, [`192.0.3.${["a", "b", "c"].indexOf(name)}`]);
    }
    await cluster.custom.patchClusterCustomObject(
      {
        group: "herald.dev",
        version: "v1alpha1",
        plural: "addresspools",
        name: "shrink",
        body: { spec: { addresses: ["192.0.3.0/30", "192.0.3.8/30"] } },
      },
      mergePatch,
    );
    await new Promise((r) => setTimeout(r, 200));
    for (const [name, ip] of [
      ["a", "192.0.3.0"],
      ["b", "192.0.3.1"],
      ["c", "192.0.3.2"],
    ] as const)
      assert.deepEqual(ips(await read(ns, name)), [ip]);
    await cluster.custom.patchClusterCustomObject(
      {
        group: "herald.dev",
        version: "v1alpha1",
        plural: "addresspools",
        name: "shrink",
        body: { spec: { addresses: ["192.0.3.1-192.0.3.2", "192.0.3.8/30"] } },
      },
      mergePatch,
    );
    await addresses(ns, "a", ["192.0.3.8"]);
    assert.deepEqual(ips(await read(ns, "b")), ["192.0.3.1"]);
    assert.deepEqual(ips(await read(ns, "c")), ["192.0.3.2"]);
    await waitFor("a moved with an event", async () =>
      (await events(ns, "a")).find(
        (e) => e.reason === "AddressReleased" && /192\.0\.3\.0/.test(e.message ?? ""),
      ),
    );
  });

  it("keeps addresses across a pool rename (new pool first, then the old one deleted)", async () => {
    await pool("old-name", { addresses: ["192.0.4.0/30"], priority: 0 });
    const ns = await namespace();
    startController();
    await service(ns, "keep", { loadBalancerIP: "192.0.4.2" });
    await addresses(ns, "keep", ["192.0.4.2"]);
    await pool("new-name", { addresses: ["192.0.4.0/30"], priority: 0 });
    await deletePool("old-name");
    const kept = await waitFor("the annotation to name the new pool", async () => {
      const s = await read(ns, "keep");
      return s.metadata?.annotations?.["herald.dev/allocated-from"] === "new-name" ? s : undefined;
    });
    assert.deepEqual(ips(kept), ["192.0.4.2"]);
    await deletePool("new-name");
  });

  it("restarts without renumbering and without writing", async () => {
    await pool("restart", { addresses: ["192.0.5.0/28"] });
    const ns = await namespace();
    const first = startController();
    for (const name of ["r1", "r2", "r3"])
      await service(ns, name, {}, { "herald.dev/pool": "restart" });
    const before = await Promise.all(
      ["r1", "r2", "r3"].map((name, i) => addresses(ns, name, [`192.0.5.${i}`])),
    );
    first.stop();
    await running[0]!.done;
    await service(ns, "r4", {}, { "herald.dev/pool": "restart" });
    const second = startController("c2");
    await addresses(ns, "r4", ["192.0.5.3"]);
    // The Lease was free: the first list of Services is the fresh one a new leader takes,
    // not followed by a second one (half a second of a restart with 10k Services).
    const informer = (second.controller as unknown as { services: { counters: { lists: number } } })
      .services;
    assert.equal(informer.counters.lists, 1);
    await new Promise((r) => setTimeout(r, 200));
    for (const [i, name] of ["r1", "r2", "r3"].entries()) {
      const after = await read(ns, name);
      assert.equal(
        after.metadata?.resourceVersion,
        before[i]!.metadata?.resourceVersion,
        `${name} was written again`,
      );
    }
  });

  it("lets only the leader write, and the standby take over when it stops", async () => {
    await pool("leaders", { addresses: ["192.0.6.0/28"] });
    const ns = await namespace();
    const metricsA = new ControllerMetrics();
    const metricsB = new ControllerMetrics();
    const a = startController("a", metricsA);
    await waitFor("a to lead", () => a.controller.isLeader());
    const b = startController("b", metricsB);
    await waitFor("b to be ready as a standby", () => b.controller.isReady());
    await service(ns, "l1", {}, { "herald.dev/pool": "leaders" });
    await addresses(ns, "l1", ["192.0.6.0"]);
    assert.equal(b.controller.isLeader(), false);
    const allocationsBy = async (metrics: ControllerMetrics) =>
      (await metrics.allocations.get()).values.reduce((sum, v) => sum + v.value, 0);
    assert.equal(await allocationsBy(metricsB), 0, "the standby allocated nothing");
    a.stop();
    await waitFor("b to lead", () => b.controller.isLeader(), 3000);
    await service(ns, "l2", {}, { "herald.dev/pool": "leaders" });
    await addresses(ns, "l2", ["192.0.6.1"]);
    assert.deepEqual(ips(await read(ns, "l1")), ["192.0.6.0"]);
    assert.equal(await allocationsBy(metricsB), 1);
  });

  it("survives bad input: malformed annotations, an invalid pool, a vanished namespace, a deleted CRD", async () => {
    await pool("sturdy", { addresses: ["192.0.7.0/29"], priority: 0 });
    const ns = await namespace();
    startController();
    await service(ns, "typo", {}, { "herald.dev/pool": "sturdy" });
    await addresses(ns, "typo", ["192.0.7.0"]);
    // A malformed request keeps the held address and says so.
    await cluster.core.patchNamespacedService(
      {
        name: "typo",
        namespace: ns,
        body: { metadata: { annotations: { "herald.dev/addresses": "192.0.7.x" } } },
      },
      mergePatch,
    );
    const invalid = await waitFor("InvalidRequest", async () => {
      const s = await read(ns, "typo");
      return allocated(s)?.reason === "InvalidRequest" ? s : undefined;
    });
    assert.deepEqual(ips(invalid), ["192.0.7.0"]);

    // Services vanish with their namespace; the controller carries on.
    await service(ns, "doomed", {}, { "herald.dev/pool": "sturdy" });
    await cluster.core.deleteNamespace({ name: ns });

    // The CRDs go away and come back.
    const crdPath = (crd: string) =>
      `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd}.herald.dev`;
    for (const crd of ["addresspools", "bgppeers"]) await cluster.request("DELETE", crdPath(crd));
    // A real API server removes a CRD only after deleting its objects: wait until it is gone.
    await waitFor("the CRDs to be gone", async () => {
      for (const crd of ["addresspools", "bgppeers"]) {
        const gone = await cluster.request("GET", crdPath(crd)).then(
          () => false,
          (error: { code?: number }) => error.code === 404,
        );
        if (!gone) return false;
      }
      return true;
    });
    await installCrds(
      (path, body) => cluster.post(path, body).catch(() => undefined),
      cluster.backend,
      cluster.request,
    );
    await pool("sturdy", { addresses: ["192.0.7.0/29"], priority: 0 });
    const ns2 = await namespace();
    await service(ns2, "after", {}, { "herald.dev/pool": "sturdy" });
    // Deleting the CRD deleted every pool, so services of earlier tests wait for addresses
    // too and may take this pool's lowest; "after" just has to be served from it.
    const served = await waitFor("after to be served", async () => {
      const s = await read(ns2, "after");
      return ips(s).length === 1 ? s : undefined;
    });
    assert.match(ips(served)[0]!, /^192\.0\.7\.[0-7]$/);
  });

  it(
    "keeps held addresses when a stored pool is invalid, and says so in its status",
    { skip: devkubeOnly("stores a pool past the schema, which a real API server never does") },
    async () => {
      await pool("invalid-later", { addresses: ["192.0.8.0/29"], priority: 0 });
      const ns = await namespace();
      startController();
      await service(ns, "held", {}, { "herald.dev/pool": "invalid-later" });
      await addresses(ns, "held", ["192.0.8.0"]);
      // A pool that got past validation with a broken entry: held addresses stay, status explains.
      cluster.devkube!.putUnvalidated("herald.dev/v1alpha1", "addresspools", {
        metadata: { name: "invalid-later" },
        spec: { addresses: ["192.0.8.0/29", "192.0.8.300/32"], priority: 0 },
      });
      await waitFor("the pool to say its spec is invalid", async () => {
        const object = (await cluster.custom.getClusterCustomObject({
          group: "herald.dev",
          version: "v1alpha1",
          plural: "addresspools",
          name: "invalid-later",
        })) as {
          status?: { conditions?: { type: string; reason: string }[] };
        };
        return object.status?.conditions?.find(
          (c) => c.type === "Ready" && c.reason === "InvalidSpec",
        );
      });
      assert.deepEqual(ips(await read(ns, "held")), ["192.0.8.0"]);
      await deletePool("invalid-later");
    },
  );

  it(
    "serves every other Service when one has a wrongly typed field, and says what is wrong with it",
    {
      skip: devkubeOnly("stores loadBalancerIP: 5, which kube-apiserver's typed decoding refuses"),
    },
    async () => {
      await pool("typed", { addresses: ["192.0.9.0/29"], priority: 0 });
      const ns = await namespace();
      cluster.devkube!.putUnvalidated("v1", "services", {
        metadata: { name: "five", namespace: ns },
        spec: { type: "LoadBalancer", loadBalancerIP: 5, ports: [{ port: 80 }] },
      });
      await service(ns, "fine", {}, { "herald.dev/pool": "typed" });
      // Before: readService threw on every start and no Service was served.
      startController();
      await addresses(ns, "fine", ["192.0.9.0"]);
      const five = await waitFor("the bad Service's condition", async () => {
        const s = await read(ns, "five");
        return allocated(s)?.reason === "InvalidRequest" ? s : undefined;
      });
      assert.match(allocated(five)?.message ?? "", /spec\.loadBalancerIP must be a string/);
      await deletePool("typed");
    },
  );

  it(
    "backs off pool status writes the server keeps refusing",
    { skip: devkubeOnly("refuses one kind of request on demand") },
    async () => {
      const names = Array.from({ length: 10 }, (_, i) => `refused-${i}`);
      for (const [i, name] of names.entries())
        await pool(name, { addresses: [`192.0.10.${i * 8}/29`], priority: 0 });
      const kube = cluster.devkube!;
      kube.refuse("PATCH addresspools/status", 422);
      kube.resetStats();
      startController();
      await new Promise((resolve) => setTimeout(resolve, 6000));
      const attempts = kube.requestStats().byVerb["PATCH addresspools/status"] ?? 0;
      kube.refuse("PATCH addresspools/status", undefined);
      // Before: a retry every 500 ms, about 12 per pool in 6 s. Backed off (0.5, 1, 2, 4 s…):
      // at most 5 per pool.
      assert.ok(attempts >= names.length, `each pool tried at least once (${attempts})`);
      assert.ok(attempts <= names.length * 5, `${attempts} attempts for ${names.length} pools`);
      for (const name of names) await deletePool(name);
    },
  );
});
