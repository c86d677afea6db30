// BirdDaemon and the rendered configuration against a real router: two network namespaces
// joined by a veth pair. In "a" (the node) a port-less bridge kube-lb0 holds the routed
// addresses and BirdDaemon runs BIRD; in "b" a plain BIRD plays the upstream router and
// installs what it learns into b's kernel. Needs root, iproute2 and BIRD 2; without them
// these tests fail and say what is missing.
import assert from "node:assert/strict";
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import type { BGPSessionStatus } from "../../api/nodestate.ts";
import { createLogger } from "../../log.ts";
import { BirdDaemon } from "./daemon.ts";
import { renderBirdConfig, type BirdInputs } from "./render.ts";

const execFileAsync = promisify(execFile);

const id = randomBytes(3).toString("hex");
const A = `hlb-${id}-a`;
const B = `hlb-${id}-b`;
const A_IF = "vha";
const B_IF = "vhb";
const PASSWORD = "s3c\\ret"; // a backslash, which BIRD takes literally
const TIMEOUT = { timeout: 60_000 };

async function run(...command: string[]): Promise<string> {
  const [file = "", ...args] = command;
  const { stdout } = await execFileAsync(file, args, { encoding: "utf8" });
  return stdout;
}

async function eventually<T>(
  what: string,
  probe: () => Promise<T>,
  ok: (value: T) => boolean,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      last = await probe();
      if (ok(last)) return last;
    } catch (error) {
      lastError = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  assert.fail(
    `${what}: not within ${timeoutMs} ms; last seen ${JSON.stringify(last)}${lastError ? ` (${String(lastError)})` : ""}`,
  );
}

interface RouteEntry {
  dst: string;
  gateway?: string;
  dev?: string;
  protocol?: string;
}

async function routeInB(prefix: string): Promise<RouteEntry | undefined> {
  const family = prefix.includes(":") ? "-6" : "-4";
  const routes = JSON.parse(
    await run("ip", "-n", B, family, "-j", "route", "show", prefix),
  ) as RouteEntry[];
  return routes[0];
}

function session(sessions: BGPSessionStatus[], peer: string): BGPSessionStatus | undefined {
  return sessions.find((s) => s.peer === peer);
}

const established = (peers: string[]) => (sessions: BGPSessionStatus[]) =>
  peers.every((p) => session(sessions, p)?.state === "Established");

function nodeInputs(passwords: ReadonlyMap<string, string>): BirdInputs {
  return {
    node: { name: "a", labels: {}, ipv4: "198.18.250.1", ipv6: "fd48:bb::1" },
    settings: { virtualInterface: "kube-lb0" },
    peers: [
      {
        name: "b-v4",
        spec: {
          peerAddress: "198.18.250.2",
          peerASN: 64513,
          localASN: 64512,
          passwordSecretRef: { namespace: "herald", name: "b-md5" },
          bfd: { minRxMs: 100, minTxMs: 100, multiplier: 3 },
        },
      },
      { name: "b-v6", spec: { peerAddress: "fd48:bb::2", peerASN: 64513, localASN: 64512 } },
    ],
    advertisements: [
      {
        name: "to-b",
        spec: {
          pools: ["routed"],
          communities: ["65000:100", "no-export"],
          largeCommunities: ["64512:1:2"],
        },
      },
    ],
    poolLabels: new Map([["routed", {}]]),
    // 198.19.250.77/32 is on kube-lb0 too, but not routed: it must not be exported.
    routes: [
      { prefix: "198.19.250.5/32", pool: "routed", family: "IPv4" },
      { prefix: "198.19.250.0/28", pool: "routed", family: "IPv4" },
      { prefix: "fd48:bb:100::5/128", pool: "routed", family: "IPv6" },
    ],
    passwords,
  };
}

function rendered(passwords: ReadonlyMap<string, string>): string {
  const result = renderBirdConfig(nodeInputs(passwords));
  if ("error" in result) assert.fail(result.error);
  return result.config;
}

// The upstream router: accepts everything from a, installs it in b's kernel.
const ROUTER_CONFIG = `
log stderr all;
router id 198.18.250.2;
protocol device {}
protocol kernel { ipv4 { import none; export all; }; }
protocol kernel { ipv6 { import none; export all; }; }
protocol bfd {}
protocol bgp node_a4 {
  local as 64513; neighbor 198.18.250.1 as 64512; password "${PASSWORD}"; bfd on;
  ipv4 { import all; export none; };
}
protocol bgp node_a6 {
  local as 64513; neighbor fd48:bb::1 as 64512;
  ipv6 { import all; export none; };
}
`;

