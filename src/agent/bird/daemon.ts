// BIRD as the agent drives it: given new configuration only after BIRD's own parser
// accepted it, and asked for its sessions. In "child" mode the agent also runs BIRD (in
// the foreground, restarted when it dies); in "sidecar" mode BIRD is another container of
// the pod (another process of the lab), started on the file the agent writes, and the
// agent neither starts nor stops it, so an agent restart leaves the BGP sessions up.
// What birdc prints is read in status.ts; this file only runs programs and files.
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { chmod, mkdir, readFile, rename, unlink, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { createInterface } from "node:readline";
import type { BGPSessionStatus } from "../../api/nodestate.ts";
import type { Logger } from "../../log.ts";
import { parseBgpSessions, parseConfigureReply } from "./status.ts";

export interface BirdDaemonOptions {
  /** The configuration BIRD runs with; `apply()` replaces it. */
  configPath: string;
  /** BIRD's control socket, for birdc. */
  socketPath: string;
  /**
   * Run BIRD inside this network namespace (`ip netns exec NAME bird ...`). For tests: the
   * agent runs in the host's namespace (hostNetwork) and leaves this unset.
   */
  netns?: string;
  /** "child" (the default): the agent runs BIRD. "sidecar": someone else does. */
  mode?: BirdMode;
  log: Logger;
}

export const BIRD_MODES = ["child", "sidecar"] as const;
export type BirdMode = (typeof BIRD_MODES)[number];

export type ApplyResult = { ok: true } | { error: string };

interface CommandResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

// birdc answers in milliseconds; a wedged BIRD must not stall the agent's loop forever.
const COMMAND_TIMEOUT_MS = 10_000;
// From spawn to a control socket that answers: BIRD reads its config and opens the socket
// at once, so this is generous.
const READY_TIMEOUT_MS = 10_000;
const READY_POLL_MS = 50;
// Restarts after BIRD dies: quickly at first (routes are being withdrawn meanwhile), then
// backing off so that a BIRD that cannot start does not spin.
const RESTART_FIRST_MS = 500;
const RESTART_MAX_MS = 30_000;
// A BIRD that ran this long before dying counts as healthy: the next restart is quick again.
const HEALTHY_RUN_MS = 60_000;
// SIGTERM makes BIRD close its sessions with a Cease notification; it takes well under this.
const STOP_GRACE_MS = 5_000;

// BIRD's log classes (`log stderr {...}` in the rendered configuration) and our levels.
const LOG_LEVELS: Readonly<Record<string, "debug" | "info" | "warn" | "error">> = {
  INFO: "info",
  RMT: "info",
  AUTH: "warn",
  WARN: "warn",
  ERR: "error",
  BUG: "error",
  FATAL: "error",
  DBG: "debug",
  TRACE: "debug",
};

function run(file: string, args: readonly string[]): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { encoding: "utf8", timeout: COMMAND_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== "number") {
          reject(new Error(`${file} ${args.join(" ")}: ${error.message}`, { cause: error }));
          return;
        }
        resolve({ exitCode: error ? Number(error.code) : 0, stdout, stderr });
      },
    );
  });
}

export class BirdDaemon {
  readonly #configPath: string;
  readonly #socketPath: string;
  readonly #prefix: readonly string[];
  readonly #log: Logger;
  readonly #sidecar: boolean;
  #child: ChildProcess | undefined;
  #childExited: Promise<void> | undefined;
  #startedAt = 0;
  /** start() was called (or apply() started BIRD) and stop() was not. */
  #wanted = false;
  #stopped = false;
  #restartTimer: NodeJS.Timeout | undefined;
  #restartDelayMs = RESTART_FIRST_MS;
  /** Serialises apply(): one temporary file, one rename, one configure at a time. */
  #applying: Promise<unknown> = Promise.resolve();
  #tempCounter = 0;
  /** The configuration BIRD last took, to skip applying it again. */
  #applied: string | undefined;

