// Network tier (root): a real lab through the real command — namespaces, veths, bridge,
// router, devkube, endpoints mirror and backends — checked with ping and curl from the
// lab's own client namespaces, then failed, healed and taken down.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import type { LabInfo } from "./info.ts";
import { HERALD } from "./processes.ts";
import type { LabState } from "./state.ts";

const run = promisify(execFile);
const NAME = `t${randomBytes(3).toString("hex")}`;

async function herald(...args: string[]): Promise<string> {
  const { stdout } = await run(process.execPath, [HERALD, "lab", ...args, "--name", NAME]);
  return stdout;
}

/** Exit code of a command in a namespace (0 = it worked). */
async function inNamespace(
  namespace: string,
  ...argv: string[]
): Promise<{ code: number; out: string }> {
  try {
    const { stdout } = await run("ip", ["netns", "exec", namespace, ...argv]);
    return { code: 0, out: stdout };
  } catch (error) {
    const failure = error as { code?: number; stdout?: string };
    return { code: typeof failure.code === "number" ? failure.code : 1, out: failure.stdout ?? "" };
  }
}

const ping = (from: string, address: string) =>
  inNamespace(from, "ping", "-c", "1", "-W", "1", address);
const curl = async (from: string, address: string) =>
  (
    await inNamespace(
      from,
      "curl",
      "-s",
      "-m",
      "3",
      "-g",
      `http://${address.includes(":") ? `[${address}]` : address}/`,
    )
  ).out;

