// What both controller benchmarks (devkube: controller.ts, kube-apiserver:
// controller-real.ts) do with the controller's process: its command line, start, stop,
// readiness, and what it cost (peak RSS, CPU time).
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const bin = fileURLToPath(new URL("../bin/herald.js", import.meta.url));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const rssMiB = (pid: number) =>
  Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? 0) / 1024;

// CPU time a process has used (user + system), in ms: on a shared 2-core machine a
// steadier measure of cost than wall time. /proc/PID/stat counts in clock ticks (100/s).
export const cpuMillis = (pid: number) => {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
};

/** `herald controller` with its health port (which also names its identity). */
export function controllerArgs(
  kubeconfig: string,
  workers: string,
  healthPort: number,
  logLevel = "warn",
): string[] {
  return [
    "controller",
    "--kubeconfig",
    kubeconfig,
    "--namespace",
    "herald-system",
    "--identity",
    `bench-${healthPort}`,
    "--workers",
    workers,
    "--metrics-address",
    "0",
    "--health-address",
    `127.0.0.1:${healthPort}`,
    "--log-level",
    logLevel,
  ];
}

/** Starts this Herald with `args` (and node flags), recorded in `children` for the end. */
export function startHerald(
  children: ChildProcess[],
  args: string[],
  options: { nodeFlags?: string[]; stdout?: "pipe" | "ignore" } = {},
): ChildProcess {
  const nodeFlags = options.nodeFlags ?? [];
  const child = spawn(process.execPath, [...nodeFlags, bin, ...args], {
    stdio: ["ignore", options.stdout ?? "ignore", "inherit"],
  });
  children.push(child);
  if (nodeFlags.length > 0) process.stderr.write(`pid ${child.pid}: ${args[0]}\n`);
  return child;
}

export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await exited;
}

export async function untilReady(healthPort: number): Promise<void> {
  for (;;) {
    const ok = await fetch(`http://127.0.0.1:${healthPort}/readyz`)
      .then((response) => response.ok)
      .catch(() => false);
    if (ok) return;
    await sleep(5);
  }
}
