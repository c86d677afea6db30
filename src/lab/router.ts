// The lab router's BGP daemon (`lab up --router bird|frr|gobgp`): its processes, and
// what tests and the demo read from it — the router's kernel routes with their next
// hops, and the state of its session with each node — in one shape whichever daemon
// runs. The configuration itself is router-config.ts; docs/lab.md ("Routers") says what
// each daemon does.
//
// Everything a daemon needs lives in the lab directory's router/ (configuration,
// control sockets, FRR's pid files), and its API or vty listens only inside the router
// namespace, so several labs, and a BGP daemon of the host's own, never meet.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { chown, mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { setTimeout as sleep } from "node:timers/promises";
import { LabError } from "./error.ts";
import type { LabInfo } from "./info.ts";
import { normalizePrefix, parseIpRoutes, type KernelRoute } from "./kernel-routes.ts";
import { ip, runIn } from "./netns.ts";
import { startProcess, type ProcessSpec } from "./processes.ts";
import {
  birdConfig,
  birdSocket,
  controlCommand,
  frrConfigs,
  GOBGP_API_PORT,
  gobgpConfig,
  routerDir,
  routerPeers,
  type RouterKind,
} from "./router-config.ts";
import { birdPaths, frrPaths, gobgpPaths, type RouterPath } from "./router-paths.ts";
import {
  birdProtocolStates,
  frrNeighborStates,
  gobgpNeighborStates,
  type SessionReading,
} from "./router-sessions.ts";
import type { LabFiles } from "./state.ts";
import type { Topology } from "./topology.ts";

export { ROUTERS, type RouterKind } from "./router-config.ts";

const exec = promisify(execFile);

/** The FIB installer that runs beside gobgpd (gobgp-fib.ts). */
const GOBGP_FIB = fileURLToPath(new URL("./gobgp-fib.ts", import.meta.url));
/** Where distributions put FRR's daemons (Debian and Ubuntu; Fedora and others). */
const FRR_DIRS = ["/usr/lib/frr", "/usr/libexec/frr"];
const FRR_TMP = "/var/tmp/frr";

export interface RouterSession {
  neighbor: string;
  /** "Established" when up; otherwise the daemon's word for where the session is. */
  state: string;
  /** Changes whenever the session goes up or down (router-sessions.ts). */
  since: string;
}

/** The processes that make up the router's BGP, in the order they start. */
export function routerSpecs(shape: Topology, files: LabFiles): ProcessSpec[] {
  const router = shape.options.router ?? null;
  if (router === null) return [];
  const dir = routerDir(files.dir);
  const namespace = shape.routerNamespace;
  switch (router) {
    case "bird":
      return [
        {
          role: "router-bird",
          namespace,
          program: ["bird"],
          args: ["-f", "-c", join(dir, "bird.conf"), "-s", birdSocket(files.dir)],
        },
      ];
    case "gobgp":
      return [
        {
          role: "router-gobgpd",
          namespace,
          program: ["gobgpd"],
          args: [
            "-f",
            join(dir, "gobgpd.toml"),
            "--api-hosts",
            `127.0.0.1:${GOBGP_API_PORT}`,
            "--pprof-disable",
            "-l",
            "info",
          ],
        },
        {
          role: "router-fib",
          namespace,
          program: [process.execPath, GOBGP_FIB],
          args: [
            "--dir",
            files.dir,
            "--port",
            String(GOBGP_API_PORT),
            "--family",
            "ipv4",
            ...(shape.options.ipv6 ? ["--family", "ipv6"] : []),
          ],
        },
      ];
    case "frr":
      return frrSpecs("router-", namespace, dir, ["zebra", "bfdd", "bgpd"]);
  }
}

/**
 * FRR daemons as lab processes (role `${rolePrefix}${daemon}`), each given every path it
 * would otherwise take from /etc/frr and /var/run/frr: configuration `${dir}/${daemon}.conf`,
 * vty sockets (also vtysh's --vty_socket), the zebra API socket, pid files. -P 0: no vty
 * on TCP. zebra must be first.
 */
