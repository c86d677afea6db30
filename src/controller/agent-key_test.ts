// The agents' key Secret against devkube: created when missing, never replaced, and made
// by the controller when it becomes leader.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startCluster, waitFor, type TestCluster } from "../../test/cluster.ts";
import { withController } from "../../test/controller-run.ts";
import { RawClient } from "../kube/raw.ts";
import { createLogger } from "../log.ts";
import { ensureAgentKey } from "./agent-key.ts";

let cluster: TestCluster;
before(async () => (cluster = await startCluster()));
after(() => cluster.stop());

const log = createLogger("silent");
const keyOf = async (namespace: string, name: string) =>
  (await cluster.core.readNamespacedSecret({ namespace, name })).data?.key;

describe("the agents' key Secret", () => {
  it("is created with 32 random bytes when missing, and left alone when present", async () => {
    await cluster.core.createNamespace({ body: { metadata: { name: "k1" } } });
    const raw = new RawClient(cluster.config);
    assert.equal(await ensureAgentKey(raw, "k1", "agent-key", log), "created");
    const key = await keyOf("k1", "agent-key");
    assert.equal(Buffer.from(key ?? "", "base64").length, 32);
    assert.equal(await ensureAgentKey(raw, "k1", "agent-key", log), "present");
    assert.equal(await keyOf("k1", "agent-key"), key);
    // Another namespace gets another key.
    await cluster.core.createNamespace({ body: { metadata: { name: "k2" } } });
    await ensureAgentKey(raw, "k2", "agent-key", log);
    assert.notEqual(await keyOf("k2", "agent-key"), key);
  });

  it("reports, rather than throws, when the namespace does not exist", async () => {
    const raw = new RawClient(cluster.config);
    assert.equal(await ensureAgentKey(raw, "no-such-namespace", "agent-key", log), "failed");
  });

  it("is made by the controller on becoming leader", async () => {
    await cluster.core.createNamespace({ body: { metadata: { name: "k3" } } });
    await withController(cluster, { namespace: "k3", identity: "key-test" }, () =>
      waitFor(
        "the key Secret",
        async () => (await keyOf("k3", "herald-agent-key").catch(() => undefined)) !== undefined,
      ),
    );
  });
});
