// The lab directory: what `up` built (state.json), where the backends run
// (backends.json, read by every backend server on each request), which nodes are failed
// and how (failures.json), the kubeconfig, and logs/ and pids/ of the processes. Every
// subcommand finds a lab here by its name.
import { existsSync, readFileSync } from "node:fs";
import { mkdir, readdir, rename, rm, rmdir, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { LabError } from "./error.ts";
import { kubeconfigPath, type LabInfo } from "./info.ts";
import { routerDir } from "./router-config.ts";

/** Everything `info` prints, plus what only the lab's own commands need. */
export interface LabState extends LabInfo {
  index: number;
  agents: boolean;
  hostInterface: string;
  /** --kube real: the directory of kube-proxy and the control plane's binaries. */
  kubeBin?: string | null;
  /** --image: the unpacked rootfs the lab's Herald processes run in. */
  image?: string | null;
  /** --daemonset: the agents read a stand-in DaemonSet on SIGTERM. */
  daemonSet?: boolean;
  /** role -> pid when last written; the pid files are the record `down` trusts. */
  pids: Record<string, number>;
}

export type FailureMode = "hard" | "agent" | "link";

export interface Failure {
  mode: FailureMode;
  /** Processes SIGSTOPped by a hard failure, to SIGCONT on heal. */
  stopped: number[];
}

/** --dir, else HERALD_LAB_DIR, else /run/herald/lab-<name> (tmpfs: a reboot clears it). */
export function labDir(name: string, dir?: string): string {
  return dir || process.env.HERALD_LAB_DIR || `/run/herald/lab-${name}`;
}

export class LabFiles {
  readonly dir: string;
  readonly state: string;
  readonly backends: string;
  readonly failures: string;
  readonly kubeconfig: string;
  /** Written by the endpoints process once its caches are synced and slices written. */
  readonly endpointsReady: string;
  readonly logs: string;
  readonly pids: string;
  /** The agents' BIRD configurations and sockets, one directory per node. */
  readonly bird: string;
  /** The router's BGP daemon: configuration, control sockets (router.ts). */
  readonly router: string;
  /** --kube real: the control plane's certificates, etcd data and kubeconfigs. */
  readonly kube: string;

  constructor(dir: string) {
    this.dir = dir;
    this.state = join(dir, "state.json");
    this.backends = join(dir, "backends.json");
    this.failures = join(dir, "failures.json");
    this.kubeconfig = kubeconfigPath(dir);
    this.endpointsReady = join(dir, "endpoints.ready");
    this.logs = join(dir, "logs");
    this.pids = join(dir, "pids");
    this.bird = join(dir, "bird");
    this.router = routerDir(dir);
    this.kube = join(dir, "kube");
  }

  /** Makes the directory; refuses one that holds something other than a lab. */
  async create(): Promise<void> {
    if (!(await this.isLabOrEmpty()))
      throw new LabError(`${this.dir} holds something other than a lab; choose another --dir`);
    await this.remove();
    await mkdir(this.logs, { recursive: true });
    await mkdir(this.pids, { recursive: true });
  }

  /** Missing, empty, or written by a lab (state.json, or nothing but the lab's own files). */
  async isLabOrEmpty(): Promise<boolean> {
    if (!existsSync(this.dir)) return true;
    const entries = await readdir(this.dir);
    const ours = new Set(this.#ownPaths().map((path) => basename(path)));
    return entries.includes("state.json") || entries.every((entry) => ours.has(entry));
  }

  readState(): LabState | undefined {
    return readJson<LabState>(this.state);
  }

  async writeState(state: LabState): Promise<void> {
    await writeJson(this.state, state);
  }

  readBackends(): string[] {
    return readJson<{ nodes: string[] }>(this.backends)?.nodes ?? [];
  }

  async writeBackends(nodes: readonly string[]): Promise<void> {
    await writeJson(this.backends, { nodes });
  }

  readFailures(): Record<string, Failure> {
    return readJson<Record<string, Failure>>(this.failures) ?? {};
  }

  async writeFailures(failures: Record<string, Failure>): Promise<void> {
    await writeJson(this.failures, failures);
  }

  /**
   * Removes what the lab wrote, then the directory if that leaves it empty. A --dir
   * pointed by mistake at someone's own directory (no state.json, files that are not
   * the lab's) is left as it is: its "kubeconfig" may be theirs.
   */
  async remove(): Promise<void> {
    if (!(await this.isLabOrEmpty())) return;
    for (const path of this.#ownPaths()) await rm(path, { recursive: true, force: true });
    await rmdir(this.dir).catch(() => {});
  }

  #ownPaths(): string[] {
    return [
      this.state,
      this.backends,
      this.failures,
      this.kubeconfig,
      this.endpointsReady,
      this.logs,
      this.pids,
      this.router,
      this.bird,
      this.kube,
    ];
  }
}

function readJson<T>(path: string): T | undefined {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as T;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

/** Write-then-rename, so a reader (a backend serving a request) never sees half a file. */
async function writeJson(path: string, value: unknown): Promise<void> {
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(value, null, 2)}\n`);
  await rename(temporary, path);
}