describe("BirdDaemon with a real router (needs root)", () => {
  let dir = "";
  let daemon: BirdDaemon;
  let router: ChildProcess | undefined;
  let goodConfig = "";
  // A directory the daemon makes itself, as the agent's --bird-dir.
  const configPath = () => join(dir, "run", "bird.conf");
  const socketPath = () => join(dir, "run", "bird.ctl");
  let umask = 0o022;
  const routerSocket = () => join(dir, "router.ctl");
  const birdcB = (...args: string[]) => run("birdc", "-s", routerSocket(), ...args);

  before(async () => {
    if (process.getuid?.() !== 0) {
      throw new Error("these tests need root: they create network namespaces and veth pairs");
    }
    for (const [program, args] of [
      ["ip", ["-V"]],
      ["bird", ["--version"]],
      ["birdc", ["-h"]],
    ] as const) {
      await execFileAsync(program, args).catch((error: NodeJS.ErrnoException) => {
        if (error.code === "ENOENT") {
          throw new Error(`${program} is not installed; these tests need iproute2 and bird2`);
        }
      });
    }
    dir = await mkdtemp(join(tmpdir(), "herald-bird-"));
    // The widest umask a container may run with: the daemon must not rely on it.
    umask = process.umask(0);
    await run("ip", "netns", "add", A);
    await run("ip", "netns", "add", B);
    await run("ip", "link", "add", A_IF, "netns", A, "type", "veth", "peer", B_IF, "netns", B);
    for (const [ns, iface, last] of [
      [A, A_IF, "1"],
      [B, B_IF, "2"],
    ] as const) {
      await run("ip", "-n", ns, "link", "set", "lo", "up");
      await run("ip", "-n", ns, "addr", "add", `198.18.250.${last}/24`, "dev", iface);
      await run("ip", "-n", ns, "addr", "add", `fd48:bb::${last}/64`, "dev", iface, "nodad");
      await run("ip", "-n", ns, "link", "set", iface, "up");
    }
    // The stand-in for the agent's kube-lb0 where the dummy driver is missing.
    await run("ip", "-n", A, "link", "add", "kube-lb0", "type", "bridge");
    await run("ip", "-n", A, "link", "set", "kube-lb0", "up");
    for (const address of ["198.19.250.5/32", "198.19.250.1/28", "198.19.250.77/32"]) {
      await run("ip", "-n", A, "addr", "add", address, "dev", "kube-lb0", "noprefixroute");
    }
    await run("ip", "-n", A, "addr", "add", "fd48:bb:100::5/128", "dev", "kube-lb0", "nodad");

    await writeFile(join(dir, "router.conf"), ROUTER_CONFIG);
    router = spawn(
      "ip",
      ["netns", "exec", B, "bird", "-f", "-c", join(dir, "router.conf"), "-s", routerSocket()],
      { stdio: "ignore" },
    );
    await eventually(
      "the router's BIRD answers",
      () => birdcB("show", "status"),
      (out) => out.includes("Daemon is up and running"),
    );

    const log = createLogger((process.env["HERALD_TEST_LOG"] as "debug" | undefined) ?? "silent");
    daemon = new BirdDaemon({ configPath: configPath(), socketPath: socketPath(), netns: A, log });
    goodConfig = rendered(new Map([["b-v4", PASSWORD]]));
  });

  after(async () => {
    process.umask(umask);
    await daemon?.stop().catch(() => undefined);
    router?.kill("SIGTERM");
    for (const ns of [A, B]) {
      await run("ip", "netns", "del", ns).catch(() => undefined);
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it(
    "starts BIRD with the first configuration and establishes both sessions",
    TIMEOUT,
    async () => {
      await daemon.start(); // no configuration yet: waits for apply()
      assert.deepEqual(await daemon.apply(goodConfig), { ok: true });
      const sessions = await eventually(
        "both sessions Established",
        () => daemon.sessions(),
        established(["b-v4", "b-v6"]),
      );
      assert.equal(session(sessions, "b-v4")?.prefixesSent, 2);
      assert.equal(session(sessions, "b-v6")?.prefixesSent, 1);
      // Under umask 000 too: the directory holds the control socket, the file passwords.
      assert.equal((await stat(join(dir, "run"))).mode & 0o777, 0o700, "the BIRD directory");
      assert.equal((await stat(configPath())).mode & 0o777, 0o600, "bird.conf");
      const since = Date.parse(session(sessions, "b-v4")?.since ?? "");
      assert.ok(Math.abs(Date.now() - since) < 60_000, `since ${session(sessions, "b-v4")?.since}`);
    },
  );

  it("does not reconfigure BIRD for an unchanged configuration", TIMEOUT, async () => {
    const lastReconfiguration = async () =>
      /Last reconfiguration on (.*)/.exec(
        await run("birdc", "-s", socketPath(), "show", "status"),
      )?.[1];
    const before = await lastReconfiguration();
    assert.deepEqual(await daemon.apply(goodConfig), { ok: true });
    assert.equal(await lastReconfiguration(), before);
  });

  it("gets the routed prefixes into the router's kernel, via the node", TIMEOUT, async () => {
    const host = await eventually(
      "198.19.250.5/32 at b",
      () => routeInB("198.19.250.5/32"),
      (r) => r !== undefined,
    );
    assert.equal(host?.gateway, "198.18.250.1");
    assert.equal(host?.dev, B_IF);
    const aggregate = await eventually(
      "198.19.250.0/28 at b",
      () => routeInB("198.19.250.0/28"),
      (r) => r !== undefined,
    );
    assert.equal(aggregate?.gateway, "198.18.250.1");
    const v6 = await eventually(
      "fd48:bb:100::5/128 at b",
      () => routeInB("fd48:bb:100::5/128"),
      (r) => r !== undefined,
    );
    assert.equal(v6?.gateway, "fd48:bb::1", "the node's global IPv6 address is the next hop");
  });

  it("exports only the routed prefixes, nothing else on or off kube-lb0", TIMEOUT, async () => {
    assert.equal(await routeInB("198.19.250.77/32"), undefined);
    const learned = await birdcB("show", "route", "protocol", "node_a4");
    const prefixes = [...learned.matchAll(/^(\d+\.\d+\.\d+\.\d+\/\d+)/gm)].map((m) => m[1]).sort();
    assert.deepEqual(prefixes, ["198.19.250.0/28", "198.19.250.5/32"]);
  });

  it("sends the communities, including no-export, to the router", TIMEOUT, async () => {
    const route = await birdcB("show", "route", "all", "198.19.250.5/32");
    assert.match(route, /BGP\.community: \(65000,100\) \(65535,65281\)/);
    assert.match(route, /BGP\.large_community: \(64512, 1, 2\)/);
  });

  it("runs BFD on the session that asks for it", TIMEOUT, async () => {
    await eventually(
      "a BFD session Up with b",
      () => run("birdc", "-s", socketPath(), "show", "bfd", "sessions"),
      (out) => /198\.18\.250\.2\s+vha\s+Up/.test(out),
    );
  });

  it("withdraws a route when its address leaves kube-lb0", TIMEOUT, async () => {
    await run("ip", "-n", A, "addr", "del", "198.19.250.5/32", "dev", "kube-lb0");
    await eventually(
      "198.19.250.5/32 gone at b",
      () => routeInB("198.19.250.5/32"),
      (r) => r === undefined,
      10_000,
    );
    assert.notEqual(await routeInB("198.19.250.0/28"), undefined, "the other prefix stays");
    const sessions = await daemon.sessions();
    assert.equal(session(sessions, "b-v4")?.prefixesSent, 1);
  });

  it(
    "refuses a configuration BIRD cannot parse and keeps running the old one",
    TIMEOUT,
    async () => {
      const broken = goodConfig.replace(
        "neighbor 198.18.250.2 as 64513;",
        "neighbor 198.18.250.2 as sixty-four;",
      );
      assert.notEqual(broken, goodConfig);
      const result = await daemon.apply(broken);
      assert.ok("error" in result, "apply() refuses it");
      assert.match(result.error, /syntax error/);
      assert.ok(
        result.error.includes(configPath()),
        `names the configuration file: ${result.error}`,
      );
      assert.equal(await readFile(configPath(), "utf8"), goodConfig, "the file is unchanged");
      assert.deepEqual(
        (await readdir(dir)).filter((f) => f.endsWith(".tmp")),
        [],
        "no temporary file is left",
      );
      assert.ok(established(["b-v4", "b-v6"])(await daemon.sessions()), "the sessions stay up");
    },
  );

  it("survives a wrong password: the session stays down, BIRD keeps running", TIMEOUT, async () => {
    const [pidBefore] = (await run("ip", "netns", "pids", A)).trim().split("\n");
    assert.deepEqual(await daemon.apply(rendered(new Map([["b-v4", "wrong"]]))), { ok: true });
    await eventually(
      "b-v4 down after the password change",
      () => daemon.sessions(),
      (s) => session(s, "b-v4")?.state !== "Established",
    );
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const sessions = await daemon.sessions();
    assert.notEqual(session(sessions, "b-v4")?.state, "Established", "TCP MD5 keeps it down");
    assert.equal(session(sessions, "b-v6")?.state, "Established", "the other session is untouched");
    assert.deepEqual((await run("ip", "netns", "pids", A)).trim().split("\n"), [pidBefore]);

    assert.deepEqual(await daemon.apply(goodConfig), { ok: true });
    await eventually(
      "b-v4 back with the right password",
      () => daemon.sessions(),
      established(["b-v4"]),
    );
  });

  it("restarts BIRD when it dies", TIMEOUT, async () => {
    const [pid] = (await run("ip", "netns", "pids", A)).trim().split("\n");
    assert.ok(pid, "BIRD runs in the node's namespace");
    process.kill(Number(pid), "SIGKILL");
    const pids = await eventually(
      "a new BIRD",
      () => run("ip", "netns", "pids", A),
      (out) => {
        const now = out.trim().split("\n").filter(Boolean);
        return now.length === 1 && now[0] !== pid;
      },
    );
    assert.ok(pids);
    await eventually(
      "sessions back after the restart",
      () => daemon.sessions(),
      established(["b-v4", "b-v6"]),
    );
  });

  it("stops BIRD and does not restart it", TIMEOUT, async () => {
    await daemon.stop();
    assert.equal((await run("ip", "netns", "pids", A)).trim(), "");
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    assert.equal((await run("ip", "netns", "pids", A)).trim(), "", "still stopped");
    await assert.rejects(daemon.sessions(), /BIRD is not running/);
  });
});
