// The lab's long-lived processes: started detached (their own session, so they outlive
// `herald lab up` and a terminal's Ctrl-C), output appended to logs/<role>.log, pid in
// pids/<role>.pid. Every command line names the lab directory, which is how a pid read
// from a file is told apart from an unrelated process that reused the number.
import { spawn } from "node:child_process";
import { closeSync, openSync, readdirSync, readFileSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import type { LabFiles } from "./state.ts";

/** bin/herald.js of this checkout: the lab runs the same Herald as the command itself. */
export const HERALD = fileURLToPath(new URL("../../bin/herald.js", import.meta.url));

export interface ProcessSpec {
  /** Names the log and pid files: "apiserver", "backend-node1", "agent-node1"… */
  readonly role: string;
  /** Arguments to herald, or to `program`. */
  readonly args: readonly string[];
  /**
   * The program and its leading arguments, for processes that are not Herald (the
   * router's BGP daemons); unset, this Herald. Its command line must still name the lab
   * directory (a config file in it will do), or `down` will not know it is the lab's.
   */
  readonly program?: readonly string[];
  /** Network namespace to run in (through `ip netns exec`); null is the host's. */
  readonly namespace: string | null;
}

/** The argv that starts a spec: the program itself, or `ip netns exec`, which execs it. */
export function commandLine(spec: ProcessSpec): string[] {
  const program = [...(spec.program ?? [process.execPath, HERALD]), ...spec.args];
  return spec.namespace === null ? program : ["ip", "netns", "exec", spec.namespace, ...program];
}

export function logPath(files: LabFiles, role: string): string {
  return join(files.logs, `${role}.log`);
}

/** Starts the process and records its pid; returns the pid. */
export function startProcess(files: LabFiles, spec: ProcessSpec): number {
  const argv = commandLine(spec);
  const log = openSync(logPath(files, spec.role), "a");
  writeSync(log, `--- ${new Date().toISOString()} ${argv.join(" ")}\n`);
  const env = { ...process.env };
  // A lab started from a test must not make its processes think they are test files.
  delete env.NODE_TEST_CONTEXT;
  const child = spawn(argv[0]!, argv.slice(1), {
    detached: true,
    stdio: ["ignore", log, log],
    env,
  });
  closeSync(log);
  child.on("error", () => {}); // reported below through the missing pid
  child.unref();
  if (child.pid === undefined) throw new Error(`could not start ${spec.role}: ${argv[0]}`);
  writeFileSync(join(files.pids, `${spec.role}.pid`), `${child.pid}\n`);
  return child.pid;
}

/** role -> pid from the pid files, for processes still running and still ours. */
export function runningProcesses(files: LabFiles): Map<string, number> {
  const running = new Map<string, number>();
  let names: string[];
  try {
    names = readdirSync(files.pids);
  } catch {
    return running;
  }
  for (const name of names) {
    if (!name.endsWith(".pid")) continue;
    const pid = Number(readFileSync(join(files.pids, name), "utf8").trim());
    if (Number.isInteger(pid) && pid > 0 && isRunning(pid) && belongsTo(pid, files.dir))
      running.set(name.slice(0, -".pid".length), pid);
  }
  return running;
}

export function pidOf(files: LabFiles, role: string): number | undefined {
  return runningProcesses(files).get(role);
}

/** Alive and not a zombie (a zombie still answers kill(pid, 0)). */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

/** Whether the process's command line names the lab directory. */
/** Every process whose command line names `dir` or a path inside it. */
export function processesNaming(dir: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    const pid = Number(entry);
    if (Number.isInteger(pid) && pid !== process.pid && belongsTo(pid, dir)) found.push(pid);
  }
  return found;
}

export function belongsTo(pid: number, dir: string): boolean {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    return argv.some((arg) => arg === dir || arg.startsWith(`${dir}/`));
  } catch {
    return false;
  }
}

export function signal(pid: number, name: NodeJS.Signals): boolean {
  try {
    process.kill(pid, name);
    return true;
  } catch {
    return false;
  }
}

/**
 * SIGTERM, then SIGKILL for what is left after `graceMs`. SIGCONT first: a process a
 * hard failure stopped would hold SIGTERM pending until it runs again.
 */
export async function stopProcesses(pids: Iterable<number>, graceMs = 3000): Promise<void> {
  let left = [...new Set(pids)].filter(isRunning);
  for (const pid of left) {
    signal(pid, "SIGCONT");
    signal(pid, "SIGTERM");
  }
  const waitGone = async (ms: number) => {
    const deadline = Date.now() + ms;
    while (left.length > 0 && Date.now() < deadline) {
      await sleep(25);
      left = left.filter(isRunning);
    }
  };
  await waitGone(graceMs);
  for (const pid of left) signal(pid, "SIGKILL");
  await waitGone(2000);
}
