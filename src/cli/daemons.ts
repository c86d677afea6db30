// What every herald entry point shares: the root command (--version, --log-level), the two
// daemons the image runs — controller and agent — and how a program is run. The full CLI
// (main.ts) adds the offline commands and the lab; the image's entry point (runtime.ts)
// adds nothing, so its bundle carries no devkube, lab or offline tooling.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { createLogger } from "../log.ts";
import type { AgentCommandOptions } from "./agent.ts";
import type { ControllerCommandOptions } from "./controller.ts";

// scripts/bundle.ts replaces this read with the text it would have read: beside the
// bundle there is no package.json.
const { version } = JSON.parse(
  readFileSync(new URL("../../package.json", import.meta.url), "utf8"),
) as {
  version: string;
};

export const CONTROLLER_DEFAULTS = {
  namespace: process.env.POD_NAMESPACE || "herald-system",
  identity: process.env.POD_NAME || `${hostname()}-${randomBytes(3).toString("hex")}`,
  metricsAddress: "0.0.0.0:7472",
  healthAddress: "0.0.0.0:7473",
};

/** The root command: name, description, --version and --log-level. */
export function heraldProgram(): Command {
  return new Command("herald")
    .description(
      "Bare-metal LoadBalancer for Kubernetes: hands type: LoadBalancer Services addresses from " +
        "AddressPools and announces them by ARP/NDP or BGP.",
    )
    .version(version)
    .addOption(
      // No default here: a one-shot command wants only warnings, a daemon its info lines.
      new Option(
        "--log-level <level>",
        "log level on stderr (default: warn, or info for controller and agent)",
      ).choices(["trace", "debug", "info", "warn", "error", "silent"]),
    )
    .showHelpAfterError("(run with --help for usage)");
}

export function addControllerCommand(program: Command): void {
  program
    .command("controller")
    .description(
      "Run the allocation controller: gives LoadBalancer Services addresses from AddressPools and " +
        "writes their status. Run two replicas; a Lease elects the one that writes.",
    )
    .option(
      "--kubeconfig <file>",
      "kubeconfig (default: KUBECONFIG, ~/.kube/config, or in-cluster)",
    )
    .option(
      "--namespace <name>",
      "namespace of the leader Lease (env POD_NAMESPACE)",
      CONTROLLER_DEFAULTS.namespace,
    )
    .option(
      "--identity <name>",
      "this replica's name in the Lease (env POD_NAME)",
      CONTROLLER_DEFAULTS.identity,
    )
    .option(
      "--class-only",
      "serve only loadBalancerClass herald.dev/herald, not services without a class",
      false,
    )
    .option(
      "--metrics-address <host:port>",
      "Prometheus /metrics (0 to disable)",
      CONTROLLER_DEFAULTS.metricsAddress,
    )
    .option(
      "--health-address <host:port>",
      "/healthz and /readyz",
      CONTROLLER_DEFAULTS.healthAddress,
    )
    .option("--workers <n>", "services processed at once", parseCount, 8)
    .option(
      "--agent-key-secret <name>",
      'the agents\' failure-detector key Secret, created with a random key when missing ("" leaves it to you)',
      "herald-agent-key",
    )
    .option("--kube-api-qps <n>", "client-side limit on API requests per second", parseCount, 2000)
    .option("--kube-api-burst <n>", "burst above that limit", parseCount, 4000)
    .action(async (options: ControllerCommandOptions) => {
      const level = program.opts<{ logLevel?: string }>().logLevel ?? "info";
      const { runController } = await import("./controller.ts");
      process.exitCode = await runController(
        options,
        createLogger(level as "info", "herald-controller"),
      );
    });
}

