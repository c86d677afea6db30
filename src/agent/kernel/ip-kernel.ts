// The Kernel (kernel.ts) on the real kernel: iproute2, arping, ndisc6 and sysctl, run as
// programs (execFile, never a shell). Everything decided about their output is decided in
// the pure modules beside this one; this file only runs commands and reads what they print.
import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { canonicalAddress, parseAddress } from "../../ip.ts";
import {
  arpingSentCount,
  detectArpingFlavour,
  garpArguments,
  NDISC6_SENT_EXIT_CODES,
  solicitationArguments,
  solicitationTargets,
  type ArpingFlavour,
} from "./announce.ts";
import {
  OWNED_ADDRESS_METRIC,
  parseAddrShow,
  VIRTUAL_INTERFACE_ALIAS,
  type KernelInterface,
} from "./interfaces.ts";
import type { Kernel, RepeatSettings, VirtualInterfaceResult } from "./kernel.ts";
import { handoffRuleset, type HandoffRules } from "./handoff-rules.ts";
import { startRepeats, type Announcement } from "./repeat.ts";
import {
  evaluateSysctls,
  localModeSysctls,
  type SysctlChange,
  type SysctlFinding,
} from "./sysctl.ts";

const execFileAsync = promisify(execFile);

/** A command that ran and failed; `stderr` is what the program said. */
export class CommandError extends Error {
  readonly command: readonly string[];
  readonly exitCode: number;
  readonly stderr: string;

  constructor(command: readonly string[], exitCode: number, stderr: string) {
    super(`${command.join(" ")}: ${stderr.trim() || `exit status ${exitCode}`}`);
    this.name = "CommandError";
    this.command = command;
    this.exitCode = exitCode;
    this.stderr = stderr;
  }
}

export interface IpCommandKernelOptions {
  /**
   * Run every command inside this network namespace (`ip netns exec NAME ...`). For tests:
   * the agent itself runs in the host's namespace (hostNetwork) and leaves this unset.
   */
  netns?: string;
  /**
   * Where the node's /proc/sys is writable, when not at /proc/sys: a container runtime
   * mounts /proc/sys read-only, so the agent's pod mounts the host's /proc/sys/net
   * elsewhere (deploy/: /host/proc/sys) and reads and writes sysctls there as files.
   */
  procSys?: string;
}

interface CommandResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

// A wedged command must not stall reconciliation forever; iproute2 answers in milliseconds.
const COMMAND_TIMEOUT_MS = 10_000;
// `ip -j -d addr show` on a node with a few hundred pod veths runs to megabytes.
const MAX_OUTPUT_BYTES = 64 * 1024 * 1024;
// ndisc6 processes run at once while soliciting neighbours.
const SOLICITATION_CONCURRENCY = 16;

// iproute2's words for EEXIST / EADDRNOTAVAIL / ENODEV, new (extack) and old (RTNETLINK).
const ALREADY_THERE = /already assigned|File exists/i;
const ALREADY_GONE = /not found|Cannot assign requested address/i;
const NO_DEVICE = /does not exist|Cannot find device|No such device/i;

export class IpCommandKernel implements Kernel {
  readonly #prefix: readonly string[];
  readonly #procSys: string | undefined;
  #arpingFlavour: Promise<ArpingFlavour> | undefined;

  constructor(options: IpCommandKernelOptions = {}) {
    this.#prefix = options.netns === undefined ? [] : ["ip", "netns", "exec", options.netns];
    this.#procSys = options.procSys;
  }

