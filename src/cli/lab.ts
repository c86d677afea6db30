// `herald lab …`: a whole bare-metal cluster in network namespaces on this host. The
// work is in src/lab/; this file turns flags into calls and results into text. Each
// command loads only what it needs: `lab backend` runs once per node and should not
// pay for the Kubernetes client.
import type { LabInfo } from "../lab/info.ts";
import { controlExamples, type RouterKind } from "../lab/router-config.ts";
import type { LabRef, LabStatus } from "../lab/status.ts";
import type { FailureMode } from "../lab/state.ts";
import type { CommandIO } from "./plan.ts";
import { formatTable } from "./table.ts";

export interface LabUpCommandOptions extends LabRef {
  nodes: number;
  ipv6: boolean;
  index?: number;
  agents: boolean;
  router?: RouterKind;
  ibgp?: boolean;
  kube?: "devkube" | "real";
  proxyMode?: "nftables" | "iptables" | "ipvs";
  image?: string;
  daemonset?: boolean;
}

export interface LabDemoCommandOptions {
  name: string;
  nodes: number;
  keep: boolean;
  router: RouterKind;
  kube?: "devkube" | "real";
}

type Output = Pick<CommandIO, "stdout" | "stderr">;

/**
 * Runs `work`, turning a LabError (the user's to fix) or a failed `ip` command (this
 * machine's: a missing kernel feature, a name in use) into a message and exit code 1.
 */
async function guarded(io: Output, work: () => Promise<number>): Promise<number> {
  const [{ LabError }, { CommandError }] = await Promise.all([
    import("../lab/error.ts"),
    import("../lab/netns.ts"),
  ]);
  try {
    return await work();
  } catch (error) {
    if (!(error instanceof LabError || error instanceof CommandError)) throw error;
    io.stderr(`herald lab: ${error.message}\n`);
    return 1;
  }
}

export async function runLabUp(options: LabUpCommandOptions, io: Output): Promise<number> {
  const { labUp } = await import("../lab/lab.ts");
  return guarded(io, async () => {
    const started = performance.now();
    const { state, warnings } = await labUp({ ...options, daemonSet: options.daemonset ?? false });
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    io.stdout(`lab ${state.name} is up in ${seconds}s\n\n${describe(state)}`);
    io.stdout(
      `\nTry:\n  export KUBECONFIG=${state.kubeconfig}\n  kubectl get nodes\n` +
        `  herald lab exec lanclient -- curl -s http://${state.nodes[0]!.ipv4}/\n` +
        `Logs are in ${state.dir}/logs/. Take it down with: herald lab down --name ${state.name}\n`,
    );
    for (const warning of warnings) io.stderr(`warning: ${warning}\n`);
    return 0;
  });
}

export async function runLabDemo(options: LabDemoCommandOptions, io: Output): Promise<number> {
  const { runDemo } = await import("../lab/demo.ts");
  return guarded(io, () => runDemo(options, io.stdout));
}

export async function runLabRestartAgent(ref: LabRef, node: string, io: Output): Promise<number> {
  const { labRestartAgent } = await import("../lab/lab.ts");
  return guarded(io, async () => {
    io.stdout(`${await labRestartAgent(ref, node)}\n`);
    return 0;
  });
}

export async function runLabDown(ref: LabRef, io: Output): Promise<number> {
  const { labDown } = await import("../lab/lab.ts");
  return guarded(io, async () => {
    const result = await labDown(ref);
    io.stdout(
      result.namespaces.length === 0 && result.stopped === 0
        ? `lab ${ref.name} is down (nothing was running)\n`
        : `lab ${ref.name} is down: ${result.stopped} processes stopped, ` +
            `${result.namespaces.length} namespaces deleted\n`,
    );
    return 0;
  });
}