export function addAgentCommand(program: Command): void {
  program
    .command("agent")
    .description(
      "Run the node agent (one per node, hostNetwork, NET_ADMIN + NET_RAW): elects the node " +
        "announcing each local address, puts it on the kernel and announces it by ARP/NDP.",
    )
    .option(
      "--kubeconfig <file>",
      "kubeconfig (default: KUBECONFIG, ~/.kube/config, or in-cluster)",
    )
    .option(
      "--node-name <name>",
      "this node (env NODE_NAME, from the downward API)",
      process.env.NODE_NAME,
    )
    .option(
      "--namespace <name>",
      "namespace of the failure-detector key Secret (env POD_NAMESPACE)",
      CONTROLLER_DEFAULTS.namespace,
    )
    .option(
      "--key-secret <name>",
      'Secret holding the failure detector\'s HMAC key under "key"',
      "herald-agent-key",
    )
    .option(
      "--class-only",
      "serve only loadBalancerClass herald.dev/herald, not services without a class",
      false,
    )
    .option(
      "--daemonset <name>",
      "the DaemonSet this agent runs in, read on SIGTERM: gone or being deleted, the agent " +
        "withdraws every address; no longer selecting this node, it hands them over",
    )
    .option(
      "--bird-dir <dir>",
      "where BIRD's configuration and control socket live (default /run/herald/bird-NODE)",
    )
    .addOption(
      new Option(
        "--bird-mode <mode>",
        "child: the agent runs BIRD; sidecar: BIRD runs beside it (another container of the " +
          "pod) on the configuration the agent writes, and keeps its sessions while the agent restarts",
      )
        .choices(["child", "sidecar"])
        .default("child"),
    )
    .option(
      "--proc-sys <dir>",
      "where the node's /proc/sys is writable, if not at /proc/sys (a container's is read-only; " +
        "deploy/ mounts the host's /proc/sys/net at /host/proc/sys/net)",
    )
    // Loopback by default: with hostNetwork a wildcard would expose them on every address
    // of the node. The DaemonSet binds them to the node's address ($(HOST_IP)), where the
    // kubelet probes and Prometheus scrapes.
    .option("--metrics-address <host:port>", "Prometheus /metrics (0 to disable)", "127.0.0.1:7475")
    .option("--health-address <host:port>", "/healthz and /readyz", "127.0.0.1:7476")
    .action(async (options: AgentCommandOptions) => {
      const level = program.opts<{ logLevel?: string }>().logLevel ?? "info";
      const { runAgent } = await import("./agent.ts");
      process.exitCode = await runAgent(options, createLogger(level as "info", "herald-agent"));
    });
}

/**
 * `herald agent-sysctls`: the DaemonSet's init container. It raises the three `all` keys local
 * mode needs (the kernel combines them with every interface's own, including interfaces
 * that appear later) through the node's /proc/sys/net, then exits, so the long-running agent
 * needs no writable sysctl mount. Values already at least as large stay as they are.
 */
export function addAgentSysctlsCommand(program: Command): void {
  program
    .command("agent-sysctls")
    .description(
      "Raise net.ipv4.conf.all.arp_ignore (1), arp_announce (2) and net.ipv6.conf.all." +
        "ndisc_notify (1) where lower, and exit (the agent DaemonSet's init container)",
    )
    .option(
      "--proc-sys <dir>",
      "where the node's /proc/sys is writable (deploy/ mounts the host's /proc/sys/net at /host/proc/sys/net)",
    )
    .action(async (options: { procSys?: string }) => {
      const level = program.opts<{ logLevel?: string }>().logLevel ?? "info";
      const log = createLogger(level as "info", "herald-agent-sysctls");
      const { IpCommandKernel } = await import("../agent/kernel/ip-kernel.ts");
      try {
        const set = await new IpCommandKernel({ procSys: options.procSys }).ensureSysctls("all");
        log.info({ set }, set.length > 0 ? "sysctls raised" : "sysctls already set");
      } catch (error) {
        // Not fatal: the agent still runs (routed mode needs none of these) and reports
        // the missing keys in its NodeState condition SysctlsSet.
        log.warn({ err: (error as Error).message }, "could not raise the sysctls");
      }
    });
}

export function parseCount(value: string): number {
  const count = Number(value);
  if (!Number.isInteger(count) || count < 1)
    throw new InvalidArgumentError("a whole number, 1 or more");
  return count;
}

/** Runs a program on argv; its exit code becomes the process's. */
export async function runProgram(program: Command, argv: readonly string[]): Promise<void> {
  program.exitOverride();
  try {
    await program.parseAsync(argv as string[]);
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit 0; usage errors were already printed by commander.
      process.exitCode = error.exitCode;
      return;
    }
    // A bug, not bad input: say so briefly; HERALD_DEBUG=1 shows where.
    process.stderr.write(`herald: internal error: ${(error as Error).message}\n`);
    if (process.env.HERALD_DEBUG) process.stderr.write(`${(error as Error).stack}\n`);
    process.exitCode = 70;
  }
}
