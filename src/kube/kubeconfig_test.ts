import assert from "node:assert/strict";
import { createServer, connect, type AddressInfo, type Socket } from "node:net";
import { after, before, describe, it } from "node:test";
import { CoreV1Api, Watch } from "@kubernetes/client-node";
import { startCluster, waitFor, type TestCluster } from "../../test/cluster.ts";
import { PooledKubeConfig } from "./kubeconfig.ts";

let cluster: TestCluster;
before(async () => (cluster = await startCluster({ crds: false })));
after(() => cluster.stop());

/**
 * A TCP relay in front of the API server that counts the connections clients open to it:
 * seen from the client's side, so the same on a real server (TLS passes through
 * untouched) as on devkube.
 */
async function relay() {
  const target = new URL(cluster.url);
  const open = new Set<Socket>();
  let opened = 0;
  const server = createServer((client) => {
    opened++;
    open.add(client);
    const upstream = connect(Number(target.port), target.hostname);
    client.pipe(upstream).pipe(client);
    const end = () => {
      open.delete(client);
      client.destroy();
      upstream.destroy();
    };
    for (const socket of [client, upstream]) socket.on("error", end).on("close", end);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  // The admin's kubeconfig, sent through the relay: the server certificate names
  // 127.0.0.1, whatever the port.
  const config = new PooledKubeConfig();
  config.loadFromString(cluster.kubeconfig());
  config.loadFromOptions({
    clusters: config.clusters.map((c) => ({
      ...c,
      server: `${target.protocol}//127.0.0.1:${port}`,
    })),
    users: config.users,
    contexts: config.contexts,
    currentContext: config.getCurrentContext(),
  });
  return {
    config,
    /** Connections opened so far. */
    opened: () => opened,
    /** Connections still open. */
    open: () => open.size,
    close: async () => {
      await config.close();
      for (const socket of open) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe("PooledKubeConfig", () => {
  it("sends a hundred requests over a connection or two, not a hundred", async () => {
    const through = await relay();
    try {
      const core = through.config.makeApiClient(CoreV1Api);
      for (let i = 0; i < 100; i++) await core.listNamespace();
      assert.ok(through.opened() <= 2, `${through.opened()} connections`);
    } finally {
      await through.close();
    }
  });

  it("serves watches from the same pool, and closes it", async () => {
    const through = await relay();
    try {
      await through.config.makeApiClient(CoreV1Api).listNamespace();
      const openedBefore = through.opened();
      const controller = await new Watch(through.config).watch(
        "/api/v1/namespaces",
        {},
        () => {},
        () => {},
      );
      controller.abort();
      assert.ok(through.opened() - openedBefore <= 1);
      await through.config.close();
      // At once: an idle connection left alone would stay for seconds (undici's keep-alive).
      await waitFor("the pool's connections to close", () => through.open() === 0, 1000);
    } finally {
      await through.close();
    }
  });
});