export function frrSpecs(
  rolePrefix: string,
  namespace: string,
  dir: string,
  daemons: readonly ("zebra" | "bfdd" | "bgpd")[],
): ProcessSpec[] {
  const frr = frrDir() ?? FRR_DIRS[0]!;
  return daemons.map((name) => ({
    role: `${rolePrefix}${name}`,
    namespace,
    program: [join(frr, name)],
    args: [
      "-f",
      join(dir, `${name}.conf`),
      "--vty_socket",
      dir,
      "-z",
      join(dir, "zserv.api"),
      "-i",
      join(dir, `${name}.pid`),
      "-P",
      "0",
      "--log",
      "stdout",
      "--log-level",
      "info",
      ...(name === "bfdd" ? ["--bfdctl", join(dir, "bfdd.sock")] : []),
    ],
  }));
}

/**
 * Writes FRR's configuration files into `dir` and starts the daemons of `specs` (zebra
 * first; the others once its API socket exists).
 */
export async function startFrr(
  files: LabFiles,
  dir: string,
  configs: Readonly<Record<string, string>>,
  specs: readonly ProcessSpec[],
): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const [daemon, text] of Object.entries(configs))
    await writeFile(join(dir, `${daemon}.conf`), text);
  // FRR's daemons drop to the user frr, who must create their sockets here.
  const ids = await userIds("frr");
  if (ids === undefined) throw new LabError("FRR's user frr does not exist");
  await chown(dir, ids.uid, ids.gid);
  // zebra first: bgpd and bfdd talk to each other through it.
  const [zebra, ...rest] = specs;
  startProcess(files, zebra!);
  const deadline = Date.now() + 5000;
  while (!existsSync(join(dir, "zserv.api")) && Date.now() < deadline) await sleep(25);
  for (const spec of rest) startProcess(files, spec);
}

/** A LabError naming what to install when the chosen daemon is missing. */
export async function checkRouterTools(router: RouterKind | null): Promise<void> {
  if (router === null) return;
  const missing = async (programs: string[]) => {
    const absent: string[] = [];
    for (const program of programs) if (!(await onPath(program))) absent.push(program);
    return absent;
  };
  if (router === "bird") {
    const absent = await missing(["bird", "birdc"]);
    if (absent.length > 0)
      throw new LabError(
        `--router bird needs BIRD 2 (${absent.join(", ")} missing): apt-get install bird2`,
      );
  } else if (router === "gobgp") {
    const absent = await missing(["gobgpd", "gobgp"]);
    if (absent.length > 0)
      throw new LabError(
        `--router gobgp needs GoBGP (${absent.join(", ")} missing): apt-get install gobgpd`,
      );
  } else {
    const dir = frrDir();
    const absent = dir === undefined ? ["zebra, bgpd, bfdd"] : await missing(["vtysh"]);
    if (absent.length > 0)
      throw new LabError(
        `--router frr needs FRR (${absent.join(", ")} missing in ${FRR_DIRS.join(" or ")}): apt-get install frr`,
      );
    if ((await userIds("frr")) === undefined)
      throw new LabError("--router frr needs FRR's user frr, which its package creates");
  }
}

/** Writes the configuration and starts the daemon(s); returns once each has started. */
export async function startRouter(shape: Topology, files: LabFiles): Promise<void> {
  const router = shape.options.router ?? null;
  if (router === null) return;
  const dir = routerDir(files.dir);
  await mkdir(dir, { recursive: true });
  const specs = routerSpecs(shape, files);
  if (router === "bird") {
    await writeFile(join(dir, "bird.conf"), birdConfig(shape));
  } else if (router === "gobgp") {
    await writeFile(join(dir, "gobgpd.toml"), gobgpConfig(shape));
  } else {
    await startFrr(files, dir, frrConfigs(shape), specs);
    return;
  }
  for (const spec of specs) startProcess(files, spec);
}

/**
 * What the router's daemons leave outside the lab directory once stopped: FRR's daemons
 * keep a crash-log directory /var/tmp/frr/<daemon>.<pid>, removed when they exit
 * cleanly but not after a SIGKILL. `running` is role → pid of the lab's processes.
 */
