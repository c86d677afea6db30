import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { CoreV1Api, Watch } from "@kubernetes/client-node";
import { DevKube } from "../devkube/server.ts";
import { PooledKubeConfig } from "./kubeconfig.ts";

let kube: DevKube;
before(async () => (kube = await DevKube.start()));
after(() => kube.stop());

describe("PooledKubeConfig", () => {
  it("sends a hundred requests over a connection or two, not a hundred", async () => {
    const config = new PooledKubeConfig();
    config.loadFromString(kube.kubeconfig());
    const core = config.makeApiClient(CoreV1Api);
    kube.resetStats();
    for (let i = 0; i < 100; i++) await core.listNamespace();
    assert.equal(kube.requestStats().total, 100);
    assert.ok(
      kube.requestStats().connections <= 2,
      `${kube.requestStats().connections} connections`,
    );
    await config.close();
  });

  it("serves watches from the same pool, and closes it", async () => {
    const config = new PooledKubeConfig();
    config.loadFromString(kube.kubeconfig());
    await config.makeApiClient(CoreV1Api).listNamespace();
    kube.resetStats();
    const controller = await new Watch(config).watch(
      "/api/v1/namespaces",
      {},
      () => {},
      () => {},
    );
    controller.abort();
    await config.close();
    assert.ok(kube.requestStats().connections <= 1);
  });
});