  constructor(options: BirdDaemonOptions) {
    this.#configPath = options.configPath;
    this.#socketPath = options.socketPath;
    this.#prefix = options.netns === undefined ? [] : ["ip", "netns", "exec", options.netns];
    this.#log = options.log;
    this.#sidecar = options.mode === "sidecar";
  }

  /** Whether there is a BIRD to talk to: our child, or the sidecar (assumed always). */
  get #running(): boolean {
    return this.#sidecar || this.#child !== undefined;
  }

  /**
   * Runs BIRD, and keeps it running until stop(). Without a configuration file yet, BIRD
   * starts with the first apply(): it refuses to start without one.
   */
  async start(): Promise<void> {
    if (this.#stopped) throw new Error("BirdDaemon: start() after stop()");
    this.#wanted = true;
    if (this.#running) return;
    const exists = await readFile(this.#configPath, "utf8").then(
      () => true,
      () => false,
    );
    if (exists) await this.#spawnAndWait();
  }

  /**
   * Replaces BIRD's configuration. The text is checked by BIRD's own parser (`bird -p`)
   * before it replaces the file, and a refused one leaves both the file and the running
   * BIRD as they were; `birdc configure` then applies it, restarting only the sessions
   * whose settings changed (BIRD's own diff), and reloading exports where only filters did.
   */
  apply(config: string): Promise<ApplyResult> {
    const next = this.#applying.then(() => this.#apply(config));
    this.#applying = next.catch(() => undefined);
    return next;
  }

  async #apply(config: string): Promise<ApplyResult> {
    // The agent renders on every change of its inputs; most renders change nothing.
    if (config === this.#applied && this.#running) return { ok: true };
    const current = await readFile(this.#configPath, "utf8").catch(() => undefined);
    // A restarted agent finds the file its predecessor wrote; a BIRD sidecar runs it.
    if (this.#sidecar && config === current && (await this.#waitReady())) {
      this.#applied = config;
      return { ok: true };
    }
    // Its own directory, closed to others whatever the umask: the file holds passwords and
    // the socket beside it controls BIRD.
    await mkdir(dirname(this.#configPath), { recursive: true, mode: 0o700 });
    await chmod(dirname(this.#configPath), 0o700);
    const temp = `${this.#configPath}.${process.pid}.${++this.#tempCounter}.tmp`;
    // The file holds the peers' TCP MD5 passwords.
    await writeFile(temp, config, { mode: 0o600 });
    try {
      const check = await run("bird", ["-p", "-c", temp]);
      if (check.exitCode !== 0) {
        const said = `${check.stderr}${check.stdout}`
          .trim()
          .replace(/^bird: /gm, "")
          .replaceAll(temp, this.#configPath);
        return { error: said || `bird -p exited with status ${check.exitCode}` };
      }
      await rename(temp, this.#configPath);
      if (this.#stopped) return { ok: true };
      this.#wanted = true;
      if (!this.#running) {
        // Not running (never started, or waiting to restart): start it on the new file.
        if (!(await this.#spawnAndWait())) {
          return { error: "BIRD did not start; see the agent's log" };
        }
        this.#applied = config;
        return { ok: true };
      }
      if (!(await this.#waitReady()))
        return {
          error: this.#sidecar
            ? `the BIRD sidecar is not answering on ${this.#socketPath}`
            : "BIRD is not answering on its socket",
        };
      const reply = parseConfigureReply(await this.#birdc(["configure"]));
      if ("ok" in reply) {
        this.#applied = config;
      } else if (current !== undefined) {
        // The parser passed it, yet BIRD refused it: keep the file BIRD runs, so that a
        // restart comes back with the configuration that worked.
        await writeFile(temp, current, { mode: 0o600 });
        await rename(temp, this.#configPath);
      }
      return reply;
    } finally {
      await unlink(temp).catch(() => undefined);
    }
  }

  /** The BGP sessions BIRD has now; throws when BIRD does not answer. */
  async sessions(): Promise<BGPSessionStatus[]> {
    return parseBgpSessions(await this.#birdc(["show", "protocols", "all"]));
  }

  /**
   * Stops BIRD (its sessions close with a Cease notification) and does not restart it. A
   * sidecar is left running: it belongs to the pod, and it keeps the sessions up while
   * the agent restarts.
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wanted = false;
    clearTimeout(this.#restartTimer);
    this.#restartTimer = undefined;
    const child = this.#child;
    const exited = this.#childExited;
    if (!child || !exited) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
    await exited;
    clearTimeout(timer);
  }

  // The control socket is a file, reachable from any network namespace: birdc needs no
  // `ip netns exec`, only BIRD does (its sessions and interfaces are the namespace's).
  async #birdc(args: readonly string[]): Promise<string> {
    const result = await run("birdc", ["-s", this.#socketPath, ...args]);
    const output = `${result.stdout}${result.stderr}`;
    if (/Unable to connect to server control socket/.test(output)) {
      throw new Error(`BIRD is not running: ${output.trim()}`);
    }
    return result.stdout;
  }

  async #spawnAndWait(): Promise<boolean> {
    this.#spawn();
    return this.#waitReady();
  }

  #spawn(): void {
    clearTimeout(this.#restartTimer);
    this.#restartTimer = undefined;
    const command = [...this.#prefix, "bird", "-f", "-c", this.#configPath, "-s", this.#socketPath];
    const [file = "", ...args] = command;
    const child = spawn(file, args, { stdio: ["ignore", "ignore", "pipe"] });
    this.#child = child;
    this.#startedAt = Date.now();
    const lines = createInterface({ input: child.stderr });
    lines.on("line", (line) => this.#logLine(line));
    this.#childExited = new Promise((resolve) => {
      let ended = false;
      const end = (code: number | null, signal: NodeJS.Signals | null) => {
        if (ended) return;
        ended = true;
        if (this.#child === child) this.#child = undefined;
        this.#onExit(code, signal);
        resolve();
      };
      // A program that cannot be run at all (ENOENT) emits "error" and may never "close".
      child.on("error", (error) => {
        this.#log.error({ err: error }, "BIRD could not be started");
        if (child.pid === undefined) end(null, null);
      });
      child.on("close", end);
    });
    this.#log.info({ pid: child.pid, config: this.#configPath }, "BIRD started");
  }

  #onExit(code: number | null, signal: NodeJS.Signals | null): void {
    if (!this.#wanted) {
      this.#log.info({ code, signal }, "BIRD stopped");
      return;
    }
    if (Date.now() - this.#startedAt >= HEALTHY_RUN_MS) this.#restartDelayMs = RESTART_FIRST_MS;
    const delayMs = this.#restartDelayMs;
    this.#restartDelayMs = Math.min(delayMs * 2, RESTART_MAX_MS);
    this.#log.warn({ code, signal, restartInMs: delayMs }, "BIRD exited; restarting it");
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = undefined;
      if (this.#wanted && !this.#child) this.#spawn();
    }, delayMs);
  }

  /** Whether BIRD answers on its socket, waiting for a starting one. */
  async #waitReady(): Promise<boolean> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (this.#running && Date.now() < deadline) {
      const status = await run("birdc", ["-s", this.#socketPath, "show", "status"]).catch(
        () => undefined,
      );
      if (status?.stdout.includes("Daemon is up and running")) return true;
      await new Promise((resolve) => setTimeout(resolve, READY_POLL_MS));
    }
    return false;
  }

  // "2026-11-21 13:20:35.467 <RMT> peer_b4: Received: Other configuration change"
  #logLine(line: string): void {
    const match = /^\S+ \S+ <([A-Z]+)> (.*)$/.exec(line);
    const message = match?.[2] ?? line;
    let level = (match && LOG_LEVELS[match[1]!]) ?? "info";
    // BIRD files its normal shutdown under FATAL.
    if (message === "Shutdown completed") level = "info";
    this.#log[level]({ bird: match?.[1] }, message);
  }
}
