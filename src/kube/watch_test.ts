import assert from "node:assert/strict";
import { createServer, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import type { V1Namespace } from "@kubernetes/client-node";
import { startCluster, waitFor, type TestCluster } from "../../test/cluster.ts";
import { PooledKubeConfig } from "./kubeconfig.ts";
import { watch } from "./watch.ts";

let cluster: TestCluster;
before(async () => (cluster = await startCluster({ crds: false })));
after(() => cluster.stop());

/** The namespaces every API server makes for itself. */
const SYSTEM_NAMESPACES = ["default", "kube-node-lease", "kube-public", "kube-system"];

/** A server that answers every request with `answer`, and a kubeconfig for it. */
async function fakeServer(answer: (response: ServerResponse) => void) {
  const server = createServer((_, response) => answer(response));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const fake = new PooledKubeConfig();
  fake.loadFromOptions({
    clusters: [
      {
        name: "c",
        server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        skipTLSVerify: true,
      },
    ],
    users: [{ name: "u" }],
    contexts: [{ name: "x", cluster: "c", user: "u" }],
    currentContext: "x",
  });
  return {
    config: fake,
    close: async () => {
      await fake.close();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe("watch", () => {
  it("delivers the events of a collection in order, with their versions", async () => {
    const described = (namespace: V1Namespace) =>
      `${namespace.metadata?.name}@${namespace.metadata?.resourceVersion}`;
    // A real API server makes these with controllers of its own, which need not have run
    // when it first reports ready; devkube has them from the start.
    const listed = await waitFor("the system namespaces", async () => {
      const { items } = await cluster.core.listNamespace();
      const names = items.map((namespace) => namespace.metadata?.name);
      return SYSTEM_NAMESPACES.every((name) => names.includes(name)) && items;
    });
    const seen: string[] = [];
    const ended = new Promise<unknown>((resolve) => {
      void watch(
        cluster.config,
        "/api/v1/namespaces",
        { timeoutSeconds: "1" },
        (type, object) => seen.push(`${type} ${described(object as V1Namespace)}`),
        resolve,
      );
    });
    assert.equal(await ended, null, "the server's timeout ends the watch without an error");
    // Without a resourceVersion a watch starts with the collection as a list would give it.
    assert.deepEqual(
      seen.sort(),
      listed.map((namespace) => `ADDED ${described(namespace)}`).sort(),
    );
  });

  it("joins events split across chunks and skips lines that are not JSON", async () => {
    const event = JSON.stringify({ type: "ADDED", object: { metadata: { name: "a" } } });
    const server = await fakeServer((response) => {
      response.writeHead(200, { "Content-Type": "application/json" });
      response.write(event.slice(0, 10));
      setTimeout(() => {
        response.write(`${event.slice(10)}\nnot json\n${event.replace('"a"', '"b"')}`);
        // The last line has no newline: the end of the stream ends it.
        setTimeout(() => response.end(), 20);
      }, 20);
    });
    try {
      const seen: string[] = [];
      const error = await new Promise<unknown>((resolve) => {
        void watch(
          server.config,
          "/api/v1/services",
          {},
          (type, object) =>
            seen.push(`${type} ${(object as { metadata: { name: string } }).metadata.name}`),
          resolve,
        );
      });
      assert.equal(error, null);
      assert.deepEqual(seen, ["ADDED a", "ADDED b"]);
    } finally {
      await server.close();
    }
  });

  it("fails with the status code of an answer other than 200", async () => {
    const error = await new Promise<unknown>((resolve) => {
      void watch(cluster.config, "/api/v1/nothings", {}, () => {}, resolve);
    });
    assert.equal((error as { statusCode: number }).statusCode, 404);
  });

  it("ends with an AbortError when aborted, and with a TimeoutError when silent", async () => {
    let aborted: unknown;
    const done = new Promise<void>((resolve) => {
      void watch(
        cluster.config,
        "/api/v1/services",
        {},
        () => {},
        (error) => {
          aborted = error;
          resolve();
        },
      ).then((controller) => controller.abort());
    });
    await done;
    assert.equal((aborted as Error).name, "AbortError");

    const silent = await fakeServer((response) => {
      response.writeHead(200, { "Content-Type": "application/json" });
      response.flushHeaders();
    });
    try {
      const error = await new Promise<unknown>((resolve) => {
        void watch(silent.config, "/api/v1/services", {}, () => {}, resolve, 100);
      });
      assert.equal((error as Error).name, "TimeoutError");
    } finally {
      await silent.close();
    }
  });
});
