// GoBGP's FIB installer for the lab router. gobgpd keeps its routes to itself: it
// programs a kernel only through FRR's zebra, and the zebra API of the FRR installed
// here (8.4) is newer than GoBGP 3's client understands (it crashes on zebra's
// interface messages). So with `lab up --router gobgp` this small process runs in the
// router namespace beside gobgpd and copies gobgpd's multipath routes into the kernel:
// for each prefix the paths equal to the best one (same local preference, AS path
// length, origin and MED — what BGP multipath compares) become one route with a next
// hop per path, `proto bgp`; routes of that protocol gobgpd no longer has are deleted.
//
// It resynchronises whenever `gobgp monitor global rib` reports a change (within
// milliseconds) and every RESYNC_MS regardless, so a missed event costs at most that.
// A lab helper, not a product: see docs/lab.md ("Routers").
//
// Run as: node gobgp-fib.ts --dir LABDIR --port 50051 --family ipv4 [--family ipv6]
import { spawn, type ChildProcess } from "node:child_process";
import { resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { parseIpRoutes, sortAddresses, type KernelRoute } from "./kernel-routes.ts";
import { ip, runIn } from "./netns.ts";

export type Family = "ipv4" | "ipv6";

/** One path as `gobgp global rib -j` prints it. */
export interface GobgpPath {
  best?: boolean;
  withdrawal?: boolean;
  attrs?: GobgpAttribute[];
}

interface GobgpAttribute {
  type: number;
  value?: number;
  metric?: number;
  nexthop?: string;
  nexthops?: string[];
  as_paths?: { segment_type: number; num?: number; asns?: number[] }[];
}

const ORIGIN = 1;
const AS_PATH = 2;
const NEXT_HOP = 3;
const MED = 4;
const LOCAL_PREF = 5;
const MP_REACH = 14;
const AS_SET = 1;

const RESYNC_MS = 2000;

/** The multipath route of each prefix in gobgpd's RIB (`gobgp global rib -a F -j`). */
export function multipathRoutes(rib: Record<string, GobgpPath[]>): KernelRoute[] {
  const routes: KernelRoute[] = [];
  for (const [prefix, all] of Object.entries(rib)) {
    const paths = all.filter((path) => !path.withdrawal);
    const best = paths.find((path) => path.best);
    if (!best) continue;
    const rank = rankOf(best);
    const nexthops = paths
      .filter((path) => rankOf(path) === rank)
      .map(nextHopOf)
      .filter((hop): hop is string => hop !== undefined);
    if (nexthops.length > 0) routes.push({ prefix, nexthops: sortAddresses(nexthops) });
  }
  return routes.sort((a, b) => (a.prefix < b.prefix ? -1 : a.prefix > b.prefix ? 1 : 0));
}

/** What multipath compares: paths with the same rank are equal. */
function rankOf(path: GobgpPath): string {
  const attribute = (type: number) => path.attrs?.find((attr) => attr.type === type);
  const asPathLength = (attribute(AS_PATH)?.as_paths ?? []).reduce(
    (length, segment) =>
      length + (segment.segment_type === AS_SET ? 1 : (segment.num ?? segment.asns?.length ?? 0)),
    0,
  );
  return [
    attribute(LOCAL_PREF)?.value ?? 100,
    asPathLength,
    attribute(ORIGIN)?.value ?? 0,
    attribute(MED)?.metric ?? 0,
  ].join(" ");
}

function nextHopOf(path: GobgpPath): string | undefined {
  for (const attr of path.attrs ?? []) {
    if (attr.type === NEXT_HOP && attr.nexthop) return attr.nexthop;
    if (attr.type === MP_REACH) {
      // A global next hop first; a link-local one would need its interface.
      const hops = [...(attr.nexthops ?? []), ...(attr.nexthop ? [attr.nexthop] : [])];
      const global = hops.find((hop) => !hop.toLowerCase().startsWith("fe80:"));
      if (global) return global;
    }
  }
  return undefined;
}

/** The `ip route` arguments that turn `installed` into `wanted` (family flag first). */
export function fibChanges(
  family: Family,
  wanted: readonly KernelRoute[],
  installed: readonly KernelRoute[],
): string[][] {
  const flag = family === "ipv4" ? "-4" : "-6";
  const have = new Map(installed.map((route) => [route.prefix, route.nexthops.join(" ")]));
  const changes: string[][] = [];
  for (const route of wanted) {
    if (have.get(route.prefix) === route.nexthops.join(" ")) continue;
    const via =
      route.nexthops.length === 1
        ? ["via", route.nexthops[0]!]
        : route.nexthops.flatMap((hop) => ["nexthop", "via", hop]);
    changes.push([flag, "route", "replace", route.prefix, "proto", "bgp", ...via]);
  }
  const keep = new Set(wanted.map((route) => route.prefix));
  for (const route of installed)
    if (!keep.has(route.prefix))
      changes.push([flag, "route", "delete", route.prefix, "proto", "bgp"]);
  return changes;
}

// ---- the process ----

interface Options {
  port: string;
  families: Family[];
}

function log(msg: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), msg, ...fields })}\n`);
}

async function installed(family: Family): Promise<KernelRoute[]> {
  return parseIpRoutes(
    await ip(null, [family === "ipv4" ? "-4" : "-6", "-j", "route", "show", "proto", "bgp"]),
  );
}

async function syncFamily(options: Options, family: Family): Promise<void> {
  const rib = await runIn(null, ["gobgp", "-p", options.port, "global", "rib", "-a", family, "-j"]);
  const wanted = multipathRoutes(
    rib.trim() ? (JSON.parse(rib) as Record<string, GobgpPath[]>) : {},
  );
  for (const change of fibChanges(family, wanted, await installed(family))) {
    try {
      await ip(null, change);
      log("route", { ip: change.join(" ") });
    } catch (error) {
      log("route failed", { ip: change.join(" "), error: (error as Error).message });
    }
  }
}

async function run(options: Options): Promise<void> {
  let syncing = false;
  let again = false;
  let lastError = "";
  const sync = async () => {
    if (syncing) {
      again = true;
      return;
    }
    syncing = true;
    do {
      again = false;
      try {
        for (const family of options.families) await syncFamily(options, family);
        if (lastError) log("gobgpd answers again");
        lastError = "";
      } catch (error) {
        // gobgpd not up yet, or restarting: said once, retried on the next event or tick.
        const message = (error as Error).message;
        if (message !== lastError) log("sync failed", { error: message });
        lastError = message;
      }
    } while (again);
    syncing = false;
  };

  let stopping = false;
  const monitors = new Set<ChildProcess>();
  // Any output of a monitor means the RIB changed; the full resync works out what.
  const monitor = async (family: Family) => {
    while (!stopping) {
      const child = spawn(
        "gobgp",
        ["-p", options.port, "monitor", "global", "rib", "-a", family, "-j"],
        { stdio: ["ignore", "pipe", "ignore"] },
      );
      monitors.add(child);
      child.stdout.on("data", () => void sync());
      await new Promise((done) => {
        child.once("exit", done);
        child.once("error", done);
      });
      monitors.delete(child);
      if (!stopping) await sleep(500);
    }
  };
  for (const family of options.families) void monitor(family);
  const timer = setInterval(() => void sync(), RESYNC_MS);
  void sync();
  log("started", { port: options.port, families: options.families });

  await new Promise<void>((done) => {
    process.once("SIGINT", done);
    process.once("SIGTERM", done);
  });
  stopping = true;
  clearInterval(timer);
  for (const child of monitors) child.kill("SIGTERM");
  // Like BIRD and zebra: a router whose BGP stops forgets the routes BGP gave it.
  for (const family of options.families)
    for (const route of await installed(family).catch(() => []))
      await ip(null, [
        family === "ipv4" ? "-4" : "-6",
        "route",
        "delete",
        route.prefix,
        "proto",
        "bgp",
      ]).catch(() => {});
  log("stopped");
}

function parseArgs(argv: readonly string[]): Options {
  const options: Options = { port: "50051", families: [] };
  for (let i = 0; i < argv.length; i++) {
    const value = argv[i + 1];
    if (argv[i] === "--port" && value) options.port = argv[++i]!;
    else if (argv[i] === "--family" && (value === "ipv4" || value === "ipv6"))
      options.families.push(argv[++i] as Family);
    else if (argv[i] === "--dir" && value)
      i++; // names the lab in the command line only
    else throw new Error(`gobgp-fib: unexpected argument ${argv[i]}`);
  }
  if (options.families.length === 0) options.families.push("ipv4");
  return options;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url))
  await run(parseArgs(process.argv.slice(2)));