  async listInterfaces(): Promise<KernelInterface[]> {
    // -d adds linkinfo (the kind) and ifalias; one call, one consistent snapshot.
    return parseAddrShow(JSON.parse(await this.#ip(["-j", "-d", "addr", "show"])));
  }

  async addAddress(iface: string, address: string, prefixLength: number): Promise<void> {
    const args = ["addr", "add", `${address}/${prefixLength}`, "dev", iface];
    args.push("noprefixroute", "metric", String(OWNED_ADDRESS_METRIC));
    // The address is usually moving from a dead node: DAD would keep it unusable for a
    // second or more, and fail outright if a stale neighbour still answered for it.
    if (familyOf(address) === "IPv6") args.push("nodad");
    const result = await this.#run("ip", args);
    // Already there: put by an earlier attempt, or by the operator (then the plan leaves it).
    if (result.exitCode === 0 || ALREADY_THERE.test(result.stderr)) return;
    throw new CommandError(["ip", ...args], result.exitCode, result.stderr);
  }

  async removeAddress(iface: string, address: string, prefixLength: number): Promise<void> {
    const shown = await this.#run("ip", ["-j", "addr", "show", "dev", iface]);
    if (shown.exitCode !== 0) {
      if (NO_DEVICE.test(shown.stderr)) return; // the interface, and so the address, is gone
      throw new CommandError(["ip", "addr", "show", iface], shown.exitCode, shown.stderr);
    }
    const canonical = canonicalAddress(address);
    const entry = parseAddrShow(JSON.parse(shown.stdout))
      .flatMap((i) => i.addresses)
      .find((a) => a.address === canonical && a.prefixLength === prefixLength);
    if (!entry) return;
    if (!entry.owned) {
      // The planner never asks for this; checking here too keeps a planning bug from
      // taking down an address the operator's own traffic depends on.
      throw new Error(
        `refusing to remove ${address}/${prefixLength} from ${iface}: it is not Herald's ` +
          `(Herald's addresses have noprefixroute and metric ${OWNED_ADDRESS_METRIC})`,
      );
    }
    const args = ["addr", "del", `${address}/${prefixLength}`, "dev", iface];
    const result = await this.#run("ip", args);
    // Gone meanwhile, or with its interface: either way it is not there any more.
    if (result.exitCode === 0 || ALREADY_GONE.test(result.stderr)) return;
    if (NO_DEVICE.test(result.stderr)) return;
    throw new CommandError(["ip", ...args], result.exitCode, result.stderr);
  }

  async announce(
    iface: string,
    address: string,
    repeat: RepeatSettings,
    signal?: AbortSignal,
  ): Promise<Announcement> {
    const family = familyOf(address);
    if (family === "IPv4") {
      const flavour = await this.#detectArping();
      return startRepeats(
        repeat.count,
        repeat.intervalMs,
        (s) => this.#sendGarp(flavour, iface, address, s),
        signal,
      );
    }
    // Read once: the neighbours of a node do not change within a few seconds of repeats.
    const [neighbours, routes] = await Promise.all([
      this.#ip(["-6", "-j", "neigh", "show", "dev", iface]),
      this.#ip(["-6", "-j", "route", "show", "default", "dev", iface]),
    ]);
    const targets = solicitationTargets(JSON.parse(neighbours), JSON.parse(routes), address);
    return startRepeats(
      repeat.count,
      repeat.intervalMs,
      (s) => this.#solicit(iface, address, targets, s),
      signal,
    );
  }

  async ensureSysctls(iface: string): Promise<SysctlChange[]> {
    const findings = await this.#evaluateSysctls(iface);
    const changes: SysctlChange[] = [];
    for (const finding of findings) {
      if (finding.satisfied) continue;
      const { requirement, interfaceValue } = finding;
      if (interfaceValue === undefined) throw new Error(finding.message);
      if (this.#procSys !== undefined) {
        await writeFile(join(this.#procSys, requirement.path), `${requirement.minimum}\n`);
      } else {
        const args = ["-w", `${requirement.path}=${requirement.minimum}`];
        const result = await this.#run("sysctl", args);
        if (result.exitCode !== 0)
          throw new CommandError(["sysctl", ...args], result.exitCode, result.stderr);
      }
      changes.push({ name: requirement.name, from: interfaceValue, to: requirement.minimum });
    }
    return changes;
  }

  async checkSysctls(iface: string): Promise<SysctlFinding[]> {
    return (await this.#evaluateSysctls(iface)).filter((f) => !f.satisfied);
  }

  async ensureVirtualInterface(name: string): Promise<VirtualInterfaceResult> {
    let link = await this.#link(name);
    let created = false;
    if (!link) {
      const attempts: string[] = [];
      for (const kind of ["dummy", "bridge"] as const) {
        const result = await this.#run("ip", ["link", "add", name, "type", kind]);
        if (result.exitCode === 0) {
          created = true;
          break;
        }
        // Made by someone else meanwhile (a previous agent still stopping): adopt it.
        if (ALREADY_THERE.test(result.stderr)) break;
        // "Unknown device type" where the dummy module is missing, as in the lab.
        attempts.push(`as a ${kind}: ${result.stderr.trim()}`);
      }
      if (attempts.length === 2) return { error: `cannot create ${name}: ${attempts.join("; ")}` };
      link = await this.#link(name);
      if (!link) return { error: `${name} vanished right after it was created` };
    }
    if (link.kind !== "dummy" && link.kind !== "bridge") {
      return {
        error:
          `${name} exists and is ${link.kind ? `a ${link.kind} interface` : "a physical interface"}; ` +
          "Herald puts routed addresses only on a dummy or a bridge without ports",
      };
    }
    if (link.kind === "bridge") {
      const ports = JSON.parse(await this.#ip(["-j", "link", "show", "master", name])) as unknown[];
      if (ports.length > 0) {
        return {
          error: `${name} is a bridge with ports; Herald puts routed addresses only on a dummy or a bridge without ports`,
        };
      }
    }
    await this.#ip(["link", "set", "dev", name, "alias", VIRTUAL_INTERFACE_ALIAS, "up"]);
    return { name, kind: link.kind, created };
  }

  async setHandoffRules(rules: HandoffRules | undefined): Promise<void> {
    // nft takes a whole script as one argument, and runs it as one transaction.
    const script = handoffRuleset(rules);
    const result = await this.#run("nft", [script]);
    if (result.exitCode !== 0)
      throw new CommandError(["nft", "(handover rules)"], result.exitCode, result.stderr);
  }

  async #link(name: string): Promise<KernelInterface | undefined> {
    const result = await this.#run("ip", ["-j", "-d", "link", "show", "dev", name]);
    if (result.exitCode !== 0) {
      if (NO_DEVICE.test(result.stderr)) return undefined;
      throw new CommandError(["ip", "link", "show", name], result.exitCode, result.stderr);
    }
    return parseAddrShow(JSON.parse(result.stdout))[0];
  }

  async #sendGarp(
    flavour: ArpingFlavour,
    iface: string,
    address: string,
    signal: AbortSignal | undefined,
  ): Promise<number> {
    const args = garpArguments(flavour, iface, address);
    const result = await this.#run("arping", args, signal);
    const sent = arpingSentCount(flavour, result.stdout);
    if (!sent) throw new CommandError(["arping", ...args], result.exitCode, result.stderr);
    return sent;
  }

  async #solicit(
    iface: string,
    address: string,
    targets: readonly string[],
    signal: AbortSignal | undefined,
  ): Promise<number> {
    let sent = 0;
    let failure: CommandError | undefined;
    const queue = [...targets];
    const worker = async () => {
      for (let target = queue.shift(); target !== undefined; target = queue.shift()) {
        const args = solicitationArguments(iface, address, target);
        const result = await this.#run("ndisc6", args, signal);
        if (NDISC6_SENT_EXIT_CODES.has(result.exitCode)) sent++;
        else failure ??= new CommandError(["ndisc6", ...args], result.exitCode, result.stderr);
      }
    };
    await Promise.all(Array.from({ length: SOLICITATION_CONCURRENCY }, worker));
    // With no neighbour known there is nobody to tell; that is not a failure.
    if (sent === 0 && failure) throw failure;
    return sent;
  }

  #detectArping(): Promise<ArpingFlavour> {
    this.#arpingFlavour ??= (async () => {
      // Habets' -V wants an argument and prints its usage (naming Habets); iputils' prints
      // its version. --help is the fallback for builds that print neither.
      for (const flag of ["-V", "--help"]) {
        const result = await this.#run("arping", [flag]);
        if (/exec of .* failed|No such file/i.test(result.stderr)) break;
        const flavour = detectArpingFlavour(result.stdout + result.stderr);
        if (flavour) return flavour;
      }
      throw new Error(
        "cannot find a usable arping (Habets' or iputils'); install it: apt-get install arping",
      );
    })();
    // A failed detection is retried next time: the package may be installed meanwhile.
    this.#arpingFlavour.catch(() => (this.#arpingFlavour = undefined));
    return this.#arpingFlavour;
  }

