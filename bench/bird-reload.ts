// BIRD with many routed addresses (root, iproute2, bird2): a node namespace whose kube-lb0
// holds N /32 addresses, its BIRD driven by the agent's BirdDaemon with the configuration
// the agent renders (one export filter naming every prefix), and a router namespace whose
// BIRD counts what it learns. Measures the first start with N routes, then reloads that
// add one address each (`bird -p` + `birdc configure` through BirdDaemon.apply) and the time
// until the router holds every route. Prints one JSON object.
// Usage: node bench/bird-reload.ts [addresses] [reloads]
import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { BirdDaemon } from "../src/agent/bird/daemon.ts";
import type { RoutedPrefix } from "../src/agent/bird/policy.ts";
import { renderBirdConfig } from "../src/agent/bird/render.ts";
import { createLogger } from "../src/log.ts";

const count = Number(process.argv[2] ?? 10_000);
const reloads = Number(process.argv[3] ?? 5);
const exec = promisify(execFile);
const id = randomBytes(3).toString("hex");
const NODE = `hbr-${id}-n`;
const ROUTER = `hbr-${id}-r`;

const run = async (...argv: string[]) =>
  (await exec(argv[0]!, argv.slice(1), { maxBuffer: 1 << 26 })).stdout;
const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** The i-th address of 198.19.0.0/16 (benchmark space, RFC 2544). */
const address = (i: number) => `198.19.${Math.floor(i / 256)}.${i % 256}`;

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 120_000) {
  const deadline = performance.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const dir = await mkdtemp(join(tmpdir(), "herald-bird-reload-"));
const routerSocket = join(dir, "router.ctl");
const routesAtRouter = async () => {
  // "10000 of 10000 routes for 10000 networks in table master4"
  const out = await run("birdc", "-s", routerSocket, "show", "route", "count");
  return Number(/(\d+) of \d+ routes/.exec(out)?.[1] ?? 0);
};
let daemon: BirdDaemon | undefined;
let router: ReturnType<typeof spawn> | undefined;
const result: Record<string, unknown> = { addresses: count };
try {
  await run("ip", "netns", "add", NODE);
  await run("ip", "netns", "add", ROUTER);
  await run(
    "ip",
    "link",
    "add",
    "eth0",
    "netns",
    NODE,
    "type",
    "veth",
    "peer",
    "eth0",
    "netns",
    ROUTER,
  );
  for (const [ns, last] of [
    [NODE, "1"],
    [ROUTER, "2"],
  ] as const) {
    await run("ip", "-n", ns, "link", "set", "lo", "up");
    await run("ip", "-n", ns, "addr", "add", `198.18.251.${last}/24`, "dev", "eth0");
    await run("ip", "-n", ns, "link", "set", "eth0", "up");
  }
  // The agent's kube-lb0 where the kernel has no dummy driver, holding every address.
  await run("ip", "-n", NODE, "link", "add", "kube-lb0", "type", "bridge");
  await run("ip", "-n", NODE, "link", "set", "kube-lb0", "up");
  const batch = join(dir, "addresses.batch");
  await writeFile(
    batch,
    Array.from({ length: count + reloads }, (_, i) =>
      i < count ? `addr add ${address(i)}/32 dev kube-lb0 noprefixroute` : "",
    ).join("\n"),
  );
  await run("ip", "-n", NODE, "-batch", batch);

  await writeFile(
    join(dir, "router.conf"),
    [
      "router id 198.18.251.2;",
      "protocol device {}",
      "protocol bgp node { local as 64512; neighbor 198.18.251.1 as 64513; ipv4 { import all; export none; }; }",
    ].join("\n"),
  );
  router = spawn(
    "ip",
    ["netns", "exec", ROUTER, "bird", "-f", "-c", join(dir, "router.conf"), "-s", routerSocket],
    { stdio: "ignore" },
  );

  daemon = new BirdDaemon({
    configPath: join(dir, "bird.conf"),
    socketPath: join(dir, "bird.ctl"),
    netns: NODE,
    log: createLogger("silent"),
  });
  const render = (n: number) => {
    const routes: RoutedPrefix[] = Array.from({ length: n }, (_, i) => ({
      prefix: `${address(i)}/32`,
      pool: "routed",
      family: "IPv4",
    }));
    const started = performance.now();
    const rendered = renderBirdConfig({
      node: { name: "node", labels: {}, ipv4: "198.18.251.1" },
      settings: { virtualInterface: "kube-lb0" },
      peers: [
        { name: "up", spec: { peerAddress: "198.18.251.2", peerASN: 64512, localASN: 64513 } },
      ],
      advertisements: [{ name: "all", spec: {} }],
      poolLabels: new Map([["routed", {}]]),
      routes,
      passwords: new Map(),
    });
    if ("error" in rendered) throw new Error(rendered.error);
    return { config: rendered.config, renderMs: performance.now() - started };
  };

  const first = render(count);
  result.configBytes = first.config.length;
  result.renderMs = Math.round(first.renderMs);
  let started = performance.now();
  const applied = await daemon.apply(first.config);
  if ("error" in applied) throw new Error(applied.error);
  result.firstApplyMs = Math.round(performance.now() - started);
  await until("every route at the router", async () => (await routesAtRouter()) === count);
  result.firstStartToAllRoutesAtRouterMs = Math.round(performance.now() - started);

  const applyMs: number[] = [];
  const toRouterMs: number[] = [];
  for (let r = 0; r < reloads; r++) {
    const n = count + r + 1;
    await run(
      "ip",
      "-n",
      NODE,
      "addr",
      "add",
      `${address(n - 1)}/32`,
      "dev",
      "kube-lb0",
      "noprefixroute",
    );
    const next = render(n);
    started = performance.now();
    const reloaded = await daemon.apply(next.config);
    if ("error" in reloaded) throw new Error(reloaded.error);
    applyMs.push(performance.now() - started);
    await until("the new route at the router", async () => (await routesAtRouter()) === n);
    toRouterMs.push(performance.now() - started);
  }
  result.reload = {
    what: "one address added to the rendered configuration: bird -p, then birdc configure",
    applyMs: { median: Math.round(median(applyMs)), max: Math.round(Math.max(...applyMs)) },
    toNewRouteAtRouterMs: {
      median: Math.round(median(toRouterMs)),
      max: Math.round(Math.max(...toRouterMs)),
    },
    samples: applyMs.map(Math.round),
  };
} finally {
  await daemon?.stop().catch(() => undefined);
  router?.kill("SIGTERM");
  for (const ns of [NODE, ROUTER]) await run("ip", "netns", "del", ns).catch(() => undefined);
  await rm(dir, { recursive: true, force: true });
}
console.log(JSON.stringify(result));
