// The kernel side of the lab: every `ip` and `sysctl` call, with argument arrays (no
// shell). Namespaces are iproute2's named ones (/run/netns), so `ip netns exec` and
// tcpdump users find them by name.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { Command, Phase } from "./wiring.ts";

const exec = promisify(execFile);

export class CommandError extends Error {
  readonly stderr: string;

  constructor(command: readonly string[], stderr: string) {
    super(`${command.join(" ")}: ${stderr.trim() || "failed"}`);
    this.stderr = stderr;
  }
}

async function run(file: string, args: readonly string[]): Promise<string> {
  try {
    const { stdout } = await exec(file, args as string[], { maxBuffer: 16 << 20 });
    return stdout;
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? (error as Error).message;
    throw new CommandError([file, ...args], stderr);
  }
}

/** `ip [-n namespace] args…`; null is the host namespace. */
export function ip(namespace: string | null, args: readonly string[]): Promise<string> {
  return run("ip", namespace === null ? args : ["-n", namespace, ...args]);
}

/** Runs a program in a namespace (through `ip netns exec`), or here when null; its stdout. */
export function runIn(namespace: string | null, argv: readonly string[]): Promise<string> {
  return namespace === null
    ? run(argv[0]!, argv.slice(1))
    : run("ip", ["netns", "exec", namespace, ...argv]);
}

export function sysctl(
  namespace: string | null,
  settings: Readonly<Record<string, string>>,
): Promise<string> {
  const assignments = Object.entries(settings).map(([key, value]) => `${key}=${value}`);
  const command = ["sysctl", "-q", "-w", ...assignments];
  return namespace === null
    ? run(command[0]!, command.slice(1))
    : run("ip", ["netns", "exec", namespace, ...command]);
}

export function runCommand(command: Command): Promise<string> {
  return "ip" in command
    ? ip(command.namespace, command.ip)
    : sysctl(command.namespace, command.sysctl);
}

/** Runs the phases in order; inside a phase every sequence at once. */
export async function runPhases(phases: readonly Phase[]): Promise<void> {
  for (const phase of phases) {
    const results = await Promise.allSettled(
      phase.map(async (sequence) => {
        for (const command of sequence) await runCommand(command);
      }),
    );
    const failed = results.find((result) => result.status === "rejected");
    if (failed) throw failed.reason;
  }
}

export async function listNamespaces(): Promise<string[]> {
  const text = await ip(null, ["-j", "netns", "list"]);
  if (!text.trim()) return [];
  return (JSON.parse(text) as { name: string }[]).map((entry) => entry.name);
}

export async function deleteNamespace(name: string): Promise<void> {
  await ip(null, ["netns", "delete", name]);
}

/** Processes whose network namespace is this one (SIGSTOPped ones included). */
export async function namespacePids(name: string): Promise<number[]> {
  try {
    const text = await ip(null, ["netns", "pids", name]);
    return text
      .split(/\s+/)
      .filter(Boolean)
      .map(Number)
      .filter((pid) => Number.isInteger(pid) && pid > 0);
  } catch {
    return []; // no such namespace: nothing runs in it
  }
}

export async function linkExists(namespace: string | null, name: string): Promise<boolean> {
  try {
    await ip(namespace, ["link", "show", "dev", name]);
    return true;
  } catch {
    return false;
  }
}

export async function deleteLink(namespace: string | null, name: string): Promise<void> {
  await ip(namespace, ["link", "delete", "dev", name]);
}

export async function setLink(namespace: string | null, name: string, up: boolean): Promise<void> {
  await ip(namespace, ["link", "set", "dev", name, up ? "up" : "down"]);
}

/** The host's IPv4 and IPv6 route destinations (main table), e.g. "192.0.2.0/24". */
export async function hostRouteDestinations(): Promise<{ dst: string; dev: string }[]> {
  const routes: { dst: string; dev: string }[] = [];
  for (const family of ["-4", "-6"]) {
    const text = await ip(null, ["-j", family, "route", "show"]).catch(() => "");
    if (!text.trim()) continue;
    for (const route of JSON.parse(text) as { dst: string; dev?: string }[]) {
      if (route.dst !== "default") routes.push({ dst: route.dst, dev: route.dev ?? "" });
    }
  }
  return routes;
}
