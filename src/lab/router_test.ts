// Network tier (root): `lab up --router bird|gobgp|frr` with real daemons. The node side
// is played by hand — a plain BIRD in each node namespace, written here, announcing a
// blackhole static route for one routed address — so this tests the router alone:
// sessions with every node in both families, both next hops in the router's kernel
// (ECMP), traffic from the client reaching the nodes, BFD (where the daemon has it)
// dropping a node whose link is cut, and a node whose BGP stops being withdrawn.
import assert from "node:assert/strict";
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";
import { after, before, describe, it } from "node:test";
import type { LabInfo } from "./info.ts";
import { HERALD } from "./processes.ts";
import { routerRoutes, routerSessions, type RouterKind } from "./router.ts";

const run = promisify(execFile);
const suffix = randomBytes(2).toString("hex");

/** A blackhole static route BIRD on the node exports: the lab's routed address .5. */
function routedAddresses(info: LabInfo): { ipv4: string; ipv6: string } {
  return {
    ipv4: `${info.routedPool.ipv4.split("/")[0]!.replace(/\.0$/, "")}.5/32`,
    ipv6: `${info.routedPool.ipv6!.split("/")[0]!}5/128`,
  };
}

function nodeBirdConfig(info: LabInfo, node: LabInfo["nodes"][number]): string {
  const routed = routedAddresses(info);
  const session = (family: "ipv4" | "ipv6", local: string, neighbor: string) => `
protocol bgp router_${family} {
  local ${local} as ${info.bgp.nodeASN};
  neighbor ${neighbor} as ${info.bgp.routerASN};
  connect delay time 1;
  connect retry time 2;
  error wait time 1, 2;
  bfd on;
  ${family} { import none; export where proto = "routed_${family}"; next hop self; };
}`;
  return `log stderr all;
router id ${node.ipv4};
protocol device {}
protocol static routed_ipv4 { ipv4; route ${routed.ipv4} blackhole; }
protocol static routed_ipv6 { ipv6; route ${routed.ipv6} blackhole; }
protocol bfd { interface "eth0" { min rx interval 100 ms; min tx interval 100 ms; multiplier 3; }; }
${session("ipv4", node.ipv4, info.bgp.routerAddress.ipv4)}
${session("ipv6", node.ipv6!, info.bgp.routerAddress.ipv6!)}
`;
}

async function eventually<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  ms: number,
): Promise<{ value: T; ms: number }> {
  const started = Date.now();
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return { value, ms: Date.now() - started };
    } catch (error) {
      last = error;
    }
    if (Date.now() - started > ms)
      assert.fail(`timed out after ${ms} ms waiting for ${what}${last ? `: ${String(last)}` : ""}`);
    await sleep(50);
  }
}

const ROUTERS: RouterKind[] = ["bird", "gobgp", "frr"];

