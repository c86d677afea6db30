// Driving a running lab from a program: the demo, the network tests and the failover
// benchmark all create pools and services, wait for addresses, look at which node holds
// one and measure outages from the client. One place for that, so the three agree.
import { execFile, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { loadKubeConfig } from "../kube/kubeconfig.ts";
import { CLIENT_HEADER } from "./backend.ts";
import { LabApi } from "./api.ts";
import type { LabInfo } from "./info.ts";
import { HERALD } from "./processes.ts";
import {
  neighbourMoves,
  parseNeighbourEvents,
  type NeighbourEvent,
  type NeighbourMove,
} from "./neighbour-moves.ts";
import type { ProbeSample } from "./probe.ts";

const run = promisify(execFile);

/** The BFD timers the lab's routers run towards the nodes (router-config.ts). */
export const ROUTER_BFD = { minRxMs: 100, minTxMs: 100, multiplier: 3 } as const;

export interface ServiceState {
  addresses: string[];
  annotations: Record<string, string>;
  conditions: { type: string; status: string; reason?: string; message?: string }[];
}

export class LabSession {
  readonly info: LabInfo;
  readonly api: LabApi;
  readonly #close: () => Promise<void>;

  private constructor(info: LabInfo, api: LabApi, close: () => Promise<void>) {
    this.info = info;
    this.api = api;
    this.#close = close;
  }

  static open(info: LabInfo): LabSession {
    const config = loadKubeConfig(info.kubeconfig);
    return new LabSession(info, new LabApi(config), () => config.close());
  }

  close(): Promise<void> {
    return this.#close();
  }

  /** The namespace behind a short name: client, lanclient, router, lan, node1… */
  namespace(where: string): string {
    const found =
      where in this.info.namespaces.nodes
        ? this.info.namespaces.nodes[where]
        : (this.info.namespaces as unknown as Record<string, string>)[where];
    if (!found) throw new Error(`no namespace ${where} in the lab`);
    return found;
  }

  /** Runs a command in a lab namespace and returns its stdout; throws on a non-zero exit. */
  async exec(where: string, argv: readonly string[], timeoutMs = 10_000): Promise<string> {
    const { stdout } = await run("ip", ["netns", "exec", this.namespace(where), ...argv], {
      timeout: timeoutMs,
    });
    return stdout;
  }

  /** Like exec, but a failure is a result, not an exception. */
  async tryExec(where: string, argv: readonly string[], timeoutMs = 10_000) {
    try {
      return { ok: true, output: await this.exec(where, argv, timeoutMs) };
    } catch (error) {
      const failed = error as { stdout?: string; stderr?: string; message: string };
      return { ok: false, output: `${failed.stdout ?? ""}${failed.stderr ?? failed.message}` };
    }
  }

  /** An HTTP GET from a lab namespace (curl), answering with the body's first line. */
  async curl(where: string, address: string, timeoutMs = 3000): Promise<string> {
    const host = address.includes(":") ? `[${address}]` : address;
    const output = await this.exec(
      where,
      ["curl", "-sS", "--max-time", String(timeoutMs / 1000), `http://${host}/`],
      timeoutMs + 2000,
    );
    return output.split("\n")[0] ?? "";
  }

  /**
   * A client source port whose TCP connections to `address` the router sends via
   * `nexthop` (its ECMP hash, as `ip route get` computes it), for a test to open one
   * through a given node. The search starts at a random port: a node that served the
   * same four-tuple in the last two minutes still has its conntrack entry (TIME_WAIT), and
   * takes a moved segment of the new connection for the old one's.
   */
  async sourcePortVia(address: string, nexthop: string): Promise<number> {
    const links = JSON.parse(await this.exec("router", ["ip", "-j", "-4", "addr", "show"])) as {
      ifname: string;
      addr_info: { local: string }[];
    }[];
    const towardsClient = links.find((l) =>
      l.addr_info.some((a) => a.local === this.info.router.client.ipv4),
    );
    if (!towardsClient) throw new Error("no router interface towards the client");
    // Below the ephemeral range (32768 on), where the probes' own connections take theirs.
    const first = 10000 + Math.floor(Math.random() * 20000);
    for (let port = first; port < first + 200; port++) {
      const [route] = JSON.parse(
        await this.exec("router", [
          "ip",
          "-j",
          "route",
          "get",
          address,
          "from",
          this.info.client.ipv4!,
          "iif",
          towardsClient.ifname,
          "ipproto",
          "tcp",
          "sport",
          String(port),
          "dport",
          String(this.info.backends.port),
        ]),
      ) as { gateway?: string }[];
      if (route?.gateway === nexthop) return port;
    }
    throw new Error(`no source port reaches ${address} via ${nexthop}`);
  }

  /**
   * Opens the lab backend's /stream from a lab namespace: `lines` lines, one every
   * `everyMs`, from `localPort` when given (for a test to know the ECMP path it takes).
   * Resolves when the connection ends, with when it opened and closed, how curl
   * exited (0: the whole answer came) and the lines it got.
   */
  stream(
    where: string,
    address: string,
    lines: number,
    everyMs: number,
    localPort?: number,
  ): Promise<{ startedAt: number; endedAt: number; exitCode: number; lines: string[] }> {
    const host = address.includes(":") ? `[${address}]` : address;
    const url = `http://${host}/stream?lines=${lines}&everyMs=${everyMs}`;
    const limit = String(Math.ceil((lines * everyMs) / 1000) + 5);
    const startedAt = Date.now();
    return new Promise((resolve) => {
      const child = spawn(
        "ip",
        [
          "netns",
          "exec",
          this.namespace(where),
          "curl",
          ...(localPort === undefined ? [] : ["--local-port", String(localPort)]),
          "-sS",
          "-N",
          "--max-time",
          limit,
          url,
        ],
        {
          stdio: ["ignore", "pipe", "pipe"],
        },
      );
      let output = "";
      child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
      child.on("close", (code) =>
        resolve({
          startedAt,
          endedAt: Date.now(),
          exitCode: code ?? -1,
          lines: output.split("\n").filter((line) => line !== ""),
        }),
      );
    });
  }

  /**
   * As curl, with the status and the client's address as the serving backend saw it
   * (the lab backend's header): the client's own, or a node's when its source was NATed.
   */
  async get(
    where: string,
    address: string,
    timeoutMs = 3000,
  ): Promise<{ status: number; node: string; client: string }> {
    const host = address.includes(":") ? `[${address}]` : address;
    const output = await this.exec(
      where,
      [
        "curl",
        "-sS",
        "--max-time",
        String(timeoutMs / 1000),
        "-w",
        `\n%{http_code} %header{${CLIENT_HEADER}}`,
        `http://${host}/`,
      ],
      timeoutMs + 2000,
    );
    const lines = output.trimEnd().split("\n");
    const [status, client] = (lines.at(-1) ?? "").split(" ");
    return { status: Number(status), node: lines[0] ?? "", client: client ?? "" };
  }

  /** Nodes whose kernel holds `address` on some interface (`ip -j addr` in each node). */
  async holders(address: string): Promise<string[]> {
    const found: string[] = [];
    for (const node of this.info.nodes) {
      const { ok, output } = await this.tryExec(node.name, ["ip", "-j", "addr", "show"]);
      if (!ok) continue;
      const links = JSON.parse(output) as { addr_info?: { local?: string }[] }[];
      if (links.some((link) => link.addr_info?.some((a) => a.local === address)))
        found.push(node.name);
    }
    return found;
  }

  /** The MAC the router's neighbour table has for `address`, if any. */
  async routerNeighbour(address: string): Promise<string | undefined> {
    const output = await this.exec("router", ["ip", "-j", "neigh", "show", address]);
    const entries = JSON.parse(output || "[]") as { lladdr?: string }[];
    return entries[0]?.lladdr;
  }

  /**
   * What the agents logged from `since` (ms) on, one short line each, in time order: for
   * a failed assertion to say what the agents did meanwhile.
   */
  agentLog(since: number): string {
    const lines: { time: number; text: string }[] = [];
    for (const node of this.info.nodes) {
      let content: string;
      try {
        content = readFileSync(join(this.info.dir, "logs", `agent-${node.name}.log`), "utf8");
      } catch {
        continue;
      }
      for (const line of content.split("\n")) {
        if (!line.startsWith("{")) continue;
        let entry: Record<string, unknown>;
        try {
          entry = JSON.parse(line) as Record<string, unknown>;
        } catch {
          continue;
        }
        const time = Number(entry["time"]);
        if (!(time >= since) || Number(entry["level"]) < 30) continue;
        const what = ["address", "member", "reason", "marks", "err"]
          .filter((key) => entry[key] !== undefined)
          .map((key) => `${key}=${JSON.stringify(entry[key])}`)
          .join(" ");
        const stamp = new Date(time).toISOString().slice(11, 23);
        lines.push({ time, text: `${stamp} ${node.name} ${String(entry["msg"])} ${what}` });
      }
    }
    return lines
      .sort((a, b) => a.time - b.time)
      .map((l) => l.text)
      .join("\n");
  }

  /**
   * Records the neighbour table changes in a namespace (`ip -ts monitor neigh`) until
   * `stop()`, or for at most `maxMs`, so that a test sees each move of an address's MAC.
   */
  watchNeighbours(where: string, maxMs = 120_000): { stop(): Promise<NeighbourEvent[]> } {
    const child = spawn(
      "ip",
      [
        "netns",
        "exec",
        this.namespace(where),
        "timeout",
        `${Math.ceil(maxMs / 1000)}`,
        "ip",
        "-ts",
        "monitor",
        "neigh",
      ],
      { stdio: ["ignore", "pipe", "ignore"] },
    );
    let output = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (output += chunk));
    const closed = new Promise<void>((resolve) => child.on("close", () => resolve()));
    return {
      async stop() {
        // Let the last change reach the monitor before it goes.
        await new Promise((resolve) => setTimeout(resolve, 100));
        child.kill("SIGTERM");
        await closed;
        return parseNeighbourEvents(output);
      },
    };
  }

  /** Runs `steps` and says how the router's neighbour entry for `address` moved meanwhile. */
  async routerMovesDuring<T>(
    address: string,
    steps: () => Promise<T>,
  ): Promise<{ result: T; moves: NeighbourMove[] }> {
    const initial = await this.routerNeighbour(address);
    const watch = this.watchNeighbours("router");
    try {
      const result = await steps();
      return { result, moves: neighbourMoves(await watch.stop(), address, initial) };
    } catch (error) {
      await watch.stop();
      throw error;
    }
  }

  async applyPool(name: string, spec: Record<string, unknown>): Promise<void> {
    const path = "/apis/herald.dev/v1alpha1/addresspools";
    const body = {
      apiVersion: "herald.dev/v1alpha1",
      kind: "AddressPool",
      metadata: { name },
      spec,
    };
    try {
      await this.api.create(path, body);
    } catch {
      await this.api.mergePatch(`${path}/${name}`, { spec });
    }
  }

  /**
   * A BGPPeer for the lab's router at its address of `family`, from the nodes' AS, with
   * BFD at 100 ms × 3 where the router's daemon has BFD (GoBGP has none).
   */
  async peerWithRouter(
    name: string,
    options: { family?: "ipv4" | "ipv6"; spec?: Record<string, unknown> } = {},
  ): Promise<void> {
    const bgp = this.info.bgp;
    const peerAddress = bgp.routerAddress[options.family ?? "ipv4"];
    if (!peerAddress) throw new Error(`the lab's router has no ${options.family} address`);
    await this.api.create("/apis/herald.dev/v1alpha1/bgppeers", {
      apiVersion: "herald.dev/v1alpha1",
      kind: "BGPPeer",
      metadata: { name },
      spec: {
        peerAddress,
        peerASN: bgp.routerASN,
        localASN: bgp.nodeASN,
        ...(bgp.router === "gobgp" ? {} : { bfd: ROUTER_BFD }),
        ...options.spec,
      },
    });
  }

  async advertise(name: string, spec: Record<string, unknown>): Promise<void> {
    await this.api.create("/apis/herald.dev/v1alpha1/bgpadvertisements", {
      apiVersion: "herald.dev/v1alpha1",
      kind: "BGPAdvertisement",
      metadata: { name },
      spec,
    });
  }

  async createService(
    name: string,
    spec: Record<string, unknown>,
    annotations: Record<string, string> = {},
  ): Promise<void> {
    await this.api.create(`/api/v1/namespaces/default/services`, {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name, annotations },
      spec: {
        type: "LoadBalancer",
        selector: this.info.backends.labels,
        ports: [{ name: "http", port: 80, targetPort: this.info.backends.port, protocol: "TCP" }],
        ...spec,
      },
    });
  }

  async service(name: string): Promise<ServiceState> {
    const service = (await this.api.request(
      "GET",
      `/api/v1/namespaces/default/services/${name}`,
    )) as {
      metadata?: { annotations?: Record<string, string> };
      status?: {
        loadBalancer?: { ingress?: { ip?: string }[] };
        conditions?: ServiceState["conditions"];
      };
    };
    return {
      addresses: (service.status?.loadBalancer?.ingress ?? []).flatMap((i) => (i.ip ? [i.ip] : [])),
      annotations: service.metadata?.annotations ?? {},
      conditions: service.status?.conditions ?? [],
    };
  }

  /**
   * Waits until `node`'s restarted agent has taken over: it clears the restart mark its
   * predecessor left once it announces again (what a DaemonSet rollout waits for, as
   * readiness).
   */
  async agentTookOver(node: string, timeoutMs = 15_000): Promise<void> {
    await waitUntil(
      `${node}'s new agent to take over from the old`,
      async () => {
        const state = (await this.api.request(
          "GET",
          `/apis/herald.dev/v1alpha1/nodestates/${node}`,
        )) as { metadata: { annotations?: Record<string, string> } };
        return state.metadata.annotations?.["herald.dev/restarting-until"] === undefined;
      },
      timeoutMs,
    );
  }

  async events(name: string): Promise<{ reason: string; message: string; source: string }[]> {
    const list = (await this.api.request(
      "GET",
      `/api/v1/namespaces/default/events?fieldSelector=involvedObject.name=${name}`,
    )) as {
      items: {
        reason?: string;
        message?: string;
        reportingInstance?: string;
        source?: { component?: string; host?: string };
      }[];
    };
    return list.items.map((e) => ({
      reason: e.reason ?? "",
      message: e.message ?? "",
      source: e.reportingInstance ?? e.source?.host ?? e.source?.component ?? "",
    }));
  }

  /**
   * Starts the lab's prober in a namespace: a GET on a new connection every `intervalMs`.
   * `result` resolves with every sample when it ends.
   */
  probe(
    where: string,
    address: string,
    options: { intervalMs: number; timeoutMs: number; durationMs: number },
  ): { result: Promise<ProbeSample[]> } {
    const host = address.includes(":") ? `[${address}]` : address;
    const child = spawn(
      "ip",
      [
        "netns",
        "exec",
        this.namespace(where),
        process.execPath,
        HERALD,
        "lab",
        "probe",
        `http://${host}/`,
        "--interval",
        String(options.intervalMs),
        "--timeout",
        String(options.timeoutMs),
        "--duration",
        String(options.durationMs),
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const result = new Promise<ProbeSample[]>((resolve, reject) => {
      child.on("error", reject);
      child.on("close", (code) => {
        if (code !== 0) reject(new Error(`lab probe exited ${code}: ${stderr}`));
        else resolve(JSON.parse(stdout) as ProbeSample[]);
      });
    });
    return { result };
  }
}

/** Polls until `check` gives a value other than undefined/false; throws after `ms`. */
export async function waitUntil<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  ms = 15_000,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${ms} ms waiting for ${what}${last ? `: ${String(last)}` : ""}`,
      );
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
