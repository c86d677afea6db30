// Two backends on loopback addresses, as two nodes: the one without a backend Pod
// passes requests on, like kube-proxy.
import assert from "node:assert/strict";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { CLIENT_HEADER, FORWARDED_HEADER, startBackend } from "./backend.ts";

let backendNodes: string[] = [];
const servers: Server[] = [];
let port = 0;

before(async () => {
  const addresses = {
    node1: "127.0.0.1",
    node2: "127.0.0.2",
    node3: "127.0.0.3",
    node4: "127.0.0.4",
  };
  const start = (node: keyof typeof addresses, at: number) =>
    startBackend({
      node,
      backendNodes: () => backendNodes,
      addresses,
      port: at,
      host: addresses[node],
    });
  const first = await start("node1", 0);
  port = (first.address() as AddressInfo).port;
  servers.push(first, await start("node2", port), await start("node3", port));
  // node5 stands for a node beside real kube-proxy: it never forwards.
  servers.push(
    await startBackend({
      node: "node5",
      backendNodes: () => backendNodes,
      addresses,
      port,
      host: "127.0.0.5",
      forward: false,
    }),
  );
  // node4 has no server: a node that is down.
});

after(() => {
  for (const server of servers) server.close();
});

async function get(host: string, headers: Record<string, string> = {}): Promise<[number, string]> {
  const response = await fetch(`http://${host}:${port}/`, { headers });
  return [response.status, await response.text()];
}

async function client(host: string): Promise<string | null> {
  const response = await fetch(`http://${host}:${port}/`);
  await response.text();
  return response.headers.get(CLIENT_HEADER);
}

describe("lab backend", () => {
  it("answers with its node's name where a backend runs", async () => {
    backendNodes = ["node1", "node2"];
    assert.deepEqual(await get("127.0.0.1"), [200, "node1\n"]);
    assert.deepEqual(await get("127.0.0.2"), [200, "node2\n"]);
  });

  it("passes requests on to the nodes with backends, in turn", async () => {
    backendNodes = ["node2"];
    assert.deepEqual(await get("127.0.0.1"), [200, "node2\n"]);
    backendNodes = ["node2", "node3"];
    const answers = [await get("127.0.0.1"), await get("127.0.0.1")].map(([, text]) => text);
    assert.deepEqual(answers.sort(), ["node2\n", "node3\n"]);
  });

  it("streams /stream's lines over time, also through a node that passes it on", async () => {
    backendNodes = ["node2"];
    const started = Date.now();
    const response = await fetch(`http://127.0.0.1:${port}/stream?lines=4&everyMs=50`);
    assert.equal(response.status, 200);
    assert.equal(await response.text(), "node2 0\nnode2 1\nnode2 2\nnode2 3\n");
    assert.ok(Date.now() - started >= 150, "the lines came at once");
    const bad = await fetch(`http://127.0.0.2:${port}/stream?lines=x&everyMs=-1`);
    assert.equal((await bad.text()).split("\n").length - 1, 10, "bad parameters take defaults");
  });

  it("answers 503 with no backend anywhere, and never forwards a forwarded request", async () => {
    backendNodes = [];
    assert.equal((await get("127.0.0.1"))[0], 503);
    backendNodes = ["node2"];
    assert.equal((await get("127.0.0.1", { [FORWARDED_HEADER]: "node9" }))[0], 503);
  });

  it("answers 502 when the node it forwards to does not answer", async () => {
    backendNodes = ["node4"];
    const [status, text] = await get("127.0.0.1");
    assert.equal(status, 502);
    assert.match(text, /node4 did not answer/);
  });

  it("says where the request came from: the client, or the node that passed it on", async () => {
    backendNodes = ["node2"];
    // Served where it arrived: the client's address (loopback's, from this process).
    assert.equal(await client("127.0.0.2"), "127.0.0.1");
    // Passed on from node3 to node2: node2 saw node3's connection, as after SNAT.
    const relayed = await fetch(`http://127.0.0.3:${port}/`, {});
    assert.equal(await relayed.text(), "node2\n");
    assert.match(relayed.headers.get(CLIENT_HEADER) ?? "", /^127\.0\.0\.\d+$/);
  });

  it("beside real kube-proxy, answers only for its own Pod and never forwards", async () => {
    backendNodes = ["node2"];
    const [status, text] = await get("127.0.0.5");
    assert.equal(status, 503);
    assert.match(text, /node5: no backend here/);
    backendNodes = ["node5"];
    assert.deepEqual(await get("127.0.0.5"), [200, "node5\n"]);
  });
});
