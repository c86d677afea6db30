// devkube through the real @kubernetes/client-node, as the controller and agent reach it.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  ApiException,
  AppsV1Api,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  ApiextensionsV1Api,
  KubeConfig,
  PatchStrategy,
  Watch,
  setHeaderOptions,
  type V1Service,
} from "@kubernetes/client-node";
import { DevKube } from "./server.ts";

let kube: DevKube;
let config: KubeConfig;
let core: CoreV1Api;

before(async () => {
  kube = await DevKube.start({ bookmarkIntervalMs: 200 });
  config = new KubeConfig();
  config.loadFromString(kube.kubeconfig());
  core = config.makeApiClient(CoreV1Api);
});
after(() => kube.stop());

const merge = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);
const jsonPatch = setHeaderOptions("Content-Type", PatchStrategy.JsonPatch);
const strategic = setHeaderOptions("Content-Type", PatchStrategy.StrategicMergePatch);

async function status(promise: Promise<unknown>): Promise<number> {
  try {
    await promise;
    return 200;
  } catch (error) {
    if (error instanceof ApiException) return error.code;
    throw error;
  }
}

function lbService(name: string, extra: Partial<V1Service["spec"]> = {}): V1Service {
  return {
    metadata: { name, labels: { app: name } },
    spec: { type: "LoadBalancer", ports: [{ port: 80 }], selector: { app: name }, ...extra },
  };
}

/** Collects watch events until `until` says stop, or fails after a timeout. */
async function watchUntil(
  path: string,
  query: Record<string, string>,
  until: (
    events: {
      type: string;
      object: { metadata?: { name?: string; resourceVersion?: string }; code?: number };
    }[],
  ) => boolean,
  trigger?: () => Promise<unknown>,
) {
  const events: {
    type: string;
    object: { metadata?: { name?: string; resourceVersion?: string }; code?: number };
  }[] = [];
  const watch = new Watch(config);
  let resolve!: () => void;
  const done = new Promise<void>((r) => (resolve = r));
  const controller = await watch.watch(
    path,
    query,
    (type, object) => {
      events.push({ type, object });
      if (until(events)) resolve();
    },
    () => resolve(),
  );
  await trigger?.();
  const timer = setTimeout(resolve, 5000);
  await done;
  clearTimeout(timer);
  controller.abort();
  return events;
}