/** Retries briefly: a link that just came up may drop the first packet. */
async function eventually(what: string, check: () => Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

let info: LabInfo;

describe("herald lab", { timeout: 90_000 }, () => {
  before(async () => {
    assert.equal(
      process.getuid?.(),
      0,
      "the lab tests build network namespaces and must run as root (sudo npm test)",
    );
    await herald("up", "--nodes", "3", "--ipv6", "--no-agents");
    info = JSON.parse(await herald("info", "-o", "json")) as LabInfo;
  });

  // Whatever failed above, leave nothing behind.
  after(async () => {
    await herald("down").catch(() => {});
  });

  it("describes itself with the documented shape", () => {
    assert.equal(info.name, NAME);
    assert.equal(info.kubeconfig, `${info.dir}/kubeconfig`);
    assert.match(info.apiServer, /^http:\/\/198\.18\.\d+\.2:\d+$/);
    assert.deepEqual(Object.keys(info.namespaces), [
      "client",
      "lanclient",
      "router",
      "lan",
      "nodes",
    ]);
    assert.deepEqual(info.namespaces.nodes, {
      node1: `hl-${NAME}-node1`,
      node2: `hl-${NAME}-node2`,
      node3: `hl-${NAME}-node3`,
    });
    assert.equal(info.nodes.length, 3);
    for (const node of info.nodes) {
      assert.deepEqual(Object.keys(node), [
        "name",
        "namespace",
        "interface",
        "ipv4",
        "ipv6",
        "mac",
      ]);
      assert.equal(node.interface, "eth0");
      assert.match(node.ipv6 ?? "", /^fd48:4c42:/);
      assert.match(node.mac, /^02:48:4c:/);
    }
    assert.match(info.lan.ipv4, /^198\.18\.\d+\.0\/24$/);
    assert.match(info.lan.ipv6 ?? "", /::\/64$/);
    assert.match(info.routedPool.ipv4, /^198\.19\.\d+\.0\/24$/);
    assert.match(info.localPool.ipv4, /\.200-198\.18\.\d+\.250$/);
    assert.ok(
      info.router.lan.ipv6 && info.router.client.ipv6 && info.client.ipv6 && info.lanclient.ipv6,
    );
    assert.deepEqual(info.backends, {
      namespace: "default",
      labels: { app: "lab-web" },
      port: 80,
      nodes: ["node1", "node2", "node3"],
    });
    assert.equal(info.ipv6, true);
  });

  it("reaches every node from the lanclient in both families", async () => {
    for (const node of info.nodes) {
      assert.equal((await ping(info.namespaces.lanclient, node.ipv4)).code, 0, node.ipv4);
      assert.equal((await ping(info.namespaces.lanclient, node.ipv6!)).code, 0, node.ipv6!);
    }
  });

  it("reaches a node from the client through the router in both families", async () => {
    const [node] = info.nodes;
    assert.equal((await ping(info.namespaces.client, node!.ipv4)).code, 0);
    assert.equal((await ping(info.namespaces.client, node!.ipv6!)).code, 0);
  });

  it("serves each node's name from the node's backend", async () => {
    for (const node of info.nodes) {
      assert.equal(await curl(info.namespaces.lanclient, node.ipv4), `${node.name}\n`);
      assert.equal(await curl(info.namespaces.client, node.ipv6!), `${node.name}\n`);
    }
  });

  it("moves the backends: other nodes pass requests on, and slices list only the new place", async () => {
    await herald("backends", "node2");
    const [node1, node2] = info.nodes;
    assert.equal(await curl(info.namespaces.lanclient, node1!.ipv4), "node2\n");
    const created = await fetch(`${info.apiServer}/api/v1/namespaces/default/services`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        metadata: { name: "web" },
        spec: {
          type: "LoadBalancer",
          ipFamilyPolicy: "PreferDualStack",
          selector: { app: "lab-web" },
          ports: [{ port: 80, targetPort: 80 }],
        },
      }),
    });
    assert.equal(created.status, 201, await created.text());
    const slices = async () => {
      const response = await fetch(
        `${info.apiServer}/apis/discovery.k8s.io/v1/namespaces/default/endpointslices?labelSelector=kubernetes.io/service-name=web`,
      );
      const list = (await response.json()) as {
        items: { addressType: string; endpoints: { addresses: string[]; nodeName: string }[] }[];
      };
      return Object.fromEntries(
        list.items.map((slice) => [
          slice.addressType,
          slice.endpoints.map((endpoint) => `${endpoint.nodeName} ${endpoint.addresses.join()}`),
        ]),
      );
    };
    const expected = { IPv4: [`node2 ${node2!.ipv4}`], IPv6: [`node2 ${node2!.ipv6}`] };
    await eventually("slices listing node2 only", async () => {
      try {
        assert.deepEqual(await slices(), expected);
        return true;
      } catch {
        return false;
      }
    });
    assert.deepEqual((JSON.parse(await herald("info", "-o", "json")) as LabInfo).backends.nodes, [
      "node2",
    ]);
  });

  it("fails a node hard and heals it", async () => {
    const [node1, node2] = info.nodes;
    await herald("fail", "node1", "--mode", "hard");
    assert.notEqual(
      (await ping(info.namespaces.lanclient, node1!.ipv4)).code,
      0,
      "node1 still answers",
    );
    assert.equal((await ping(info.namespaces.lanclient, node2!.ipv4)).code, 0);
    await herald("heal", "node1");
    await eventually(
      "node1 to answer again",
      async () => (await ping(info.namespaces.lanclient, node1!.ipv4)).code === 0,
    );
    assert.equal(await curl(info.namespaces.lanclient, node1!.ipv4), "node2\n");
  });

  it("goes down leaving nothing behind, and down again succeeds", async () => {
    const state = JSON.parse(readFileSync(`${info.dir}/state.json`, "utf8")) as LabState;
    assert.ok(Object.keys(state.pids).length >= 6, JSON.stringify(state.pids));
    await herald("down");
    const { stdout } = await run("ip", ["netns", "list"]);
    assert.ok(!stdout.includes(`hl-${NAME}-`), stdout);
    await assert.rejects(run("ip", ["link", "show", "dev", state.hostInterface]));
    for (const pid of Object.values(state.pids)) assert.ok(!isAlive(pid), `pid ${pid} still runs`);
    assert.deepEqual(processesNaming(info.dir), []);
    assert.ok(!existsSync(info.dir));
    await herald("down");
  });
});

/** Running, not a zombie waiting for init to reap it. */
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^\S+ \(.*\) [ZX]/.test(stat);
  } catch {
    return false;
  }
}

/** Live processes whose command line names the lab directory. */
function processesNaming(dir: string): number[] {
  return readdirSync("/proc")
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, "utf8")
          .split("\0")
          .some((arg) => arg === dir || arg.startsWith(`${dir}/`));
      } catch {
        return false;
      }
    })
    .filter(isAlive);
}
