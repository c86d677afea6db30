// The image as scripts/image.sh builds it without Docker (deploy/image, docs/image.md):
// built (its Debian layer reused from ~/.cache/herald when packages.txt and rootfs.lock
// have not changed), unpacked by umoci, and read: every Debian package the lock names and
// no other, no npm, npx or corepack, no devkube or lab code, its size; then its entrypoint
// run in a chroot of the unpacked rootfs — --version, and the controller against an API
// server outside. deploy/Dockerfile is read too: it must describe the same contents.
// Needs root (mmdebstrap, chroot) and the Debian mirror for a first build.
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import {
  existsSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { dump, load } from "js-yaml";
import { startCluster, waitFor } from "./cluster.ts";

const root = fileURLToPath(new URL("../", import.meta.url));
const { version } = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
  version: string;
};
// The compressed image (Debian ~43 MB, Node ~47 MB, the bundle under 1 MB): a bound that a
// stray package, documentation or a second Node would break.
const MAX_IMAGE_BYTES = 110 * 1024 * 1024;

const isRoot = process.getuid?.() === 0;
const dir = mkdtempSync(join(tmpdir(), "herald-image-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function ok(command: string, args: string[], timeout = 600_000): string {
  const result = spawnSync(command, args, {
    cwd: root,
    encoding: "utf8",
    timeout,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error) throw result.error;
  assert.equal(result.status, 0, `${command} ${args.join(" ")} failed:\n${result.stderr}`);
  return result.stdout;
}

/** name=version lines of a file, comments and blank lines left out. */
function pins(file: string): string[] {
  return readFileSync(join(root, file), "utf8")
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !line.startsWith("#"));
}

interface ImageConfig {
  config: { User?: string; Entrypoint?: string[]; Cmd?: string[]; Env?: string[] };
  created?: string;
}

describe("deploy/Dockerfile and scripts/image.sh describe the same image", () => {
  const dockerfile = readFileSync(join(root, "deploy/Dockerfile"), "utf8");
  const script = readFileSync(join(root, "scripts/image.sh"), "utf8");

  it("both install the packages of deploy/image/packages.txt, pinned", () => {
    const packages = pins("deploy/image/packages.txt");
    assert.ok(packages.length >= 5);
    for (const pin of packages) assert.match(pin, /^[a-z0-9][a-z0-9+.-]*=[^\s=]+$/, pin);
    for (const name of ["bird2", "iproute2", "arping", "ndisc6", "procps", "nftables"]) {
      assert.ok(
        packages.some((pin) => pin.startsWith(`${name}=`)),
        `${name} pinned`,
      );
    }
    assert.match(dockerfile, /^COPY deploy\/image\/packages\.txt \/tmp\/packages\.txt$/m);
    assert.match(dockerfile, /apt-get install [^\n]*\$\(grep -v '\^\\s\*#' \/tmp\/packages\.txt\)/);
    // No other apt-get install in the Dockerfile: nothing unpinned.
    assert.equal(dockerfile.match(/apt-get install/g)?.length, 1);
    assert.match(script, /^packages="\$root\/deploy\/image\/packages\.txt"$/m);
  });

  it("the same user, Node, bundle path and entrypoint", () => {
    assert.match(dockerfile, /^USER 65532:65532$/m);
    assert.match(dockerfile, /useradd [^\n]*--uid 65532 --gid 65532/);
    assert.match(script, /herald:x:65532:65532:/);
    assert.match(script, /--config\.user 65532:65532/);
    assert.match(dockerfile, /^ENTRYPOINT \["node", "\/opt\/herald\/herald\.mjs"\]$/m);
    assert.match(
      script,
      /--config\.entrypoint node --config\.entrypoint \/opt\/herald\/herald\.mjs/,
    );
    assert.match(dockerfile, /^CMD \["--help"\]$/m);
    assert.match(script, /--config\.cmd --help/);
    assert.match(
      dockerfile,
      /^COPY --from=build \/usr\/local\/bin\/node \/usr\/local\/bin\/node$/m,
    );
    assert.match(script, /usr\/local\/bin\/node"$/m);
    assert.match(dockerfile, /^COPY --from=build \/src\/dist\/herald\.mjs .* \/opt\/herald\/$/m);
    assert.match(script, /"\$work\/herald\/opt\/herald\/"$/m);
    // Both on bookworm; the Dockerfile's runtime stage has no Node image (npm, npx, corepack).
    assert.match(dockerfile, /^FROM debian:bookworm-slim$/m);
    assert.match(script, /bookworm "\$dir" "\$mirror"/);
  });
});

describe(
  "the image built by scripts/image.sh",
  { skip: !isRoot && "needs root: mmdebstrap and chroot" },
  () => {
    const layout = join(dir, "layout");
    const bundle = join(dir, "bundle");
    const rootfs = join(bundle, "rootfs");
    let umoci = "";
    let digest = "";
    before(() => {
      const printed = ok(join(root, "scripts/image.sh"), [layout]).trim();
      digest = /(sha256:[0-9a-f]{64})$/.exec(printed)?.[1] ?? "";
      umoci = join(ok(join(root, "scripts/umoci.sh"), []).trim(), "umoci");
      ok(umoci, ["unpack", "--image", `${layout}:${version}`, bundle]);
    });

    it("is an OCI layout whose index names the digest the build printed", () => {
      const index = JSON.parse(readFileSync(join(layout, "index.json"), "utf8")) as {
        manifests: { digest: string; annotations?: Record<string, string> }[];
      };
      assert.equal(index.manifests.length, 1);
      assert.equal(index.manifests[0]!.digest, digest);
      assert.equal(index.manifests[0]!.annotations?.["org.opencontainers.image.ref.name"], version);
    });

    it("is reproducible: a second build gives the same digest", () => {
      const again = ok(join(root, "scripts/image.sh"), [join(dir, "again")]).trim();
      assert.equal(/(sha256:[0-9a-f]{64})$/.exec(again)?.[1], digest);
    });

    it("has three layers and stays under its size bound", () => {
      const blob = (d: string) => join(layout, "blobs", d.replace(":", "/"));
      const manifest = JSON.parse(readFileSync(blob(digest), "utf8")) as {
        config: { digest: string };
        layers: { digest: string; size: number }[];
      };
      assert.equal(manifest.layers.length, 3, "Debian, Node, the bundle");
      const total = manifest.layers.reduce((sum, layer) => sum + layer.size, 0);
      assert.ok(total < MAX_IMAGE_BYTES, `${total} bytes compressed, bound ${MAX_IMAGE_BYTES}`);
      assert.ok(
        manifest.layers[2]!.size < 2 * 1024 * 1024,
        "the bundle layer holds the bundle alone",
      );
      const config = JSON.parse(readFileSync(blob(manifest.config.digest), "utf8")) as ImageConfig;
      assert.equal(config.config.User, "65532:65532");
      assert.deepEqual(config.config.Entrypoint, ["node", "/opt/herald/herald.mjs"]);
      assert.deepEqual(config.config.Cmd, ["--help"]);
    });

    it("holds exactly the Debian packages of deploy/image/rootfs.lock", () => {
      const installed = ok("dpkg-query", [
        `--admindir=${join(rootfs, "var/lib/dpkg")}`,
        "-W",
        "-f",
        "${Package}=${Version}\\n",
      ])
        .trim()
        .split("\n")
        .sort();
      assert.deepEqual(installed, pins("deploy/image/rootfs.lock").sort());
      for (const pin of pins("deploy/image/packages.txt")) assert.ok(installed.includes(pin), pin);
      assert.ok(!installed.some((pin) => /^(nodejs|npm|apt)=/.test(pin)), "no nodejs, npm or apt");
    });

    it("has no npm, npx or corepack and no devkube or lab code", () => {
      const found = ok("find", [
        rootfs,
        "-name",
        "npm",
        "-o",
        "-name",
        "npx",
        "-o",
        "-name",
        "corepack",
      ]);
      assert.equal(found.trim(), "");
      assert.deepEqual(readdirSync(join(rootfs, "opt/herald")).sort(), [
        "herald.mjs",
        "herald.mjs.LEGAL.txt",
      ]);
      const code = readFileSync(join(rootfs, "opt/herald/herald.mjs"), "utf8");
      // Strings only devkube and the lab carry: their command names and devkube's banner.
      for (const marker of ["dev-apiserver", "devkube", "lab up", "hl-"]) {
        assert.ok(!code.includes(marker), `the bundle mentions ${marker}`);
      }
      assert.ok(
        existsSync(join(rootfs, "usr/sbin/bird")) && existsSync(join(rootfs, "usr/sbin/birdc")),
      );
      for (const tool of [
        "bin/ip",
        "usr/sbin/arping",
        "usr/bin/ndisc6",
        "usr/sbin/sysctl",
        "usr/sbin/nft",
        "bin/sh",
      ]) {
        assert.ok(existsSync(join(rootfs, tool)) || existsSync(join(rootfs, "usr", tool)), tool);
      }
      assert.equal(statSync(join(rootfs, "usr/local/bin/node")).mode & 0o777, 0o755);
    });

    it("runs its entrypoint in a chroot: --version, and the help names only the daemons (controller, agent, agent-sysctls)", () => {
      assert.equal(
        ok("chroot", [rootfs, "node", "/opt/herald/herald.mjs", "--version"]).trim(),
        version,
      );
      const help = ok("chroot", [rootfs, "node", "/opt/herald/herald.mjs", "--help"]);
      const commands = [...help.matchAll(/^ {2}([a-z][a-z-]*) /gm)].map((match) => match[1]);
      assert.deepEqual(commands, ["controller", "agent", "agent-sysctls", "help"]);
    });

    it("runs under runc, as the image's user: --version", () => {
      // Debian's runc (scripts/setup.sh installs it). Debian's crun 1.8 refuses this host's
      // hybrid cgroup layout (cgroup v1 with a v2 mount beside it); runc runs it.
      const config = JSON.parse(readFileSync(join(bundle, "config.json"), "utf8")) as {
        process: { args: string[]; terminal: boolean; user: { uid: number; gid: number } };
      };
      assert.deepEqual(config.process.user.uid, 65532);
      config.process.args = ["node", "/opt/herald/herald.mjs", "--version"];
      config.process.terminal = false;
      const runBundle = join(dir, "runc-bundle");
      ok("cp", ["-a", bundle, runBundle]);
      writeFileSync(join(runBundle, "config.json"), JSON.stringify(config));
      const id = `herald-image-test-${process.pid}`;
      try {
        assert.equal(ok("runc", ["run", "--bundle", runBundle, id], 60_000).trim(), version);
      } finally {
        spawnSync("runc", ["delete", "--force", id]);
      }
    });

    it("runs the controller from the chroot against an API server outside: ready and allocating", async () => {
      const cluster = await startCluster();
      // Inside the chroot, as user 65532, the files a kubeconfig names are out of reach: their
      // contents go in instead (kube-apiserver's admin kubeconfig names its certificates).
      writeFileSync(join(rootfs, "tmp/kubeconfig"), selfContained(cluster.kubeconfig()), {
        mode: 0o644,
      });
      const [metricsPort, healthPort] = [await freePort(), await freePort()];
      const child = spawn(
        "chroot",
        [
          "--userspec=65532:65532",
          rootfs,
          "node",
          "/opt/herald/herald.mjs",
          "controller",
          "--kubeconfig",
          "/tmp/kubeconfig",
          "--namespace",
          "herald-system",
          "--identity",
          "image-test",
          "--metrics-address",
          `127.0.0.1:${metricsPort}`,
          "--health-address",
          `127.0.0.1:${healthPort}`,
        ],
        { stdio: ["ignore", "ignore", "pipe"] },
      );
      let stderr = "";
      child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
      try {
        await cluster.post("/api/v1/namespaces", {
          apiVersion: "v1",
          kind: "Namespace",
          metadata: { name: "herald-system" },
        });
        const status = async (port: number, path: string) =>
          (await fetch(`http://127.0.0.1:${port}${path}`).catch(() => undefined))?.status;
        await waitFor(
          `the controller's /readyz (stderr: ${stderr.slice(-500)})`,
          async () => (await status(healthPort, "/readyz")) === 200,
          30_000,
        );
        await cluster.post("/apis/herald.dev/v1alpha1/addresspools", {
          apiVersion: "herald.dev/v1alpha1",
          kind: "AddressPool",
          metadata: { name: "lan" },
          spec: { addresses: ["192.0.2.10-192.0.2.20"] },
        });
        await cluster.post("/api/v1/namespaces/default/services", {
          apiVersion: "v1",
          kind: "Service",
          metadata: { name: "web", namespace: "default" },
          spec: { type: "LoadBalancer", ports: [{ port: 80 }] },
        });
        await waitFor("an address for default/web", async () => {
          const service = await cluster.core.readNamespacedServiceStatus({
            name: "web",
            namespace: "default",
          });
          return service.status?.loadBalancer?.ingress?.[0]?.ip === "192.0.2.10";
        });
        child.kill("SIGTERM");
        assert.equal(
          await exited,
          0,
          `the controller did not stop cleanly:\n${stderr.slice(-2000)}`,
        );
      } finally {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill("SIGKILL");
          await exited;
        }
        await cluster.stop();
      }
    });
  },
);

/** The kubeconfig with every file it names (certificates, keys) inlined as *-data. */
function selfContained(kubeconfig: string): string {
  const config = load(kubeconfig) as {
    clusters?: { cluster: Record<string, string> }[];
    users?: { user: Record<string, string> }[];
  };
  const inline = (entry: Record<string, string>, keys: string[]) => {
    for (const key of keys) {
      if (entry[key] === undefined) continue;
      entry[`${key}-data`] = readFileSync(entry[key]).toString("base64");
      delete entry[key];
    }
  };
  for (const { cluster } of config.clusters ?? []) inline(cluster, ["certificate-authority"]);
  for (const { user } of config.users ?? []) inline(user, ["client-certificate", "client-key"]);
  return dump(config);
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