describe("devkube: objects", () => {
  it("creates, reads and defaults a dual-stack LoadBalancer Service", async () => {
    const created = await core.createNamespacedService({
      namespace: "default",
      body: lbService("web", { ipFamilyPolicy: "PreferDualStack" }),
    });
    // kube-apiserver keeps no generation for Services (it does for Pods, workloads, CRs).
    assert.equal(created.metadata?.generation, undefined);
    assert.ok(
      created.metadata?.uid &&
        created.metadata.creationTimestamp &&
        created.metadata.resourceVersion,
    );
    assert.deepEqual(created.spec?.ipFamilies, ["IPv4", "IPv6"]);
    assert.equal(created.spec?.clusterIPs?.length, 2);
    assert.equal(created.spec?.clusterIP, created.spec?.clusterIPs?.[0]);
    assert.equal(created.spec?.externalTrafficPolicy, "Cluster");
    assert.ok((created.spec?.ports?.[0]?.nodePort ?? 0) >= 30000);
    const read = await core.readNamespacedService({ name: "web", namespace: "default" });
    assert.equal(read.metadata?.resourceVersion, created.metadata?.resourceVersion);
  });

  it("refuses duplicates, stale versions, unknown names and missing namespaces", async () => {
    assert.equal(
      await status(core.createNamespacedService({ namespace: "default", body: lbService("web") })),
      409,
    );
    const current = await core.readNamespacedService({ name: "web", namespace: "default" });
    const stale = structuredClone(current);
    current.metadata!.labels = { app: "web", changed: "yes" };
    await core.replaceNamespacedService({ name: "web", namespace: "default", body: current });
    assert.equal(
      await status(
        core.replaceNamespacedService({ name: "web", namespace: "default", body: stale }),
      ),
      409,
    );
    assert.equal(
      await status(core.readNamespacedService({ name: "nope", namespace: "default" })),
      404,
    );
    assert.equal(
      await status(core.createNamespacedService({ namespace: "ghost", body: lbService("x") })),
      404,
    );
    assert.equal(
      await status(
        core.createNamespacedService({ namespace: "default", body: lbService("Bad_Name") }),
      ),
      422,
    );
  });

  it("bumps generation on spec changes only", async () => {
    const apps = config.makeApiClient(AppsV1Api);
    const labels = { app: "gen" };
    const created = await apps.createNamespacedDeployment({
      namespace: "default",
      body: {
        metadata: { name: "gen" },
        spec: {
          selector: { matchLabels: labels },
          template: { metadata: { labels }, spec: { containers: [{ name: "c", image: "x" }] } },
        },
      },
    });
    assert.equal(created.metadata?.generation, 1);
    const annotated = await apps.patchNamespacedDeployment(
      { name: "gen", namespace: "default", body: { metadata: { annotations: { note: "x" } } } },
      merge,
    );
    assert.equal(annotated.metadata?.generation, 1);
    const withStatus = await apps.patchNamespacedDeploymentStatus(
      { name: "gen", namespace: "default", body: { status: { replicas: 1 } } },
      merge,
    );
    assert.equal(withStatus.metadata?.generation, 1);
    const specChanged = await apps.patchNamespacedDeployment(
      { name: "gen", namespace: "default", body: { spec: { replicas: 3 } } },
      merge,
    );
    assert.equal(specChanged.metadata?.generation, 2);
  });

  it("keeps a Service's status and spec apart", async () => {
    const withStatus = await core.patchNamespacedServiceStatus(
      {
        name: "web",
        namespace: "default",
        body: {
          spec: { type: "ClusterIP" },
          status: { loadBalancer: { ingress: [{ ip: "192.0.2.1" }] } },
        },
      },
      merge,
    );
    assert.equal(withStatus.spec?.type, "LoadBalancer", "the status endpoint ignores spec");
    assert.equal(withStatus.status?.loadBalancer?.ingress?.[0]?.ip, "192.0.2.1");
    const specChanged = await core.patchNamespacedService(
      {
        name: "web",
        namespace: "default",
        body: { spec: { externalTrafficPolicy: "Local" }, status: { loadBalancer: {} } },
      },
      merge,
    );
    assert.equal(specChanged.spec?.externalTrafficPolicy, "Local");
    assert.equal(
      specChanged.status?.loadBalancer?.ingress?.[0]?.ip,
      "192.0.2.1",
      "the main endpoint ignores status",
    );
  });

  it("clears a Service's load-balancer status when it stops being a LoadBalancer", async () => {
    await core.createNamespacedService({
      namespace: "default",
      body: { metadata: { name: "was-lb" }, spec: { type: "LoadBalancer", ports: [{ port: 80 }] } },
    });
    await core.patchNamespacedServiceStatus(
      {
        name: "was-lb",
        namespace: "default",
        body: { status: { loadBalancer: { ingress: [{ ip: "192.0.2.9" }] } } },
      },
      merge,
    );
    const changed = await core.patchNamespacedService(
      { name: "was-lb", namespace: "default", body: { spec: { type: "ClusterIP" } } },
      merge,
    );
    assert.deepEqual(changed.status?.loadBalancer?.ingress, undefined);
    await core.deleteNamespacedService({ name: "was-lb", namespace: "default" });
  });

  it("keeps metadata sent to a core kind's /status, as Kubernetes does for Services", async () => {
    const patched = await core.patchNamespacedServiceStatus(
      {
        name: "web",
        namespace: "default",
        body: { metadata: { annotations: { "herald.dev/allocated-from": "lan" } }, status: {} },
      },
      merge,
    );
    assert.equal(patched.metadata?.annotations?.["herald.dev/allocated-from"], "lan");
  });

  it("answers dry runs as the write would be answered, and stores nothing", async () => {
    const send = (method: string, path: string, body?: unknown, type = "application/json") =>
      fetch(`${kube.url}${path}`, {
        method,
        headers: { "Content-Type": type },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    const created = await send("POST", "/api/v1/namespaces/default/configmaps?dryRun=All", {
      metadata: { name: "dry" },
      data: { a: "1" },
    });
    assert.equal(created.status, 201);
    assert.equal(((await created.json()) as { data: { a: string } }).data.a, "1");
    assert.equal(
      await status(core.readNamespacedConfigMap({ name: "dry", namespace: "default" })),
      404,
    );
    // Invalid objects are refused as in a real write.
    const invalid = await send("POST", "/api/v1/namespaces/default/configmaps?dryRun=All", {
      metadata: { name: "Not_A_Name" },
    });
    assert.equal(invalid.status, 422);
    // A patch and a delete of an existing object change nothing either.
    const before = await core.readNamespacedService({ name: "web", namespace: "default" });
    const patched = await send(
      "PATCH",
      "/api/v1/namespaces/default/services/web?dryRun=All",
      { metadata: { labels: { dry: "run" } } },
      "application/merge-patch+json",
    );
    assert.equal(patched.status, 200);
    const deleted = await send("DELETE", "/api/v1/namespaces/default/services/web?dryRun=All");
    assert.equal(deleted.status, 200);
    const after = await core.readNamespacedService({ name: "web", namespace: "default" });
    assert.equal(after.metadata?.resourceVersion, before.metadata?.resourceVersion);
    assert.equal(after.metadata?.labels?.dry, undefined);
    // A dry-run Service takes no cluster IP from the next real one.
    const dryService = await send("POST", "/api/v1/namespaces/default/services?dryRun=All", {
      metadata: { name: "dry" },
      spec: { ports: [{ port: 80 }] },
    });
    const dryIP = ((await dryService.json()) as { spec: { clusterIP: string } }).spec.clusterIP;
    const real = await core.createNamespacedService({
      namespace: "default",
      body: { metadata: { name: "dry-real" }, spec: { ports: [{ port: 80 }] } },
    });
    assert.equal(real.spec?.clusterIP, dryIP);
    await core.deleteNamespacedService({ name: "dry-real", namespace: "default" });
    assert.equal(
      (await send("POST", "/api/v1/namespaces/default/configmaps?dryRun=Some", {})).status,
      400,
    );
  });

  it("makes no new version for a write that changes nothing", async () => {
    const annotate = () =>
      core.patchNamespacedService(
        { name: "web", namespace: "default", body: { metadata: { annotations: { note: "x" } } } },
        merge,
      );
    const before = await annotate();
    const after = await annotate();
    assert.equal(after.metadata?.resourceVersion, before.metadata?.resourceVersion);
  });

  it("applies JSON patches and strategic merge patches, and refuses a failing test op", async () => {
    const patched = await core.patchNamespacedService(
      {
        name: "web",
        namespace: "default",
        body: [{ op: "add", path: "/metadata/labels/tier", value: "front" }],
      },
      jsonPatch,
    );
    assert.equal(patched.metadata?.labels?.tier, "front");
    const smp = await core.patchNamespacedService(
      {
        name: "web",
        namespace: "default",
        body: { metadata: { labels: { tier: null, $patch: "merge" } } },
      },
      strategic,
    );
    assert.equal(smp.metadata?.labels?.tier, undefined);
    const failing = [{ op: "test", path: "/spec/type", value: "NodePort" }];
    assert.equal(
      await status(
        core.patchNamespacedService(
          { name: "web", namespace: "default", body: failing },
          jsonPatch,
        ),
      ),
      422,
    );
  });

  it("filters lists by label and field selectors and pages them", async () => {
    for (const name of ["a1", "a2", "a3", "b1"]) {
      await core.createNamespacedService({ namespace: "default", body: lbService(name) });
    }
    const byLabel = await core.listNamespacedService({
      namespace: "default",
      labelSelector: "app in (a1,a3)",
    });
    assert.deepEqual(
      byLabel.items.map((s) => s.metadata?.name),
      ["a1", "a3"],
    );
    const byField = await core.listServiceForAllNamespaces({ fieldSelector: "metadata.name=b1" });
    assert.deepEqual(
      byField.items.map((s) => s.metadata?.name),
      ["b1"],
    );
    assert.equal(
      await status(core.listServiceForAllNamespaces({ fieldSelector: "spec.bogus=x" })),
      400,
    );
    const names: string[] = [];
    let token: string | undefined;
    do {
      const page = await core.listNamespacedService({
        namespace: "default",
        limit: 2,
        _continue: token,
      });
      names.push(...page.items.map((s) => s.metadata!.name!));
      token = page.metadata?._continue;
    } while (token);
    assert.deepEqual(names, ["a1", "a2", "a3", "b1", "web"]);
  });

  it("holds objects with finalizers until the finalizers are removed", async () => {
    await core.createNamespacedConfigMap({
      namespace: "default",
      body: { metadata: { name: "held", finalizers: ["herald.dev/test"] } },
    });
    await core.deleteNamespacedConfigMap({ name: "held", namespace: "default" });
    const still = await core.readNamespacedConfigMap({ name: "held", namespace: "default" });
    assert.ok(still.metadata?.deletionTimestamp);
    await core.patchNamespacedConfigMap(
      { name: "held", namespace: "default", body: { metadata: { finalizers: null } } },
      merge,
    );
    assert.equal(
      await status(core.readNamespacedConfigMap({ name: "held", namespace: "default" })),
      404,
    );
  });

  it("deletes everything in a namespace with it", async () => {
    await core.createNamespace({ body: { metadata: { name: "doomed" } } });
    await core.createNamespacedService({ namespace: "doomed", body: lbService("inside") });
    await core.deleteNamespace({ name: "doomed" });
    assert.equal(
      await status(core.readNamespacedService({ name: "inside", namespace: "doomed" })),
      404,
    );
  });

  it("serves leases and pods with field selectors on spec.nodeName", async () => {
    const leases = config.makeApiClient(CoordinationV1Api);
    await leases.createNamespacedLease({
      namespace: "kube-system",
      body: {
        metadata: { name: "herald-controller" },
        spec: { holderIdentity: "a", leaseDurationSeconds: 15 },
      },
    });
    const lease = await leases.readNamespacedLease({
      name: "herald-controller",
      namespace: "kube-system",
    });
    assert.equal(lease.spec?.holderIdentity, "a");
    for (const node of ["node1", "node2"]) {
      await core.createNamespacedPod({
        namespace: "default",
        body: {
          metadata: { name: `pod-${node}` },
          spec: { nodeName: node, containers: [{ name: "c", image: "x" }] },
        },
      });
    }
    const onNode1 = await core.listPodForAllNamespaces({ fieldSelector: "spec.nodeName=node1" });
    assert.deepEqual(
      onNode1.items.map((p) => p.metadata?.name),
      ["pod-node1"],
    );
    assert.equal(onNode1.items[0]?.status?.phase, "Pending");
  });
});

describe("devkube: watch", () => {
  it("streams changes from a resourceVersion, with bookmarks", async () => {
    const start = await core.listNamespacedService({ namespace: "default" });
    const events = await watchUntil(
      "/api/v1/namespaces/default/services",
      { resourceVersion: start.metadata!.resourceVersion!, allowWatchBookmarks: "true" },
      (seen) => seen.some((e) => e.type === "BOOKMARK") && seen.some((e) => e.type === "DELETED"),
      async () => {
        await core.createNamespacedService({ namespace: "default", body: lbService("w1") });
        await core.patchNamespacedService(
          { name: "w1", namespace: "default", body: { metadata: { labels: { x: "1" } } } },
          merge,
        );
        await core.deleteNamespacedService({ name: "w1", namespace: "default" });
      },
    );
    const changes = events
      .filter((e) => e.type !== "BOOKMARK")
      .map((e) => `${e.type} ${e.object.metadata?.name}`);
    assert.deepEqual(changes, ["ADDED w1", "MODIFIED w1", "DELETED w1"]);
  });

  it("replays past changes to a watch that resumes, and sends 410 once they are forgotten", async () => {
    const start = await core.listNamespacedService({ namespace: "default" });
    await core.createNamespacedService({ namespace: "default", body: lbService("w2") });
    const replay = await watchUntil(
      "/api/v1/namespaces/default/services",
      { resourceVersion: start.metadata!.resourceVersion! },
      (seen) => seen.length >= 1,
    );
    assert.deepEqual(
      replay.map((e) => `${e.type} ${e.object.metadata?.name}`),
      ["ADDED w2"],
    );
    kube.expireResourceVersions();
    const expired = await watchUntil(
      "/api/v1/namespaces/default/services",
      { resourceVersion: start.metadata!.resourceVersion! },
      (seen) => seen.length >= 1,
    );
    assert.equal(expired[0]?.type, "ERROR");
    assert.equal(expired[0]?.object.code, 410);
  });

  it("shows a watch with a selector objects entering and leaving it", async () => {
    const start = await core.listNamespacedService({ namespace: "default" });
    const events = await watchUntil(
      "/api/v1/namespaces/default/services",
      { resourceVersion: start.metadata!.resourceVersion!, labelSelector: "stage=live" },
      (seen) => seen.length >= 2,
      async () => {
        await core.patchNamespacedService(
          { name: "a1", namespace: "default", body: { metadata: { labels: { stage: "live" } } } },
          merge,
        );
        await core.patchNamespacedService(
          { name: "a1", namespace: "default", body: { metadata: { labels: { stage: "old" } } } },
          merge,
        );
      },
    );
    assert.deepEqual(
      events.map((e) => `${e.type} ${e.object.metadata?.name}`),
      ["ADDED a1", "DELETED a1"],
    );
  });
});

describe("devkube: faults", () => {
  it("answers the next requests with 500 or 429, then recovers", async () => {
    kube.failNext(2, 500);
    assert.equal(await status(core.listNamespace()), 500);
    assert.equal(await status(core.listNamespace()), 500);
    assert.equal(await status(core.listNamespace()), 200);
    kube.failNext(1, 429);
    assert.equal(await status(core.listNamespace()), 429);
  });

  it("ends open watches on demand", async () => {
    let ended = false;
    const controller = await new Watch(config).watch(
      "/api/v1/services",
      {},
      () => {},
      () => (ended = true),
    );
    await new Promise((r) => setTimeout(r, 50));
    kube.dropWatches();
    await new Promise((r) => setTimeout(r, 100));
    controller.abort();
    assert.ok(ended);
  });

  it("counts requests by verb", async () => {
    kube.resetStats();
    await core.patchNamespacedServiceStatus(
      { name: "a2", namespace: "default", body: { status: {} } },
      merge,
    );
    await core.readNamespacedService({ name: "a2", namespace: "default" });
    const stats = kube.requestStats();
    assert.equal(stats.byVerb["PATCH services/status"], 1);
    assert.equal(stats.writes, 1);
    assert.equal(stats.total, 2);
    assert.equal(typeof stats.connections, "number");
  });
});

describe("devkube: custom resources", () => {
  const crd = {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: "widgets.example.dev" },
    spec: {
      group: "example.dev",
      scope: "Cluster",
      names: { kind: "Widget", plural: "widgets", singular: "widget", shortNames: ["wd"] },
      versions: [
        {
          name: "v1",
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: [{ name: "Size", type: "integer", jsonPath: ".spec.size" }],
          schema: {
            openAPIV3Schema: {
              type: "object",
              properties: {
                spec: {
                  type: "object",
                  required: ["size"],
                  // client-node's V1JSONSchemaProps names these `_default` and `x_kubernetes_validations`.
                  properties: {
                    size: { type: "integer", minimum: 1 },
                    color: { type: "string", _default: "blue" },
                  },
                  x_kubernetes_validations: [
                    { rule: "self.size <= 10", message: "size must be at most 10" },
                  ],
                },
                status: { type: "object", properties: { ready: { type: "boolean" } } },
              },
            },
          },
        },
      ],
    },
  };

  it("serves a resource from the moment its CRD is created, validating it", async () => {
    await config.makeApiClient(ApiextensionsV1Api).createCustomResourceDefinition({ body: crd });
    const custom = config.makeApiClient(CustomObjectsApi);
    const widget = {
      apiVersion: "example.dev/v1",
      kind: "Widget",
      metadata: { name: "w" },
      spec: { size: 3, junk: 1 },
    };
    const created = (await custom.createClusterCustomObject({
      group: "example.dev",
      version: "v1",
      plural: "widgets",
      body: widget,
    })) as {
      spec: Record<string, unknown>;
    };
    assert.deepEqual(created.spec, { size: 3, color: "blue" }, "pruned and defaulted");
    const tooBig = { ...widget, metadata: { name: "big" }, spec: { size: 11 } };
    try {
      await custom.createClusterCustomObject({
        group: "example.dev",
        version: "v1",
        plural: "widgets",
        body: tooBig,
      });
      assert.fail("expected 422");
    } catch (error) {
      assert.ok(error instanceof ApiException);
      assert.equal(error.code, 422);
      assert.match(String(error.body), /size must be at most 10/);
    }
    const withStatus = (await custom.patchClusterCustomObjectStatus(
      {
        group: "example.dev",
        version: "v1",
        plural: "widgets",
        name: "w",
        body: { status: { ready: true }, spec: { size: 9 } },
      },
      merge,
    )) as { spec: { size: number }; status: { ready: boolean } };
    assert.equal(withStatus.status.ready, true);
    assert.equal(withStatus.spec.size, 3);
  });

  it("ignores metadata sent to a custom resource's /status", async () => {
    const custom = config.makeApiClient(CustomObjectsApi);
    const patched = (await custom.patchClusterCustomObjectStatus(
      {
        group: "example.dev",
        version: "v1",
        plural: "widgets",
        name: "w",
        body: { metadata: { labels: { sneaky: "yes" } }, status: { ready: false } },
      },
      merge,
    )) as { metadata: { labels?: Record<string, string> } };
    assert.equal(patched.metadata.labels?.sneaky, undefined);
  });

  it("stores an object the schema would refuse when a test asks it to", async () => {
    const stored = kube.putUnvalidated("example.dev/v1", "widgets", {
      metadata: { name: "raw" },
      spec: { size: "huge" },
    });
    assert.ok(stored.metadata.uid);
    const custom = config.makeApiClient(CustomObjectsApi);
    const read = (await custom.getClusterCustomObject({
      group: "example.dev",
      version: "v1",
      plural: "widgets",
      name: "raw",
    })) as {
      spec: { size: unknown };
    };
    assert.equal(read.spec.size, "huge");
  });

  it("stops serving, and deletes, a CRD's objects with it", async () => {
    await config
      .makeApiClient(ApiextensionsV1Api)
      .deleteCustomResourceDefinition({ name: "widgets.example.dev" });
    const custom = config.makeApiClient(CustomObjectsApi);
    assert.equal(
      await status(
        custom.listClusterCustomObject({ group: "example.dev", version: "v1", plural: "widgets" }),
      ),
      404,
    );
  });
});
