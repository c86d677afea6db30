// A real control plane as child processes of this one, in a directory of its own, on
// loopback ports picked free — what a test or a benchmark starts where it would start
// devkube. The lab runs the same commands as its own detached daemons instead.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, openSync, closeSync, readFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { createServer, type AddressInfo, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { kubernetesBinaries } from "./binaries.ts";
import {
  apiserverReady,
  controlPlaneCommands,
  etcdHealthy,
  prepareControlPlane,
  type ControlPlaneFiles,
} from "./control-plane.ts";

export interface RealKubeOptions {
  /** Run kube-controller-manager too (ServiceAccounts, EndpointSlices, garbage collection). */
  readonly controllerManager?: boolean;
  /** Keep the directory (logs, etcd) after stop, for a look at what happened. */
  readonly keep?: boolean;
  /** Write an audit log (auditLog), to count the requests each client makes. */
  readonly audit?: boolean;
  /** Another kube-apiserver binary than the cache's (an older release). */
  readonly apiserver?: string;
}

const START_TIMEOUT_MS = 90_000;

export class RealKube {
  readonly dir: string;
  readonly files: ControlPlaneFiles;
  readonly bin: string;
  readonly #children: { name: string; child: ChildProcess }[];
  readonly #keep: boolean;

  private constructor(
    dir: string,
    bin: string,
    files: ControlPlaneFiles,
    children: { name: string; child: ChildProcess }[],
    keep: boolean,
  ) {
    this.dir = dir;
    this.bin = bin;
    this.files = files;
    this.#children = children;
    this.#keep = keep;
  }

  static async start(options: RealKubeOptions = {}): Promise<RealKube> {
    const bin = await kubernetesBinaries({ build: false });
    const dir = mkdtempSync(join(tmpdir(), "herald-realkube-"));
    const [port, etcdPort, etcdPeerPort] = await freePorts(3);
    const planeOptions = {
      dir,
      bin,
      address: "127.0.0.1",
      port: port!,
      etcdPort: etcdPort!,
      etcdPeerPort: etcdPeerPort!,
      ...(options.audit ? { auditLog: join(dir, "audit.log") } : {}),
      ...(options.apiserver ? { apiserver: options.apiserver } : {}),
    };
    const children: { name: string; child: ChildProcess }[] = [];
    const kube = new RealKube(
      dir,
      bin,
      await prepareControlPlane(planeOptions),
      children,
      options.keep ?? false,
    );
    try {
      const commands = controlPlaneCommands(planeOptions, kube.files);
      children.push({ name: "etcd", child: kube.#spawn("etcd", commands.etcd) });
      await kube.#waitFor("etcd", () => etcdHealthy(etcdPort!));
      children.push({
        name: "kube-apiserver",
        child: kube.#spawn("kube-apiserver", commands.apiserver),
      });
      await kube.#waitFor("kube-apiserver", () => apiserverReady(kube.files));
      if (options.controllerManager) {
        children.push({
          name: "kube-controller-manager",
          child: kube.#spawn("kube-controller-manager", commands.controllerManager),
        });
      }
      return kube;
    } catch (error) {
      await kube.stop();
      throw error;
    }
  }

  /** The audit log's path (written only with options.audit). */
  get auditLog(): string {
    return join(this.dir, "audit.log");
  }

  get server(): string {
    return this.files.server;
  }

  /** The admin kubeconfig's text. */
  adminKubeconfig(): string {
    return readFileSync(this.files.adminKubeconfig, "utf8");
  }

  log(name: string): string {
    try {
      return readFileSync(join(this.dir, `${name}.log`), "utf8");
    } catch {
      return "";
    }
  }

  async stop(): Promise<void> {
    // The API server first: etcd going away under it only makes it log.
    for (const { child } of [...this.#children].reverse()) await stopChild(child);
    this.#children.length = 0;
    if (!this.#keep) await rm(this.dir, { recursive: true, force: true });
  }

  #spawn(name: string, argv: readonly string[]): ChildProcess {
    const log = openSync(join(this.dir, `${name}.log`), "a");
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", log, log] });
    closeSync(log);
    child.on("error", () => {});
    return child;
  }

  async #waitFor(name: string, ready: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + START_TIMEOUT_MS;
    const entry = this.#children.find((candidate) => candidate.name === name);
    while (!(await ready())) {
      if (entry && entry.child.exitCode !== null)
        throw new Error(`${name} exited (${entry.child.exitCode}): ${lastLines(this.log(name))}`);
      if (Date.now() > deadline)
        throw new Error(
          `${name} not ready after ${START_TIMEOUT_MS / 1000} s: ${lastLines(this.log(name))}`,
        );
      await sleep(100);
    }
  }
}

function lastLines(text: string): string {
  return text.trimEnd().split("\n").slice(-8).join("\n");
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill("SIGTERM");
  const timeout = sleep(5000).then(() => "timeout" as const);
  if ((await Promise.race([exited, timeout])) === "timeout") {
    child.kill("SIGKILL");
    await exited;
  }
}

/** Ports free on loopback right now (the kernel's pick; a race only with other pickers). */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<Server>((resolve, reject) => {
          const server = createServer();
          server.once("error", reject);
          server.listen(0, "127.0.0.1", () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((server) => (server.address() as AddressInfo).port);
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}