export async function runLabInfo(
  ref: LabRef,
  output: "json" | "text",
  io: Output,
): Promise<number> {
  const { labInfoOf, labStatus } = await import("../lab/status.ts");
  return guarded(io, async () => {
    const info = labInfoOf(ref);
    if (output === "json") io.stdout(`${JSON.stringify(info, null, 2)}\n`);
    else io.stdout(describe(info, labStatus(ref)));
    return 0;
  });
}

export async function runLabKubeconfig(ref: LabRef, io: Output): Promise<number> {
  const { labInfoOf } = await import("../lab/status.ts");
  return guarded(io, async () => {
    io.stdout(`${labInfoOf(ref).kubeconfig}\n`);
    return 0;
  });
}

export async function runLabExec(
  ref: LabRef,
  namespace: string,
  argv: readonly string[],
  io: Output,
): Promise<number> {
  const { labExec } = await import("../lab/lab.ts");
  return guarded(io, () => labExec(ref, namespace, argv));
}

export async function runLabBackends(ref: LabRef, list: string, io: Output): Promise<number> {
  const { labBackends } = await import("../lab/lab.ts");
  return guarded(io, async () => {
    const nodes = list
      .split(",")
      .map((node) => node.trim())
      .filter(Boolean);
    const placed = await labBackends(ref, nodes);
    io.stdout(
      placed.length === 0
        ? "no backends now: every request gets 503\n"
        : `backends now on ${placed.join(", ")}\n`,
    );
    return 0;
  });
}

export async function runLabFail(
  ref: LabRef,
  node: string,
  mode: FailureMode,
  io: Output,
): Promise<number> {
  const { labFail } = await import("../lab/lab.ts");
  return guarded(io, async () => {
    io.stdout(`${await labFail(ref, node, mode)}\n`);
    return 0;
  });
}

export async function runLabHeal(ref: LabRef, node: string, io: Output): Promise<number> {
  const { labHeal } = await import("../lab/lab.ts");
  return guarded(io, async () => {
    const done = await labHeal(ref, node);
    io.stdout(
      `${node} healed${done.length > 0 ? `: ${done.join(", ")}` : " (nothing was wrong)"}\n`,
    );
    return 0;
  });
}

/** `lab backend`: serves until SIGTERM. */
export async function runLabBackend(
  ref: LabRef & { node: string },
  io: CommandIO,
): Promise<number> {
  const { startBackend } = await import("../lab/backend.ts");
  const { LabFiles, labDir } = await import("../lab/state.ts");
  const { BACKEND_PORT } = await import("../lab/topology.ts");
  const files = new LabFiles(labDir(ref.name, ref.dir));
  const state = files.readState();
  if (!state) {
    io.stderr(`herald lab backend: no lab state in ${files.dir}\n`);
    return 1;
  }
  const addresses = Object.fromEntries(state.nodes.map((node) => [node.name, node.ipv4]));
  const server = await startBackend({
    node: ref.node,
    backendNodes: () => files.readBackends(),
    addresses,
    port: BACKEND_PORT,
    // Beside real kube-proxy the backend is only the Pod: kube-proxy picks the endpoint.
    forward: state.kube?.proxy !== "kube-proxy",
  });
  io.log.info({ node: ref.node, port: BACKEND_PORT }, "backend serving");
  await stopSignal();
  server.close();
  server.closeAllConnections();
  return 0;
}

/** `lab endpoints`: mirrors Services and Pods into EndpointSlices until SIGTERM. */
export async function runLabEndpoints(ref: LabRef, io: CommandIO): Promise<number> {
  const { writeFileSync } = await import("node:fs");
  const { EndpointsMirror } = await import("../lab/endpoints-mirror.ts");
  const { LabFiles, labDir } = await import("../lab/state.ts");
  const { loadKubeConfig } = await import("../kube/kubeconfig.ts");
  const files = new LabFiles(labDir(ref.name, ref.dir));
  const config = loadKubeConfig(files.kubeconfig);
  const mirror = new EndpointsMirror({
    config,
    log: io.log,
    onSynced: () => writeFileSync(files.endpointsReady, `${process.pid}\n`),
  });
  await mirror.start();
  await stopSignal();
  mirror.stop();
  await config.close();
  return 0;
}

function stopSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
  });
}

/** What BGP the router speaks, and how to look at it. */
function bgpLines(info: LabInfo): string[] {
  const { bgp } = info;
  if (bgp.router === null)
    return ["bgp         none on the router (lab up --router bird|frr|gobgp runs one)"];
  const address = bgp.routerAddress.ipv6
    ? `${bgp.routerAddress.ipv4} ${bgp.routerAddress.ipv6}`
    : bgp.routerAddress.ipv4;
  const ref = [
    ...(info.name === "lab" ? [] : ["--name", info.name]),
    ...(info.dir === `/run/herald/lab-${info.name}` ? [] : ["--dir", info.dir]),
  ];
  const bfd = bgp.router === "gobgp" ? "no BFD" : "BFD 100 ms x3";
  return [
    `bgp         ${bgp.router}: AS ${bgp.routerASN} at ${address} (passive), nodes AS ${bgp.nodeASN}, ${bfd}`,
    ...controlExamples(bgp.router, info.dir).map(
      (argv, i) =>
        `${i === 0 ? "inspect    " : "           "} herald lab exec router ${[...ref, "--", ...argv.map(shellQuote)].join(" ")}`,
    ),
  ];
}

function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, "'\\''")}'`;
}

/** The human form of `lab info` (and of `lab up`'s summary). */
export function describe(info: LabInfo, status?: LabStatus): string {
  const both = (pair: { ipv4: string; ipv6: string | null }) =>
    pair.ipv6 ? `${pair.ipv4}  ${pair.ipv6}` : pair.ipv4;
  const lines = [
    `lab         ${info.name} (${info.nodes.length} nodes, ${info.ipv6 ? "IPv4 and IPv6" : "IPv4"}) in ${info.dir}`,
    `API server  ${info.apiServer} (${info.kube.server}${
      info.kube.proxy === "kube-proxy" ? `; kube-proxy ${info.kube.proxyMode} on every node` : ""
    })`,
    `kubeconfig  ${info.kubeconfig}`,
    `LAN         ${both(info.lan)}  (bridge in ${info.namespaces.lan}; this host is on it)`,
    `local pool  ${both(info.localPool)}`,
    `routed pool ${both(info.routedPool)}  (beyond the LAN; reach it through the router)`,
    `router      ${info.namespaces.router}  LAN ${both(info.router.lan)}  client side ${both(info.router.client)}`,
    `client      ${info.namespaces.client}  ${both(info.client)}  (behind the router)`,
    `lanclient   ${info.namespaces.lanclient}  ${both(info.lanclient)}  (on the LAN)`,
    ...bgpLines(info),
    `backends    pods ${Object.entries(info.backends.labels)
      .map(([key, value]) => `${key}=${value}`)
      .join(",")} in ${info.backends.namespace}, port ${info.backends.port}, on ${
      info.backends.nodes.length > 0 ? info.backends.nodes.join(", ") : "no node"
    }`,
    "",
  ];
  const headers = ["NODE", "NAMESPACE", "IPV4", ...(info.ipv6 ? ["IPV6"] : []), "MAC", "BACKEND"];
  if (status) headers.push("AGENT", "STATE");
  const rows = info.nodes.map((node) => {
    const row = [
      node.name,
      node.namespace,
      node.ipv4,
      ...(info.ipv6 ? [node.ipv6 ?? ""] : []),
      node.mac,
      info.backends.nodes.includes(node.name) ? "yes" : "-",
    ];
    if (status) {
      const agent = status.agents
        ? status.running[`agent-${node.name}`]
          ? "running"
          : "stopped"
        : "none";
      const failed = status.failed[node.name];
      row.push(agent, failed ? `failed (${failed})` : "up");
    }
    return row;
  });
  return `${lines.join("\n")}\n${formatTable(headers, rows)}`;
}
