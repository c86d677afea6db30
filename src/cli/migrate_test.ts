// herald migrate end to end: every example in examples/migrate converts, and the API
// server (devkube, with Herald's real CRD schemas and CEL rules) accepts every object.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { loadAll } from "js-yaml";
import { startCluster } from "../../test/cluster.ts";
import { compilePool } from "../ipam/pool.ts";
import { createLogger } from "../log.ts";
import { SECRET_NAMESPACE } from "../migrate/output.ts";
import type { PeerName } from "../migrate/migrate.ts";
import { runMigrate, type MigrateOptions } from "./migrate.ts";

const examples = fileURLToPath(new URL("../../examples/migrate/", import.meta.url));
const bin = fileURLToPath(new URL("../../bin/herald.js", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "herald-migrate-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const PLURALS: Record<string, string> = {
  AddressPool: "addresspools",
  BGPPeer: "bgppeers",
  BGPAdvertisement: "bgpadvertisements",
  AgentConfig: "agentconfigs",
};

async function run(options: Partial<MigrateOptions> & { from: PeerName; files: string[] }) {
  let stdout = "";
  let stderr = "";
  const code = await runMigrate(
    { output: "json", strict: false, ...options },
    {
      stdout: (text) => (stdout += text),
      stderr: (text) => (stderr += text),
      stdin: async () => "",
      log: createLogger("silent"),
    },
  );
  return { code, stdout, stderr };
}

interface Item {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
}

/** metallb-legacy holds the ConfigMap form of MetalLB: same peer, other directory. */
const exampleDirs = readdirSync(examples, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => ({ name: entry.name, peer: entry.name.replace(/-legacy$/, "") as PeerName }));

describe("herald migrate on examples/migrate", () => {
  it("has an example directory for every peer", () => {
    const peers = new Set(exampleDirs.map((d) => d.peer));
    assert.deepEqual([...peers].sort(), ["cilium", "metallb", "openelb", "purelb"]);
  });

  for (const example of exampleDirs) {
    it(`${example.name}: every object is accepted by the API server's schemas and CEL rules`, async () => {
      const { code, stdout, stderr } = await run({
        from: example.peer,
        files: [join(examples, example.name)],
      });
      assert.equal(code, 0, stderr);
      const list = JSON.parse(stdout) as { kind: string; items: Item[] };
      assert.equal(list.kind, "List");
      assert.ok(
        list.items.some((item) => item.kind === "AddressPool"),
        "an AddressPool at least",
      );
      // What CEL cannot check (range alignment, overlaps, regexes) the controller does.
      for (const item of list.items.filter((i) => i.kind === "AddressPool")) {
        assert.deepEqual(compilePool(item).problems, undefined, item.metadata.name);
      }

      const cluster = await startCluster();
      try {
        await cluster.post("/api/v1/namespaces", {
          apiVersion: "v1",
          kind: "Namespace",
          metadata: { name: SECRET_NAMESPACE },
        });
        for (const item of list.items) {
          const path =
            item.kind === "Secret"
              ? `/api/v1/namespaces/${item.metadata.namespace}/secrets`
              : `/apis/herald.dev/v1alpha1/${PLURALS[item.kind]}`;
          assert.ok(path.endsWith("s"), `a path for ${item.kind}`);
          // post() throws with the server's message, naming the field it refused.
          await cluster.post(path, item);
        }
      } finally {
        await cluster.stop();
      }
    });

    it(`${example.name}: the YAML output holds the same objects as the JSON`, async () => {
      const files = [join(examples, example.name)];
      const json = await run({ from: example.peer, files });
      const yaml = await run({ from: example.peer, files, output: "yaml" });
      assert.equal(yaml.code, 0, yaml.stderr);
      assert.match(yaml.stdout, /^# Converted from /);
      const documents = loadAll(yaml.stdout).filter((d) => d !== null);
      assert.deepEqual(documents, (JSON.parse(json.stdout) as { items: unknown[] }).items);
    });
  }
});

describe("herald migrate exit codes (the binary)", () => {
  function herald(args: string[], stdin?: string) {
    const result = spawnSync(process.execPath, [bin, ...args], { input: stdin, encoding: "utf8" });
    return { code: result.status, stdout: result.stdout, stderr: result.stderr };
  }
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  const cleanPool = file(
    "clean.yaml",
    "apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: lan, namespace: metallb-system}\nspec: {addresses: [192.168.1.240/28]}\n---\napiVersion: metallb.io/v1beta1\nkind: L2Advertisement\nmetadata: {name: lan, namespace: metallb-system}\n",
  );

  it("0 with warnings; 2 with warnings under --strict", () => {
    const path = join(examples, "metallb");
    const loose = herald(["migrate", "--from", "metallb", "-f", path]);
    assert.equal(loose.code, 0, loose.stderr);
    assert.match(loose.stderr, /^warning: /m);
    const strict = herald(["migrate", "--from", "metallb", "-f", path, "--strict"]);
    assert.equal(strict.code, 2);
    assert.equal(strict.stdout, loose.stdout, "the objects are printed all the same");
  });

  it("0 under --strict when everything converts exactly", () => {
    const { code, stdout, stderr } = herald([
      "migrate",
      "--from",
      "metallb",
      "-f",
      cleanPool,
      "--strict",
    ]);
    assert.equal(code, 0, stderr);
    assert.doesNotMatch(stderr, /^warning/m);
    assert.match(stdout, /kind: AddressPool/);
    assert.match(
      stderr,
      /^note: Services need no rewrite: Herald reads metallb\.io\/address-pool/m,
    );
  });

  it("1 when the input holds nothing of that peer, with a note per ignored object", () => {
    const { code, stdout, stderr } = herald(["migrate", "--from", "cilium", "-f", cleanPool]);
    assert.equal(code, 1);
    assert.equal(stdout, "");
    assert.match(
      stderr,
      /IPAddressPool metallb-system\/lan: is not Cilium configuration \(metallb\.io\/v1beta1\); ignored/,
    );
    assert.match(stderr, /holds no Cilium configuration/);
  });

  it("1 when a file cannot be read or is not YAML", () => {
    const missing = herald(["migrate", "--from", "metallb", "-f", join(dir, "nope.yaml")]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /cannot read .*nope\.yaml: no such file/);
    const broken = herald([
      "migrate",
      "--from",
      "metallb",
      "-f",
      file("broken.yaml", "kind: [unclosed\n"),
    ]);
    assert.equal(broken.code, 1);
    assert.match(broken.stderr, /not valid YAML/);
  });

  it("reads stdin; refuses an unknown peer and a missing -f", () => {
    const piped = herald(
      ["migrate", "--from", "openelb", "-f", "-", "-o", "json"],
      "apiVersion: network.kubesphere.io/v1alpha2\nkind: Eip\nmetadata: {name: e}\nspec: {address: 10.1.0.0/30, protocol: layer2, interface: eth0}\n",
    );
    assert.equal(piped.code, 0, piped.stderr);
    assert.equal(JSON.parse(piped.stdout).items[0].spec.announce, "Local");
    const unknown = herald(["migrate", "--from", "kube-vip", "-f", cleanPool]);
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /Allowed choices are metallb, purelb, openelb, cilium/);
    const nothing = herald(["migrate", "--from", "metallb"]);
    assert.notEqual(nothing.code, 0);
    assert.match(nothing.stderr, /required option '-f, --filename/);
  });
});
