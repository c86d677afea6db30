// The agents' admission policy (deploy/base/agent-policy.yaml) at work on a real API
// server: an agent's Pod-bound token may write its own node's NodeState and no other, and
// a token bound to no Pod (so to no node) may write none. Needs deploy/herald.yaml applied.
// Shared by test/rbac_test.ts and test/min-version_test.ts (the oldest supported release).
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadKubeConfig } from "../src/kube/kubeconfig.ts";
import { RawClient } from "../src/kube/raw.ts";
import { writeTokenKubeconfig } from "../src/realkube/control-plane.ts";
import { serviceAccountToken } from "../src/realkube/tokens.ts";
import type { TestCluster } from "./cluster.ts";

export async function assertAgentWritesOnlyItsNodeState(
  cluster: TestCluster,
  dir: string,
): Promise<void> {
  const admin = new RawClient(cluster.config);
  for (const node of ["node-a", "node-b"])
    await cluster.post("/api/v1/nodes", {
      apiVersion: "v1",
      kind: "Node",
      metadata: { name: node },
    });
  await cluster.post("/api/v1/namespaces/herald-system/pods", {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name: "herald-agent-a" },
    spec: {
      nodeName: "node-a",
      serviceAccountName: "herald-agent",
      containers: [{ name: "agent", image: "herald:test" }],
    },
  });
  const pod = (await admin.request(
    "GET",
    "/api/v1/namespaces/herald-system/pods/herald-agent-a",
  )) as { metadata: { uid: string } };
  const asAgent = async (bound: boolean) => {
    const token = await serviceAccountToken(
      admin,
      "herald-system",
      "herald-agent",
      3600,
      bound ? { name: "herald-agent-a", uid: pod.metadata.uid } : undefined,
    );
    const kubeconfig = join(dir, `agent-${bound}.kubeconfig`);
    await writeTokenKubeconfig(kubeconfig, cluster.url, cluster.real!.files.pki.caCert, token);
    return new RawClient(loadKubeConfig(kubeconfig));
  };
  const nodeState = (name: string) => ({
    apiVersion: "herald.dev/v1alpha1",
    kind: "NodeState",
    metadata: { name },
  });
  const refusal = (promise: Promise<unknown>) =>
    promise.then(
      () => "allowed",
      (error: unknown) => String(error),
    );
  const agentA = await asAgent(true);
  const path = "/apis/herald.dev/v1alpha1/nodestates";
  assert.equal(
    await refusal(agentA.request("POST", path, nodeState("node-a"), "application/json")),
    "allowed",
  );
  const status = { status: { announced: [] } };
  const merge = "application/merge-patch+json";
  assert.equal(
    await refusal(agentA.request("PATCH", `${path}/node-a/status`, status, merge)),
    "allowed",
  );
  // node-b's NodeState exists (its own agent made it); node-a's agent may not touch it.
  await admin.request("POST", path, nodeState("node-b"), "application/json");
  assert.match(
    await refusal(agentA.request("PATCH", `${path}/node-b/status`, status, merge)),
    /herald-agent-own-nodestate.*may write only NodeState node-a/,
  );
  assert.match(
    await refusal(agentA.request("POST", path, nodeState("node-c"), "application/json")),
    /herald-agent-own-nodestate.*may write only NodeState node-a/,
  );
  const unbound = await asAgent(false);
  assert.match(
    await refusal(unbound.request("PATCH", `${path}/node-a/status`, status, merge)),
    /token names no node/,
  );
}
