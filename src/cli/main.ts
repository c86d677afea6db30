// The full `herald` command. Each subcommand lives in its own module; this file wires them.
// The controller and agent commands are in daemons.ts, shared with runtime.ts (the image's).
import type { Command } from "commander";
import { InvalidArgumentError, Option } from "commander";
import { createLogger } from "../log.ts";
import {
  addAgentCommand,
  addAgentSysctlsCommand,
  addControllerCommand,
  heraldProgram,
  parseCount,
  runProgram,
} from "./daemons.ts";
import type { LabDemoCommandOptions, LabUpCommandOptions } from "./lab.ts";
import type { CommandIO } from "./plan.ts";

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

/**
 * `-f FILE|DIR|-`, repeatable and required, for the offline commands. No default:
 * commander takes a default as given, and reading nothing must not pass.
 */
const filenameOption = () =>
  new Option(
    "-f, --filename <file|dir|->",
    "YAML or JSON file, directory, or - for stdin (repeatable)",
  )
    .argParser((value: string, previous?: string[]) => [...(previous ?? []), value])
    .makeOptionMandatory();

export function buildProgram(): Command {
  const program = heraldProgram();

  /**
   * The action of a one-shot command (plan, status, validate, migrate): its options and the
   * command's I/O in, its exit code the process's. Only warnings are logged unless asked.
   */
  const oneShot =
    <Options>(run: (options: Options, commandIo: CommandIO) => Promise<number>) =>
    async (options: Options) => {
      const level = program.opts<{ logLevel?: string }>().logLevel ?? "warn";
      process.exitCode = await run(options, await io(level));
    };

  program
    .command("plan")
    .description(
      "Offline: read AddressPools, Namespaces and Services from YAML and print the addresses the " +
        "controller would allocate. Services that carry status.loadBalancer.ingress are restored " +
        "first, the rest allocated in document order.",
    )
    .addOption(filenameOption())
    .addOption(
      new Option("-o, --output <format>", "output format")
        .choices(["json", "table"])
        .default("table"),
    )
    .option("--class-only", `serve only services with loadBalancerClass herald.dev/herald`, false)
    .action(
      oneShot(
        async (
          options: { filename: string[]; output: "json" | "table"; classOnly: boolean },
          commandIo,
        ) =>
          (await import("./plan.ts")).runPlan(
            { files: options.filename, output: options.output, classOnly: options.classOnly },
            commandIo,
          ),
      ),
    );

  addControllerCommand(program);
  addAgentCommand(program);
  addAgentSysctlsCommand(program);

  program
    .command("dev-apiserver")
    .description(
      "Run devkube, an in-memory Kubernetes API server for tests, the lab and trying Herald with " +
        "kubectl. It keeps state in memory only and has NO authentication: listen on loopback " +
        "and never expose it. Prints its URL.",
    )
    .option("--host <address>", "address to listen on (the lab uses its LAN address)", "127.0.0.1")
    .option("--port <port>", "port (0 picks a free one)", parsePort, 0)
    .option("--kubeconfig-out <file>", "write a kubeconfig for it to this file")
    .action(async (options: { host: string; port: number; kubeconfigOut?: string }) => {
      const { runDevApiserver } = await import("./dev-apiserver.ts");
      process.exitCode = await runDevApiserver(
        { host: options.host, port: options.port, kubeconfigOut: options.kubeconfigOut },
        (text) => process.stdout.write(text),
      );
    });

  program
    .command("status")
    .description(
      "Show, from the live API: pools and their use, services waiting for an address or an " +
        "announcement, which node announces each address, and each node's agent (conditions, " +
        "BGP sessions, failure detector). Exits 1 if the API cannot be reached or Herald is " +
        "not installed.",
    )
    .option(
      "--kubeconfig <file>",
      "kubeconfig (default: KUBECONFIG, ~/.kube/config, or in-cluster)",
    )
    .addOption(
      new Option("-o, --output <format>", "output format")
        .choices(["text", "json"])
        .default("text"),
    )
    .option(
      "--class-only",
      "as the controller's flag: services without a loadBalancerClass are not Herald's",
      false,
    )
    .action(
      oneShot(
        async (
          options: { kubeconfig?: string; output: "text" | "json"; classOnly: boolean },
          commandIo,
        ) => (await import("./status.ts")).runStatus(options, commandIo),
      ),
    );

  program
    .command("validate")
    .description(
      "Offline: check Herald objects (and the Services, Namespaces and Secrets beside them) " +
        "as the API server, the controller and the agents would, and report every problem. " +
        "Services are checked against the AddressPools in the input. Exits 0 without errors, " +
        "1 with errors or unreadable input, 2 with only warnings under --strict.",
    )
    .addOption(filenameOption())
    .addOption(
      new Option("-o, --output <format>", "output format")
        .choices(["text", "json"])
        .default("text"),
    )
    .option("--strict", "warnings fail too (exit 2)", false)
    .action(
      oneShot(
        async (
          options: { filename: string[]; output: "text" | "json"; strict: boolean },
          commandIo,
        ) =>
          (await import("./validate.ts")).runValidate(
            { files: options.filename, output: options.output, strict: options.strict },
            commandIo,
          ),
      ),
    );

  program
    .command("migrate")
    .description(
      "Offline: read MetalLB, PureLB, OpenELB or Cilium configuration and print the equivalent " +
        "Herald objects. Every field or object without an equivalent gets a warning on stderr. " +
        "Exits 0 when converted, 1 with unreadable input or nothing of that peer, 2 with " +
        "warnings under --strict.",
    )
    .addOption(
      new Option("--from <peer>", "the load balancer the input configures")
        .choices(["metallb", "purelb", "openelb", "cilium"])
        .makeOptionMandatory(),
    )
    .addOption(filenameOption())
    .addOption(
      new Option("-o, --output <format>", "output format: multi-document YAML or a JSON List")
        .choices(["yaml", "json"])
        .default("yaml"),
    )
    .option("--strict", "warnings fail too (exit 2)", false)
    .action(
      oneShot(
        async (
          options: {
            from: "metallb" | "purelb" | "openelb" | "cilium";
            filename: string[];
            output: "yaml" | "json";
            strict: boolean;
          },
          commandIo,
        ) =>
          (await import("./migrate.ts")).runMigrate(
            {
              from: options.from,
              files: options.filename,
              output: options.output,
              strict: options.strict,
            },
            commandIo,
          ),
      ),
    );

  // ---- herald lab: a bare-metal cluster in network namespaces (src/lab/, docs/lab.md) ----
  const lab = program
    .command("lab")
    .description(
      "A whole bare-metal cluster on this host, in network namespaces: nodes on a LAN bridge, " +
        "an upstream router with a client behind it, devkube, the controller and agents. Needs root.",
    );
  const labRef = (command: Command) =>
    command
      .option("--name <name>", "lab name (namespaces are hl-NAME-*)", "lab")
      .option("--dir <dir>", "lab directory (default: HERALD_LAB_DIR or /run/herald/lab-NAME)");
  const labLevel = (fallback: string) => program.opts<{ logLevel?: string }>().logLevel ?? fallback;
  const labOutput = {
    stdout: (text: string) => process.stdout.write(text),
    stderr: (text: string) => process.stderr.write(text),
  };
  labRef(lab.command("up"))
    .description("Build the lab and start its processes; returns once it answers.")
    .option("--nodes <n>", "number of nodes", parseCount, 3)
    .option("--ipv6", "IPv6 as well as IPv4 everywhere", false)
    .option("--index <k>", "which share of the address space (default: from the name)", (value) => {
      const index = Number(value);
      if (!Number.isInteger(index) || index < 0 || index > 127)
        throw new InvalidArgumentError("a whole number from 0 to 127");
      return index;
    })
    .option("--no-agents", "start no agents (to run them by hand)")
    .addOption(
      new Option(
        "--router <daemon>",
        "run this BGP daemon in the router namespace, peered with every node (docs/lab.md)",
      ).choices(["bird", "frr", "gobgp"]),
    )
    .option("--ibgp", "put the nodes in the router's AS (iBGP) instead of AS 64513 (eBGP)", false)
    .addOption(
      new Option(
        "--kube <backend>",
        "devkube, or real: etcd, kube-apiserver, kube-controller-manager and kube-proxy " +
          "built from Go modules by scripts/k8s.sh (docs/lab.md)",
      )
        .choices(["devkube", "real"])
        .default("devkube"),
    )
    .addOption(
      new Option(
        "--proxy-mode <mode>",
        "kube-proxy's mode with --kube real (default nftables; ipvs needs the kernel's IPVS)",
      ).choices(["nftables", "iptables", "ipvs"]),
    )
    .option(
      "--image <layout>",
      "run the controller, agents and BIRD from Herald's image (an OCI layout, LAYOUT[:TAG]; " +
        "npm run image builds dist/image) instead of the source tree",
    )
    .option(
      "--daemonset",
      "give the agents a stand-in DaemonSet to read on SIGTERM, as deploy/ does: deleting it is an uninstall",
      false,
    )
    .action(async (options: LabUpCommandOptions) => {
      const { runLabUp } = await import("./lab.ts");
      process.exitCode = await runLabUp(options, labOutput);
    });
  labRef(lab.command("down"))
    .description("Stop the lab's processes, delete its namespaces and directory (idempotent).")
    .action(async (options: { name: string; dir?: string }) => {
      const { runLabDown } = await import("./lab.ts");
      process.exitCode = await runLabDown(options, labOutput);
    });
  labRef(lab.command("info"))
    .description("Show the lab's namespaces, addresses, pools and processes.")
    .addOption(
      new Option("-o, --output <format>", "output format")
        .choices(["text", "json"])
        .default("text"),
    )
    .action(async (options: { name: string; dir?: string; output: "json" | "text" }) => {
      const { runLabInfo } = await import("./lab.ts");
      process.exitCode = await runLabInfo(options, options.output, labOutput);
    });
  labRef(lab.command("kubeconfig"))
    .description("Print the path of the lab's kubeconfig.")
    .action(async (options: { name: string; dir?: string }) => {
      const { runLabKubeconfig } = await import("./lab.ts");
      process.exitCode = await runLabKubeconfig(options, labOutput);
    });
  labRef(lab.command("exec"))
    .description("Run a command in a lab namespace: client, lanclient, router, lan or nodeN.")
    .argument("<namespace>", "client, lanclient, router, lan or a node name")
    .argument("<command...>", "the command, after --")
    .action(async (namespace: string, argv: string[], options: { name: string; dir?: string }) => {
      const { runLabExec } = await import("./lab.ts");
      process.exitCode = await runLabExec(options, namespace, argv, labOutput);
    });
  labRef(lab.command("backends"))
    .description("Move the backend Pods to exactly these nodes (comma list).")
    .argument("<nodes>", "e.g. node1,node3")
    .action(async (nodes: string, options: { name: string; dir?: string }) => {
      const { runLabBackends } = await import("./lab.ts");
      process.exitCode = await runLabBackends(options, nodes, labOutput);
    });
  labRef(lab.command("fail"))
    .description(
      "Fail a node. hard: as if powered off (LAN link down, its processes stopped); " +
        "agent: kill its agent only; link: LAN link down only.",
    )
    .argument("<node>")
    .addOption(
      new Option("--mode <mode>", "how it fails")
        .choices(["hard", "agent", "link"])
        .default("hard"),
    )
    .action(
      async (
        node: string,
        options: { name: string; dir?: string; mode: "hard" | "agent" | "link" },
      ) => {
        const { runLabFail } = await import("./lab.ts");
        process.exitCode = await runLabFail(options, node, options.mode, labOutput);
      },
    );
  labRef(lab.command("restart-agent"))
    .description("Restart a node's agent as a rolling update does (SIGTERM, then a new one).")
    .argument("<node>")
    .action(async (node: string, options: { name: string; dir?: string }) => {
      const { runLabRestartAgent } = await import("./lab.ts");
      process.exitCode = await runLabRestartAgent(options, node, labOutput);
    });
  labRef(lab.command("heal"))
    .description("Undo a node's failure: link up, processes continued, agent restarted.")
    .argument("<node>")
    .action(async (node: string, options: { name: string; dir?: string }) => {
      const { runLabHeal } = await import("./lab.ts");
      process.exitCode = await runLabHeal(options, node, labOutput);
    });
  lab
    .command("demo")
    .description(
      "Walk through Herald in a fresh lab: a pool and a service, traffic from the LAN and " +
        "through the router, the announcing node powered off and the outage measured; then " +
        "routed mode: BGP to the router, ECMP over the nodes, a node failure withdrawn by BFD.",
    )
    .option("--name <name>", "lab name", "demo")
    .option("--nodes <n>", "number of nodes", parseCount, 3)
    .option("--keep", "leave the lab up afterwards", false)
    .addOption(
      new Option("--router <daemon>", "the router's BGP daemon")
        .choices(["bird", "frr", "gobgp"])
        .default("bird"),
    )
    .addOption(
      new Option(
        "--kube <backend>",
        "devkube, or real: kube-apiserver and kube-proxy (docs/lab.md)",
      )
        .choices(["devkube", "real"])
        .default("devkube"),
    )
    .action(async (options: LabDemoCommandOptions) => {
      const { runLabDemo } = await import("./lab.ts");
      process.exitCode = await runLabDemo(options, labOutput);
    });
  // Measures outages for the demo, tests and benchmark, from inside a lab namespace.
  lab
    .command("probe", { hidden: true })
    .argument("<url>")
    .option("--interval <ms>", "between requests", parseCount, 10)
    .option("--timeout <ms>", "per request", parseCount, 1000)
    .option("--duration <ms>", "how long to probe", parseCount, 5000)
    .action(
      async (url: string, options: { interval: number; timeout: number; duration: number }) => {
        const { probe } = await import("../lab/probe.ts");
        const samples = await probe({
          url,
          intervalMs: options.interval,
          timeoutMs: options.timeout,
          durationMs: options.duration,
        });
        process.stdout.write(JSON.stringify(samples));
      },
    );
  // The lab's own processes, started by `lab up`.
  labRef(lab.command("backend", { hidden: true }))
    .requiredOption("--node <node>")
    .action(async (options: { name: string; dir?: string; node: string }) => {
      const { runLabBackend } = await import("./lab.ts");
      process.exitCode = await runLabBackend(options, await io(labLevel("info")));
    });
  labRef(lab.command("endpoints", { hidden: true })).action(
    async (options: { name: string; dir?: string }) => {
      const { runLabEndpoints } = await import("./lab.ts");
      process.exitCode = await runLabEndpoints(options, await io(labLevel("info")));
    },
  );

  return program;
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new InvalidArgumentError("a port is a whole number from 0 to 65535");
  }
  return port;
}

await runProgram(buildProgram(), process.argv);