for (const router of ROUTERS) {
  describe(`lab router: ${router}`, { timeout: 120_000 }, () => {
    const name = `rt${router}${suffix}`;
    const scratch = mkdtempSync(join(tmpdir(), `herald-${name}-`));
    const birds = new Map<string, ChildProcess>();
    let info: LabInfo;
    let routed: { ipv4: string; ipv6: string };
    let upMs = 0;

    const herald = async (...args: string[]) =>
      (await run(process.execPath, [HERALD, "lab", ...args, "--name", name])).stdout;
    const inNamespace = async (namespace: string, ...argv: string[]) =>
      (await run("ip", ["netns", "exec", namespace, ...argv])).stdout;
    const nexthops = async (prefix: string) =>
      (await routerRoutes(info, prefix))[0]?.nexthops ?? [];
    const nodeAddresses = (family: "ipv4" | "ipv6") =>
      info.nodes.map((node) => (family === "ipv4" ? node.ipv4 : node.ipv6!));

    const startBird = (node: LabInfo["nodes"][number]) => {
      const config = join(scratch, `${node.name}.conf`);
      writeFileSync(config, nodeBirdConfig(info, node));
      const log = openSync(join(scratch, `${node.name}.log`), "a");
      const child = spawn(
        "ip",
        [
          "netns",
          "exec",
          node.namespace,
          "bird",
          "-f",
          "-c",
          config,
          "-s",
          join(scratch, `${node.name}.ctl`),
        ],
        { stdio: ["ignore", log, log] },
      );
      closeSync(log);
      birds.set(node.name, child);
    };
    const stopBird = async (node: string) => {
      const child = birds.get(node);
      birds.delete(node);
      if (!child || child.exitCode !== null) return;
      const exited = new Promise((done) => child.once("exit", done));
      child.kill("SIGTERM");
      await exited;
    };

    before(async () => {
      assert.equal(
        process.getuid?.(),
        0,
        "the router tests build network namespaces and must run as root (sudo npm test)",
      );
      const started = Date.now();
      await herald("up", "--nodes", "2", "--ipv6", "--no-agents", "--router", router);
      info = JSON.parse(await herald("info", "-o", "json")) as LabInfo;
      routed = routedAddresses(info);
      // The routed address on every node, so the backend answers it when traffic comes.
      for (const node of info.nodes)
        await inNamespace(node.namespace, "ip", "addr", "add", routed.ipv4, "dev", "lo");
      for (const node of info.nodes) startBird(node);
      upMs = Date.now() - started;
    });

    after(async () => {
      for (const node of [...birds.keys()]) await stopBird(node).catch(() => {});
      await herald("down").catch(() => {});
      rmSync(scratch, { recursive: true, force: true });
    });

    it("records the daemon and the ASNs in lab info", (t) => {
      t.diagnostic(`${router}: lab up in ${upMs} ms`);
      assert.deepEqual(info.bgp, {
        router,
        routerASN: 64512,
        nodeASN: 64513,
        routerAddress: { ipv4: info.router.lan.ipv4, ipv6: info.router.lan.ipv6 },
      });
    });

    it("establishes a session with every node in both families", async (t) => {
      const expected = [...info.nodes.flatMap((node) => [node.ipv4, node.ipv6!])];
      const { ms } = await eventually(
        "every session to be Established",
        async () => {
          const sessions = await routerSessions(info);
          return sessions.every((session) => session.state === "Established") && sessions;
        },
        30_000,
      );
      const sessions = await routerSessions(info);
      assert.deepEqual(
        sessions.map((session) => session.neighbor),
        expected,
      );
      t.diagnostic(`${router}: sessions Established ${ms} ms after BIRD started on the nodes`);
    });

    it("installs the routed address with both nodes as next hops (ECMP)", async () => {
      for (const family of ["ipv4", "ipv6"] as const) {
        const prefix = routed[family];
        await eventually(
          `${prefix} via both nodes`,
          async () => {
            assert.deepEqual(await nexthops(prefix), nodeAddresses(family));
            return true;
          },
          10_000,
        );
      }
      const [route] = await routerRoutes(info, routed.ipv4);
      assert.deepEqual(route, { prefix: routed.ipv4, nexthops: nodeAddresses("ipv4") });
    });

    it("carries the client's traffic to the nodes that announce the address", async () => {
      const address = routed.ipv4.split("/")[0]!;
      const answer = await inNamespace(
        info.namespaces.client,
        "curl",
        "-s",
        "-m",
        "3",
        `http://${address}/`,
      );
      assert.ok(["node1\n", "node2\n"].includes(answer), JSON.stringify(answer));
    });

    if (router !== "gobgp") {
      it("drops a node whose link is cut within a second (BFD), and takes it back on heal", async (t) => {
        const [node1, node2] = info.nodes;
        await herald("fail", node2!.name, "--mode", "link");
        const { ms } = await eventually(
          "node2's next hop to go",
          async () => {
            assert.deepEqual(await nexthops(routed.ipv4), [node1!.ipv4]);
            return true;
          },
          1500,
        );
        t.diagnostic(`${router}: BFD dropped node2 ${ms} ms after its link went down`);
        await herald("heal", node2!.name);
        const back = await eventually(
          "node2 back as a next hop",
          async () => {
            assert.deepEqual(await nexthops(routed.ipv4), nodeAddresses("ipv4"));
            assert.deepEqual(await nexthops(routed.ipv6), nodeAddresses("ipv6"));
            return true;
          },
          20_000,
        );
        t.diagnostic(`${router}: node2 back ${back.ms} ms after heal`);
      });
    }

    it("keeps only node1's next hop once node2's BGP stops", async (t) => {
      const [node1] = info.nodes;
      const stopped = Date.now();
      await stopBird("node2");
      for (const prefix of [routed.ipv4, routed.ipv6])
        await eventually(
          `${prefix} via node1 only`,
          async () => {
            const hops = await nexthops(prefix);
            assert.deepEqual(hops, [prefix === routed.ipv4 ? node1!.ipv4 : node1!.ipv6!]);
            return true;
          },
          5000,
        );
      t.diagnostic(`${router}: node2 withdrawn ${Date.now() - stopped} ms after its BIRD stopped`);
      const address = routed.ipv4.split("/")[0]!;
      assert.equal(
        await inNamespace(info.namespaces.client, "curl", "-s", "-m", "3", `http://${address}/`),
        "node1\n",
      );
      const sessions = await routerSessions(info);
      assert.equal(
        sessions.find((session) => session.neighbor === node1!.ipv4)?.state,
        "Established",
      );
      assert.notEqual(
        sessions.find((session) => session.neighbor === info.nodes[1]!.ipv4)?.state,
        "Established",
      );
    });

    it("goes down leaving none of the router's files or processes", async () => {
      for (const node of [...birds.keys()]) await stopBird(node);
      await herald("down");
      const { stdout } = await run("ip", ["netns", "list"]);
      assert.ok(!stdout.includes(`hl-${name}-`), stdout);
      const { stdout: ps } = await run("ps", ["-eo", "args"]);
      assert.ok(!ps.includes(`${info.dir}/`), `processes naming ${info.dir} still run`);
      await assert.rejects(run("ls", [info.dir]));
    });
  });
}
