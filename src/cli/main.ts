// The one `herald` binary. Each subcommand lives in its own module; this file wires them.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { createLogger } from "../log.ts";
import type { ControllerCommandOptions } from "./controller.ts";
import type { CommandIO } from "./plan.ts";

const { version } = JSON.parse(
  readFileSync(new URL("../../package.json", import.meta.url), "utf8"),
) as {
  version: string;
};

// Each command's module is loaded when the command runs: `herald plan` should not pay
// for the Kubernetes client the controller needs.
async function io(logLevel: string): Promise<CommandIO> {
  const { readStdin } = await import("./input.ts");
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    stdin: readStdin,
    log: createLogger(logLevel as "info"),
  };
}

const CONTROLLER_DEFAULTS = {
  namespace: process.env.POD_NAMESPACE || "herald-system",
  identity: process.env.POD_NAME || `${hostname()}-${randomBytes(3).toString("hex")}`,
  metricsAddress: "0.0.0.0:7472",
  healthAddress: "0.0.0.0:7473",
};

const collect = (value: string, previous: string[]) => [...previous, value];

export function buildProgram(): Command {
  const program = new Command("herald")
    .description(
      "Bare-metal LoadBalancer for Kubernetes: hands type: LoadBalancer Services addresses from " +
        "AddressPools and announces them by ARP/NDP or BGP.",
    )
    .version(version)
    .addOption(
      // No default here: a one-shot command wants only warnings, a daemon its info lines.
      new Option(
        "--log-level <level>",
        "log level on stderr (default: warn, or info for controller)",
      ).choices(["trace", "debug", "info", "warn", "error", "silent"]),
    )
    .showHelpAfterError("(run with --help for usage)");

  program
    .command("plan")
    .description(
      "Offline: read AddressPools, Namespaces and Services from YAML and print the addresses the " +
        "controller would allocate. Services that carry status.loadBalancer.ingress are restored " +
        "first, the rest allocated in document order.",
    )
    .requiredOption(
      "-f, --filename <file|dir|->",
      "YAML or JSON file, directory, or - for stdin (repeatable)",
      collect,
      [],
    )
    .addOption(
      new Option("-o, --output <format>", "output format")
        .choices(["json", "table"])
        .default("table"),
    )
    .option("--class-only", `serve only services with loadBalancerClass herald.dev/herald`, false)
    .action(
      async (options: { filename: string[]; output: "json" | "table"; classOnly: boolean }) => {
        const globals = program.opts<{ logLevel?: string }>();
        const { runPlan } = await import("./plan.ts");
        process.exitCode = await runPlan(
          { files: options.filename, output: options.output, classOnly: options.classOnly },
          await io(globals.logLevel ?? "warn"),
        );
      },
    );

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

  program
    .command("dev-apiserver")
    .description(
      "Run devkube, an in-memory Kubernetes API server for tests, the lab and trying Herald with " +
        "kubectl. It keeps state in memory only and has NO authentication: listen on loopback " +
        "and never expose it. Prints its URL.",
    )
    .option("--port <port>", "port on 127.0.0.1 (0 picks a free one)", parsePort, 0)
    .option("--kubeconfig-out <file>", "write a kubeconfig for it to this file")
    .action(async (options: { port: number; kubeconfigOut?: string }) => {
      const { runDevApiserver } = await import("./dev-apiserver.ts");
      process.exitCode = await runDevApiserver(
        { port: options.port, kubeconfigOut: options.kubeconfigOut },
        (text) => process.stdout.write(text),
      );
    });

  return program;
}

function parseCount(value: string): number {
  const count = Number(value);
  if (!Number.isInteger(count) || count < 1)
    throw new InvalidArgumentError("a whole number, 1 or more");
  return count;
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new InvalidArgumentError("a port is a whole number from 0 to 65535");
  }
  return port;
}

export async function main(argv: readonly string[]): Promise<void> {
  const program = buildProgram();
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

await main(process.argv);
