import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { outageAfter, probe, type ProbeSample } from "./probe.ts";

test("the outage runs from the failure to the first good reply sent after it", () => {
  const samples: ProbeSample[] = [
    { sentAt: 1000, ms: 1, ok: true, node: "node1" },
    { sentAt: 1010, ms: 1000, ok: false, error: "timeout" },
    { sentAt: 1020, ms: 1000, ok: false, error: "timeout" },
    { sentAt: 1600, ms: 2, ok: true, node: "node2" },
    { sentAt: 1610, ms: 1, ok: true, node: "node2" },
  ];
  assert.deepEqual(outageAfter(samples, 1005), {
    firstGoodReplyMs: 597,
    failedRequests: 2,
    servedBy: "node2",
  });
  assert.equal(outageAfter(samples.slice(0, 3), 1005).firstGoodReplyMs, undefined);
});

test("probe sends on new connections and records who answered", async (t) => {
  let connections = 0;
  const server = createServer((_request, response) => response.end("node7\n"));
  server.on("connection", () => connections++);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => server.close());
  const port = (server.address() as { port: number }).port;
  const samples = await probe({
    url: `http://127.0.0.1:${port}/`,
    intervalMs: 10,
    timeoutMs: 500,
    durationMs: 200,
  });
  assert.ok(samples.length >= 15 && samples.length <= 21, `${samples.length} samples`);
  assert.ok(samples.every((s) => s.ok && s.node === "node7"));
  assert.equal(connections, samples.length);
  const closed = await probe({
    url: "http://127.0.0.1:1/",
    intervalMs: 10,
    timeoutMs: 200,
    durationMs: 30,
  });
  assert.ok(closed.every((s) => !s.ok && s.error === "ECONNREFUSED"));
});

test("answers from the failed node itself do not end the outage", () => {
  const samples: ProbeSample[] = [
    { sentAt: 1000, ms: 1, ok: true, node: "node1" },
    { sentAt: 1010, ms: 1, ok: true, node: "node1" },
    { sentAt: 1020, ms: 900, ok: false, error: "timeout" },
    { sentAt: 1500, ms: 2, ok: true, node: "node3" },
  ];
  assert.equal(outageAfter(samples, 1005, "node1").firstGoodReplyMs, 497);
  assert.equal(outageAfter(samples, 1005).servedBy, "node1");
});

test("the first good reply is the earliest to arrive, not the earliest sent", () => {
  const samples: ProbeSample[] = [
    { sentAt: 1010, ms: 1030, ok: true, node: "node2" }, // its first SYN went to the dead MAC
    { sentAt: 1600, ms: 2, ok: true, node: "node2" },
  ];
  assert.equal(outageAfter(samples, 1005, "node1").firstGoodReplyMs, 597);
});