  async #evaluateSysctls(iface: string): Promise<SysctlFinding[]> {
    const requirements = localModeSysctls(iface);
    const paths = [...new Set(requirements.flatMap((r) => [r.path, r.allPath]))];
    const values = await Promise.all(paths.map((p) => this.#readSysctl(p)));
    return evaluateSysctls(requirements, new Map(paths.map((p, i) => [p, values[i]])));
  }

  async #readSysctl(path: string): Promise<number | undefined> {
    let text: string;
    if (this.#procSys !== undefined) {
      const read = await readFile(join(this.#procSys, path), "utf8").catch(() => undefined);
      if (read === undefined) return undefined;
      text = read;
    } else {
      const result = await this.#run("sysctl", ["-n", path]);
      if (result.exitCode !== 0) return undefined;
      text = result.stdout;
    }
    const value = Number.parseInt(text.trim(), 10);
    return Number.isNaN(value) ? undefined : value;
  }

  /** Runs `ip` and returns its stdout; any failure is an exception. */
  async #ip(args: string[]): Promise<string> {
    const result = await this.#run("ip", args);
    if (result.exitCode !== 0)
      throw new CommandError(["ip", ...args], result.exitCode, result.stderr);
    return result.stdout;
  }

  /**
   * Runs a program and reports how it exited; a non-zero exit is data (arping and ndisc6
   * use it for "no answer"). Only a program that cannot be started, is killed by the
   * timeout, or is aborted through `signal` makes this throw.
   */
  async #run(file: string, args: readonly string[], signal?: AbortSignal): Promise<CommandResult> {
    const [command = file, ...rest] = [...this.#prefix, file, ...args];
    try {
      const { stdout, stderr } = await execFileAsync(command, rest, {
        encoding: "utf8",
        timeout: COMMAND_TIMEOUT_MS,
        maxBuffer: MAX_OUTPUT_BYTES,
        ...(signal ? { signal } : {}),
      });
      return { exitCode: 0, stdout, stderr };
    } catch (error) {
      if (isExitError(error)) {
        return { exitCode: error.code, stdout: error.stdout ?? "", stderr: error.stderr ?? "" };
      }
      if (isErrnoException(error) && error.code === "ENOENT") {
        throw new Error(
          `${command} is not installed (needed: iproute2, arping, ndisc6, procps, nftables)`,
          {
            cause: error,
          },
        );
      }
      throw error;
    }
  }
}

function familyOf(address: string): "IPv4" | "IPv6" {
  const parsed = parseAddress(address);
  if (!parsed) throw new Error(`"${address}" is not an IP address`);
  return parsed.family;
}

interface ExitError {
  code: number;
  stdout?: string;
  stderr?: string;
}

function isExitError(error: unknown): error is ExitError {
  return error instanceof Error && typeof (error as { code?: unknown }).code === "number";
}

function isErrnoException(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && "code" in error;
}
