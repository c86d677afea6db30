// `herald lab up --image LAYOUT`: the lab's controller, agents and BIRD sidecars run from
// Herald's image (scripts/image.sh, an OCI layout) instead of the source tree. No
// container engine runs here, so each process gets what its container would: the image's
// root filesystem (unpacked by umoci once per image digest, into the cache), the node's
// network namespace, and a private mount namespace in which the lab directory (its
// kubeconfig, the shared BIRD directory) and /proc, /sys and /dev are bound into that
// root before chroot. The process runs as root with the lab's capabilities, as the
// DaemonSet's containers do (docs/lab.md).
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { LabError } from "./error.ts";

const run = promisify(execFile);
const UMOCI_SCRIPT = fileURLToPath(new URL("../../scripts/umoci.sh", import.meta.url));

/** The image's entry point: what the Dockerfile and scripts/image.sh set. */
export const IMAGE_ENTRYPOINT = ["node", "/opt/herald/herald.mjs"] as const;

interface OciIndex {
  manifests?: { digest?: string; annotations?: Record<string, string> }[];
}

/**
 * The rootfs of the image at `reference` ("LAYOUT:TAG", or a layout holding one image),
 * unpacked into the cache keyed by its manifest digest; unpacked again only for another
 * image.
 */
export async function imageRootfs(reference: string): Promise<string> {
  const colon = reference.lastIndexOf(":");
  const [layout, tag] =
    colon > 0 && existsSync(join(reference.slice(0, colon), "index.json"))
      ? [reference.slice(0, colon), reference.slice(colon + 1)]
      : [reference, undefined];
  if (!existsSync(join(layout, "index.json")) || !existsSync(join(layout, "oci-layout")))
    throw new LabError(
      `--image ${reference}: not an OCI image layout (npm run image builds one in dist/image)`,
    );
  const index = JSON.parse(readFileSync(join(layout, "index.json"), "utf8")) as OciIndex;
  const manifests = index.manifests ?? [];
  const name = (m: (typeof manifests)[number]) =>
    m.annotations?.["org.opencontainers.image.ref.name"];
  const chosen = tag === undefined ? manifests : manifests.filter((m) => name(m) === tag);
  if (chosen.length !== 1 || !chosen[0]?.digest || !name(chosen[0]))
    throw new LabError(
      `--image ${reference}: name one of its images as LAYOUT:TAG (${manifests.map(name).join(", ") || "none"})`,
    );
  const digest = chosen[0].digest.replace(/^sha256:/, "").slice(0, 16);
  const cache =
    process.env.HERALD_CACHE ??
    join(process.env.XDG_CACHE_HOME ?? join(homedir(), ".cache"), "herald");
  const bundle = join(cache, `lab-image-${digest}`);
  const rootfs = join(bundle, "rootfs");
  if (existsSync(join(rootfs, ...IMAGE_ENTRYPOINT[1].split("/")))) return rootfs;
  pruneUnpacked(cache);
  const { stdout } = await run("bash", [UMOCI_SCRIPT], { maxBuffer: 1 << 20 });
  const umoci = join(stdout.trim().split("\n").at(-1)!, "umoci");
  await run("rm", ["-rf", bundle]);
  try {
    await run(umoci, ["unpack", "--image", `${layout}:${name(chosen[0])}`, bundle], {
      maxBuffer: 1 << 24,
    });
  } catch (error) {
    throw new LabError(
      `could not unpack ${reference}: ${(error as { stderr?: string }).stderr ?? String(error)}`,
    );
  }
  return rootfs;
}

/** Each build of the image is another digest: keep the two unpacked most recently. */
function pruneUnpacked(cache: string): void {
  const unpacked = readdirSync(cache)
    .filter((name) => name.startsWith("lab-image-"))
    .map((name) => ({ path: join(cache, name), at: statSync(join(cache, name)).mtimeMs }))
    .sort((a, b) => b.at - a.at);
  for (const old of unpacked.slice(2)) rmSync(old.path, { recursive: true, force: true });
}

/**
 * The program that runs `argv` inside the image: a private mount namespace (so that the
 * binds go with the process), the binds, chroot. Every `exec` keeps the pid, so the lab's
 * pid file and its SIGTERM reach the process itself.
 */
export function inImage(rootfs: string, labDir: string, argv: readonly string[]): string[] {
  // The lab directory's mount point exists in the rootfs once, for every lab.
  mkdirSync(join(rootfs, labDir), { recursive: true });
  const script = [
    "root=$1 lab=$2; shift 2",
    'mount --rbind "$lab" "$root$lab"',
    'for d in proc sys dev; do mount --rbind "/$d" "$root/$d"; done',
    'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin exec chroot "$root" "$@"',
  ].join("; ");
  return [
    "unshare",
    "--mount",
    "--propagation",
    "private",
    "sh",
    "-c",
    script,
    "herald-image",
    rootfs,
    labDir,
    ...argv,
  ];
}
