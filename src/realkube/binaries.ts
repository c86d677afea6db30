// Where the real Kubernetes binaries are: the cache scripts/k8s.sh builds from the Go
// module proxy (kube-apiserver, kube-controller-manager, kube-proxy, kubectl, etcd).
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);

export const K8S_SCRIPT = fileURLToPath(new URL("../../scripts/k8s.sh", import.meta.url));

export const BINARIES = [
  "kube-apiserver",
  "kube-controller-manager",
  "kube-proxy",
  "kubectl",
  "etcd",
] as const;
export type Binary = (typeof BINARIES)[number];

/**
 * The directory holding the binaries. HERALD_K8S_BIN names one outright; otherwise the
 * build script is run, which returns at once when its cache is warm and builds (for
 * many minutes on a cold machine) when it is not.
 */
export async function kubernetesBinaries(options: { build?: boolean } = {}): Promise<string> {
  const given = process.env.HERALD_K8S_BIN;
  if (given) {
    const missing = BINARIES.filter((binary) => !existsSync(join(given, binary)));
    if (missing.length > 0) throw new Error(`HERALD_K8S_BIN=${given} lacks ${missing.join(", ")}`);
    return given;
  }
  // --check answers from the cache alone; without it the script builds what is missing.
  const args = options.build === false ? ["--check"] : [];
  try {
    const { stdout } = await run(K8S_SCRIPT, args, { maxBuffer: 1 << 20 });
    const dir = stdout.trim().split("\n").at(-1) ?? "";
    if (!existsSync(join(dir, "kube-apiserver"))) throw new Error(`no binaries in "${dir}"`);
    return dir;
  } catch (error) {
    if (options.build === false)
      throw new Error(
        "the real Kubernetes binaries are not built yet: run scripts/k8s.sh (about 9 minutes on 2 cores, once)",
        { cause: error },
      );
    const stderr = (error as { stderr?: string }).stderr ?? "";
    throw new Error(`scripts/k8s.sh failed: ${stderr.trim() || (error as Error).message}`, {
      cause: error,
    });
  }
}
