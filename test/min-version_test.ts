// The oldest Kubernetes docs/install.md says Herald runs on (1.34: older API servers refuse
// the AddressPool CRD, unable to estimate the cost of its cidr() rules), proven on its own
// kube-apiserver (built by scripts/k8s.sh from the Go module proxy, kube-apiserver alone,
// into its own cache): deploy/herald.yaml applies, the CRDs' CEL rules with the IP and
// CIDR libraries are enforced, and the agents' admission policy reads the node from a
// Pod-bound token. Needs Go and the module proxy on first run (a few minutes to build);
// no root.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { K8S_SCRIPT } from "../src/realkube/binaries.ts";
import { assertAgentWritesOnlyItsNodeState } from "./agent-admission.ts";
import { startCluster, type TestCluster } from "./cluster.ts";
import { runAsync } from "./processes.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "herald-min-version-"));
let cluster: TestCluster;
let kubeconfig: string;

let oldest = "";

describe("the oldest supported Kubernetes (scripts/k8s.sh --oldest)", () => {
  before(async () => {
    const run = promisify(execFile);
    const { stdout } = await run("bash", [K8S_SCRIPT, "--oldest"], { maxBuffer: 1 << 20 });
    const bin = stdout.trim().split("\n").at(-1)!;
    // "Kubernetes v1.31.14"
    oldest = (await run(join(bin, "kube-apiserver"), ["--version"])).stdout.trim().split(" ")[1]!;
    cluster = await startCluster({
      backend: "real",
      crds: false,
      apiserver: join(bin, "kube-apiserver"),
    });
    kubeconfig = join(dir, "admin.kubeconfig");
    writeFileSync(kubeconfig, cluster.kubeconfig());
  });
  after(() => cluster?.stop());

  it("is the release docs/install.md and the chart's kubeVersion name as the minimum", async () => {
    const minor = oldest.replace(/^v(\d+\.\d+)\..*/, "$1");
    const install = readFileSync(join(root, "docs/install.md"), "utf8");
    const chart = readFileSync(join(root, "deploy/helm/herald/Chart.yaml"), "utf8");
    assert.match(chart, new RegExp(`^kubeVersion: ">=${minor.replace(".", "\\.")}\\.0-0"$`, "m"));
    assert.match(
      install,
      new RegExp(`\\*\\*Kubernetes ${minor.replace(".", "\\.")} or later\\.\\*\\*`),
    );
    const version = (await cluster.request("GET", "/version")) as { gitVersion: string };
    assert.equal(version.gitVersion, oldest);
  });

  it("accepts deploy/herald.yaml: CRDs with their CEL rules, RBAC, the admission policy", async () => {
    const applied = await runAsync("kubectl", ["apply", "-f", join(root, "deploy/herald.yaml")], {
      KUBECONFIG: kubeconfig,
    });
    assert.equal(applied.code, 0, applied.stderr);
    const policy = (await cluster.request(
      "GET",
      "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies/herald-agent-own-nodestate",
    )) as { status?: { typeChecking?: { expressionWarnings?: unknown[] } } };
    assert.deepEqual(policy.status?.typeChecking?.expressionWarnings ?? [], []);
  });

  it("enforces the IP and CIDR rules of the CRDs", async () => {
    const pool = (name: string, addresses: string[]) =>
      cluster
        .request("POST", "/apis/herald.dev/v1alpha1/addresspools", {
          apiVersion: "herald.dev/v1alpha1",
          kind: "AddressPool",
          metadata: { name },
          spec: { addresses },
        })
        .then(
          () => "accepted",
          (error: unknown) => String(error),
        );
    assert.equal(
      await pool("good", ["192.0.2.0/28", "192.0.2.20-192.0.2.30", "2001:db8::/120"]),
      "accepted",
    );
    // cidr(…).masked(), ip(…).family(): the libraries the minimum release brings.
    assert.match(await pool("host-bits", ["192.0.2.1/28"]), /must not have host bits set/);
    assert.match(
      await pool("mixed-range", ["192.0.2.20-2001:db8::1"]),
      /two ends must be addresses of one family/,
    );
  });

  it("lets an agent write only its own node's NodeState", async () => {
    await assertAgentWritesOnlyItsNodeState(cluster, dir);
  });
});
