// deploy/'s RBAC under a real authorizer (Node,RBAC): what the controller's and the agent's
// ServiceAccounts may and may not do, asked of the API server with `kubectl auth can-i`,
// and the controller run with a TokenRequest token of its own ServiceAccount — never as
// admin — doing its whole job without one 403. devkube authorizes nothing, so this test
// needs the real API server (HERALD_TEST_KUBE=real; `npm run test:real` runs it).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { RawClient } from "../src/kube/raw.ts";
import { writeTokenKubeconfig } from "../src/realkube/control-plane.ts";
import { serviceAccountToken } from "../src/realkube/tokens.ts";
import { assertAgentWritesOnlyItsNodeState } from "./agent-admission.ts";
import { BACKEND, startCluster, waitFor, type TestCluster } from "./cluster.ts";
import { runAsync } from "./processes.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "herald-rbac-"));
const skip = BACKEND === "real" ? false : "needs a real API server's RBAC (HERALD_TEST_KUBE=real)";

let cluster: TestCluster;
let adminKubeconfig: string;
const kubectl = (args: string[]) => runAsync("kubectl", args, { KUBECONFIG: adminKubeconfig });

describe("RBAC of deploy/herald.yaml", { skip }, () => {
  before(async () => {
    cluster = await startCluster({ crds: false });
    adminKubeconfig = join(dir, "admin.kubeconfig");
    writeFileSync(adminKubeconfig, cluster.kubeconfig());
    const applied = await kubectl(["apply", "-f", join(root, "deploy/herald.yaml")]);
    assert.equal(applied.code, 0, applied.stderr);
  });
  after(() => cluster?.stop());

  const controller = "system:serviceaccount:herald-system:herald-controller";
  const agent = "system:serviceaccount:herald-system:herald-agent";
  // [who, verb, resource (kind/name, or kind:subresource), namespace or "" for all, allowed]
  const table: [string, string, string, string, boolean][] = [
    [controller, "list", "services", "", true],
    [controller, "watch", "services", "", true],
    [controller, "patch", "services:status", "", true],
    [controller, "patch", "services", "", false],
    [controller, "update", "services", "", false],
    [controller, "delete", "services", "", false],
    [controller, "list", "namespaces", "", true],
    [controller, "create", "events", "default", true],
    [controller, "list", "addresspools.herald.dev", "", true],
    [controller, "patch", "addresspools.herald.dev:status", "", true],
    [controller, "patch", "addresspools.herald.dev", "", false],
    [controller, "create", "addresspools.herald.dev", "", false],
    [controller, "get", "secrets/herald-agent-key", "herald-system", true],
    [controller, "get", "secrets/other", "herald-system", false],
    // The Secrets BGPPeers name, to copy their passwords; only the copy is written.
    [controller, "list", "secrets", "herald-system", true],
    [controller, "watch", "secrets", "herald-system", true],
    [controller, "update", "secrets/herald-agent-bgp", "herald-system", true],
    [controller, "update", "secrets/bgp-password", "herald-system", false],
    [controller, "delete", "secrets/herald-agent-bgp", "herald-system", false],
    [controller, "list", "secrets", "default", false],
    [controller, "list", "bgppeers.herald.dev", "", true],
    [controller, "get", "secrets/herald-agent-key", "default", false],
    [controller, "create", "leases", "herald-system", true],
    [controller, "update", "leases/herald-controller", "herald-system", true],
    [controller, "update", "leases/other", "herald-system", false],
    [controller, "create", "pods", "default", false],
    [controller, "list", "nodes", "", false],
    [controller, "list", "nodestates.herald.dev", "", true],
    [controller, "patch", "nodestates.herald.dev", "", false],
    [agent, "list", "services", "", true],
    [agent, "patch", "services", "", false],
    [agent, "watch", "endpointslices.discovery.k8s.io", "", true],
    [agent, "list", "nodes", "", true],
    [agent, "patch", "nodes", "", false],
    [agent, "list", "bgppeers.herald.dev", "", true],
    [agent, "create", "nodestates.herald.dev", "", true],
    [agent, "patch", "addresspools.herald.dev:status", "", false],
    [agent, "patch", "services:status", "", false],
    [agent, "delete", "services", "", false],
    [agent, "create", "pods", "default", false],
    [agent, "list", "secrets", "default", false],
    // Two Secrets by name (a field selector), no other, and none without a name.
    [agent, "list", "secrets", "herald-system", false],
    [agent, "list", "secrets/herald-agent-key", "herald-system", true],
    [agent, "watch", "secrets/herald-agent-key", "herald-system", true],
    [agent, "list", "secrets/herald-agent-bgp", "herald-system", true],
    [agent, "watch", "secrets/herald-agent-bgp", "herald-system", true],
    [agent, "list", "secrets/bgp-password", "herald-system", false],
    [agent, "get", "secrets/herald-agent-key", "herald-system", false],
    // Its own DaemonSet, read on SIGTERM (an uninstall, or no longer selecting the node).
    [agent, "get", "daemonsets.apps/herald-agent", "herald-system", true],
    [agent, "get", "daemonsets.apps/other", "herald-system", false],
    [agent, "list", "daemonsets.apps", "herald-system", false],
  ];

  it("grants each component what it needs and refuses the rest (kubectl auth can-i --as)", async () => {
    const wrong: string[] = [];
    for (const [who, verb, resource, namespace, allowed] of table) {
      const [kind, subresource] = resource.split(":");
      const args = ["auth", "can-i", verb, kind!, "--as", who];
      if (subresource) args.push(`--subresource=${subresource}`);
      args.push(...(namespace ? ["-n", namespace] : ["--all-namespaces"]));
      const result = await kubectl(args);
      const answer = result.stdout.trim();
      if (answer !== "yes" && answer !== "no")
        wrong.push(`${args.join(" ")}: ${answer} ${result.stderr.trim()}`);
      else if ((answer === "yes") !== allowed)
        wrong.push(
          `${who.split(":").at(-1)} ${verb} ${resource}: ${answer}, want ${allowed ? "yes" : "no"}`,
        );
    }
    assert.deepEqual(wrong, []);
  });

  it("runs the controller on its own ServiceAccount's token: it leads, allocates, writes the key, and meets no 403", async () => {
    const admin = new RawClient(cluster.config);
    const token = await serviceAccountToken(admin, "herald-system", "herald-controller", 3600);
    const kubeconfig = join(dir, "controller.kubeconfig");
    await writeTokenKubeconfig(kubeconfig, cluster.url, cluster.real!.files.pki.caCert, token);
    // The token is the controller's: the API server says who it is.
    const whoami = await runAsync(
      "kubectl",
      ["auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"],
      {
        KUBECONFIG: kubeconfig,
      },
    );
    assert.equal(whoami.stdout.trim(), "system:serviceaccount:herald-system:herald-controller");

    const child = spawn(
      process.execPath,
      [
        join(root, "bin/herald.js"),
        "controller",
        "--kubeconfig",
        kubeconfig,
        "--namespace",
        "herald-system",
        "--identity",
        "rbac-test",
        "--metrics-address",
        "0",
        "--health-address",
        "127.0.0.1:0",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let output = "";
    child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    try {
      await cluster.post("/apis/herald.dev/v1alpha1/addresspools", {
        apiVersion: "herald.dev/v1alpha1",
        kind: "AddressPool",
        metadata: { name: "lan" },
        spec: { addresses: ["192.0.2.10-192.0.2.20"] },
      });
      await cluster.post("/api/v1/namespaces/default/services", {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: "web" },
        spec: { type: "LoadBalancer", ports: [{ port: 80 }] },
      });
      await waitFor(
        `an address for default/web (controller output: ${output.slice(-800)})`,
        async () => {
          const service = await cluster.core.readNamespacedServiceStatus({
            name: "web",
            namespace: "default",
          });
          return service.status?.loadBalancer?.ingress?.[0]?.ip === "192.0.2.10";
        },
        20_000,
      );
      await waitFor("the pool's status", async () => {
        const pool = (await cluster.request(
          "GET",
          "/apis/herald.dev/v1alpha1/addresspools/lan",
        )) as {
          status?: { allocated?: { ipv4?: string } };
        };
        return pool.status?.allocated?.ipv4 === "1";
      });
      await waitFor("an AddressAllocated event", async () => {
        const events = await cluster.core.listNamespacedEvent({ namespace: "default" });
        return events.items.some((event) => event.reason === "AddressAllocated");
      });
      // The detector key: created by the controller.
      await waitFor("the agent key Secret", () =>
        cluster.request("GET", "/api/v1/namespaces/herald-system/secrets/herald-agent-key").then(
          () => true,
          () => false,
        ),
      );
      // A BGPPeer's password: read from the Secret it names, copied for the agents.
      await cluster.request("POST", "/api/v1/namespaces/herald-system/secrets", {
        apiVersion: "v1",
        kind: "Secret",
        metadata: { name: "router-password" },
        stringData: { password: "s3cret" },
      });
      await cluster.request("POST", "/apis/herald.dev/v1alpha1/bgppeers", {
        apiVersion: "herald.dev/v1alpha1",
        kind: "BGPPeer",
        metadata: { name: "router" },
        spec: {
          peerAddress: "192.0.2.1",
          peerASN: 64512,
          localASN: 64513,
          passwordSecretRef: { namespace: "herald-system", name: "router-password" },
        },
      });
      await waitFor("the BGP password copied into herald-agent-bgp", async () => {
        const copy = (await cluster
          .request("GET", "/api/v1/namespaces/herald-system/secrets/herald-agent-bgp")
          .catch(() => undefined)) as { data?: Record<string, string> } | undefined;
        return copy?.data?.router === Buffer.from("s3cret").toString("base64");
      });
    } finally {
      child.kill("SIGTERM");
      await exited;
    }
    assert.doesNotMatch(output, /\b403\b|forbidden/i, "the controller met a refusal");
  });

  it("lets an agent write only its own node's NodeState (the admission policy), and refuses a token with no node", async () => {
    await assertAgentWritesOnlyItsNodeState(cluster, dir);
  });
});