export async function removeRouterLeftovers(running: ReadonlyMap<string, number>): Promise<void> {
  for (const daemon of ["zebra", "bfdd", "bgpd"]) {
    const pid = running.get(`router-${daemon}`);
    if (pid !== undefined)
      await rm(join(FRR_TMP, `${daemon}.${pid}`), { recursive: true, force: true });
  }
}

/**
 * The router's kernel routes that go through a gateway (both families with --ipv6),
 * with their next hops sorted; only `prefix`'s when given ("198.19.0.5" means /32).
 */
export async function routerRoutes(info: LabInfo, prefix?: string): Promise<KernelRoute[]> {
  const wanted = prefix === undefined ? undefined : normalizePrefix(prefix);
  const routes: KernelRoute[] = [];
  for (const family of info.ipv6 ? ["-4", "-6"] : ["-4"])
    routes.push(
      ...parseIpRoutes(await ip(info.namespaces.router, [family, "-j", "route", "show"])),
    );
  return wanted === undefined ? routes : routes.filter((route) => route.prefix === wanted);
}

/** The router's BGP session with each node address (node order, IPv4 then IPv6). */
export async function routerSessions(info: LabInfo): Promise<RouterSession[]> {
  const router = info.bgp.router;
  if (router === null)
    throw new LabError(`lab ${info.name} runs no BGP daemon on its router (lab up --router …)`);
  const peers = routerPeers(info.nodes);
  const control = controlCommand(router, info.dir);
  const namespace = info.namespaces.router;
  let states: Map<string, SessionReading>;
  if (router === "bird") {
    const text = await runIn(namespace, [...control, "show", "protocols"]);
    const byName = birdProtocolStates(text);
    states = new Map(
      peers.flatMap((peer) => {
        const reading = byName.get(peer.name);
        return reading ? [[peer.address, reading] as const] : [];
      }),
    );
  } else if (router === "gobgp") {
    states = gobgpNeighborStates(await runIn(namespace, [...control, "neighbor", "-j"]));
  } else {
    states = frrNeighborStates(
      await runIn(namespace, [...control, "-c", "show bgp neighbors json"]),
    );
  }
  return peers.map((peer) => ({
    neighbor: peer.address,
    state: states.get(peer.address)?.state ?? "unknown",
    since: states.get(peer.address)?.since ?? "",
  }));
}

/** The paths the router's daemon holds for `prefix` ("198.19.0.5/32"), one per node. */
export async function routerPaths(info: LabInfo, prefix: string): Promise<RouterPath[]> {
  const router = info.bgp.router;
  if (router === null)
    throw new LabError(`lab ${info.name} runs no BGP daemon on its router (lab up --router …)`);
  const wanted = normalizePrefix(prefix);
  const family = wanted.includes(":") ? "ipv6" : "ipv4";
  const control = controlCommand(router, info.dir);
  const namespace = info.namespaces.router;
  switch (router) {
    case "bird":
      return birdPaths(
        await runIn(namespace, [
          ...control,
          "show",
          "route",
          wanted,
          "table",
          `master${family.slice(3)}`,
          "all",
        ]),
      );
    case "frr":
      return frrPaths(
        await runIn(namespace, [...control, "-c", `show bgp ${family} unicast ${wanted} json`]),
      );
    case "gobgp":
      return gobgpPaths(
        await runIn(namespace, [...control, "global", "rib", "-a", family, wanted, "-j"]),
      );
  }
}

function frrDir(): string | undefined {
  return FRR_DIRS.find((dir) =>
    ["zebra", "bgpd", "bfdd"].every((daemon) => existsSync(join(dir, daemon))),
  );
}

async function onPath(program: string): Promise<boolean> {
  try {
    await exec("sh", ["-c", 'command -v "$1"', "sh", program]);
    return true;
  } catch {
    return false;
  }
}

async function userIds(user: string): Promise<{ uid: number; gid: number } | undefined> {
  try {
    const [uid, gid] = await Promise.all([
      exec("id", ["-u", user]).then(({ stdout }) => Number(stdout.trim())),
      exec("id", ["-g", user]).then(({ stdout }) => Number(stdout.trim())),
    ]);
    return Number.isInteger(uid) && Number.isInteger(gid) ? { uid, gid } : undefined;
  } catch {
    return undefined;
  }
}
