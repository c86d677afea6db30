import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { CoreV1Api, KubeConfig } from "@kubernetes/client-node";
import { FakeClock, settle } from "../clock.ts";
import { makeApiClient } from "./client.ts";
import { TokenBucket } from "./ratelimit.ts";

async function withServer(
  test: (url: string, seen: IncomingMessage[]) => Promise<void>,
): Promise<void> {
  const seen: IncomingMessage[] = [];
  const server = createServer((req, res) => {
    seen.push(req);
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ kind: "Namespace", apiVersion: "v1", metadata: { name: "default" } }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    await test(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

function kubeConfig(server: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: "c", server, skipTLSVerify: true }],
    users: [{ name: "u", token: "secret-token" }],
    contexts: [{ name: "x", cluster: "c", user: "u" }],
    currentContext: "x",
  });
  return kc;
}

describe("makeApiClient", () => {
  it("authenticates like KubeConfig and waits for a token before each request", () =>
    withServer(async (url, seen) => {
      const clock = new FakeClock();
      const limiter = new TokenBucket(1, 1, clock);
      const core = makeApiClient(kubeConfig(url), CoreV1Api, { limiter, userAgent: "herald/test" });

      const first = await core.readNamespace({ name: "default" });
      assert.equal(first.metadata?.name, "default");
      assert.equal(seen.length, 1);
      assert.equal(seen[0]?.headers.authorization, "Bearer secret-token");
      assert.equal(seen[0]?.headers["user-agent"], "herald/test");

      // The bucket is empty: the second request waits a whole second of (fake) time.
      let done = false;
      const second = core.readNamespace({ name: "default" }).then(() => (done = true));
      await settle();
      assert.equal(clock.pending, 1);
      await clock.advance(999);
      assert.equal(done, false);
      await clock.advance(1);
      await second;
      assert.equal(seen.length, 2);
    }));
});
