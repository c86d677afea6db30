// The BGP password copy: which references resolve (pure), and the leading controller keeping
// herald-agent-bgp equal to them against the API server (devkube, or the real one with
// HERALD_TEST_KUBE=real), with a Warning event on a BGPPeer whose reference does not.
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startCluster, waitFor, type TestCluster } from "../../test/cluster.ts";
import { withController } from "../../test/controller-run.ts";
import { BGP_PASSWORDS_SECRET } from "../api/bgppeer.ts";
import { mergePatch } from "../kube/patch.ts";
import { RawClient } from "../kube/raw.ts";
import { desiredPasswords, type SecretData } from "./bgp-passwords.ts";

const b64 = (text: string) => Buffer.from(text).toString("base64");

describe("desiredPasswords", () => {
  const secrets: Record<string, SecretData> = {
    good: { data: { password: b64("s3cret"), other: b64("x") } },
    empty: { data: {} },
  };
  const lookup = (name: string) => secrets[name];

  it("copies each resolving reference under the peer's name, with the default key", () => {
    const copy = desiredPasswords(
      [
        { peer: "b", ref: { name: "good", key: "other" } },
        { peer: "a", ref: { name: "good" } },
        { peer: "c", ref: { namespace: "herald-system", name: "good" } },
      ],
      lookup,
      "herald-system",
    );
    assert.deepEqual(copy.data, { a: b64("s3cret"), b: b64("x"), c: b64("s3cret") });
    assert.equal(copy.problems.size, 0);
  });

  it("says why a reference does not resolve, and copies nothing for it", () => {
    const copy = desiredPasswords(
      [
        { peer: "elsewhere", ref: { namespace: "kube-system", name: "good" } },
        { peer: "nameless", ref: {} },
        { peer: "missing", ref: { name: "nope" } },
        { peer: "keyless", ref: { name: "empty" } },
        { peer: "wrong-key", ref: { name: "good", key: "pasword" } },
      ],
      lookup,
      "herald-system",
    );
    assert.deepEqual(copy.data, {});
    assert.deepEqual(Object.fromEntries(copy.problems), {
      elsewhere:
        "passwordSecretRef must name a Secret in herald-system, the agents' namespace, not kube-system",
      nameless: "passwordSecretRef has no name",
      missing: "Secret herald-system/nope does not exist",
      keyless: 'Secret herald-system/empty has no key "password"',
      "wrong-key": 'Secret herald-system/good has no key "pasword"',
    });
  });
});

describe("the leading controller copies the BGP passwords for the agents", () => {
  let cluster: TestCluster;
  before(async () => (cluster = await startCluster()));
  after(() => cluster.stop());
  const namespace = "bgp-pw";

  const copy = async () => {
    try {
      return (
        (await cluster.core.readNamespacedSecret({ namespace, name: BGP_PASSWORDS_SECRET })).data ??
        {}
      );
    } catch {
      return undefined;
    }
  };
  const peer = (name: string, ref: Record<string, string>) => ({
    apiVersion: "herald.dev/v1alpha1",
    kind: "BGPPeer",
    metadata: { name },
    spec: { peerAddress: "192.0.2.1", peerASN: 64512, localASN: 64513, passwordSecretRef: ref },
  });

  it("follows the Secrets and the BGPPeers, and warns on one that does not resolve", async () => {
    const raw = new RawClient(cluster.config);
    await cluster.core.createNamespace({ body: { metadata: { name: namespace } } });
    await cluster.core.createNamespacedSecret({
      namespace,
      body: { metadata: { name: "router-a" }, stringData: { password: "first" } },
    });
    await raw.request(
      "POST",
      "/apis/herald.dev/v1alpha1/bgppeers",
      peer("pw-a", { namespace, name: "router-a" }),
    );
    try {
      await withController(cluster, { namespace, identity: "pw-test" }, async () => {
        await waitFor(
          "the first password copied",
          async () => (await copy())?.["pw-a"] === b64("first"),
        );

        // A new password reaches the copy.
        await cluster.core.patchNamespacedSecret(
          { namespace, name: "router-a", body: { stringData: { password: "second" } } },
          mergePatch,
        );
        await waitFor(
          "the new password copied",
          async () => (await copy())?.["pw-a"] === b64("second"),
        );

        // A peer whose Secret does not exist: no entry, a Warning on the BGPPeer.
        await raw.request(
          "POST",
          "/apis/herald.dev/v1alpha1/bgppeers",
          peer("pw-b", { namespace, name: "not-there" }),
        );
        await waitFor("a PasswordUnresolved event on pw-b", async () => {
          const events = await cluster.core.listNamespacedEvent({ namespace: "default" });
          return events.items.some(
            (e) =>
              e.involvedObject.name === "pw-b" &&
              e.reason === "PasswordUnresolved" &&
              e.message?.includes(`Secret ${namespace}/not-there does not exist`),
          );
        });
        assert.deepEqual(Object.keys((await copy()) ?? {}), ["pw-a"]);

        // Its Secret appears: copied. A deleted peer's entry goes.
        await cluster.core.createNamespacedSecret({
          namespace,
          body: { metadata: { name: "not-there" }, stringData: { password: "late" } },
        });
        await waitFor(
          "the late Secret copied",
          async () => (await copy())?.["pw-b"] === b64("late"),
        );
        await raw.request("DELETE", "/apis/herald.dev/v1alpha1/bgppeers/pw-a");
        await waitFor("the deleted peer's entry gone", async () => {
          const data = await copy();
          return data !== undefined && !("pw-a" in data) && data["pw-b"] === b64("late");
        });
      });
    } finally {
      await raw.request("DELETE", "/apis/herald.dev/v1alpha1/bgppeers/pw-b").catch(() => {});
    }
  });
});
