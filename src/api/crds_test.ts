import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import {
  compileSchema,
  pruneAndDefault,
  validateObject,
  type CompiledSchema,
  type FieldCause,
} from "../schema/schema.ts";
import type { AddressPool } from "./addresspool.ts";
import type { AgentConfig } from "./agentconfig.ts";
import type { BGPPeer } from "./bgppeer.ts";
import {
  crdFiles,
  customResourceDefinitions,
  REGENERATE_COMMAND,
  type HeraldKind,
} from "./crds.ts";
import { cases, isStatusCase, samples } from "../../test/crd-cases.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

describe("deploy/crds", () => {
  it("holds exactly what the generator writes", () => {
    const expected = crdFiles();
    const committed = readdirSync(join(root, "deploy/crds")).filter((name) =>
      name.endsWith(".yaml"),
    );
    assert.deepEqual(
      committed.sort(),
      expected.map((file) => file.path.replace("deploy/crds/", "")).sort(),
      `deploy/crds has other files than the generator writes; run ${REGENERATE_COMMAND}`,
    );
    for (const file of expected) {
      const text = readFileSync(join(root, file.path), "utf8");
      assert.ok(text === file.text, `${file.path} is out of date; run ${REGENERATE_COMMAND}`);
    }
  });
});

describe("CustomResourceDefinitions", () => {
  it("are cluster-scoped, in group herald.dev, with a status subresource and category herald", () => {
    for (const crd of customResourceDefinitions()) {
      assert.equal(crd.spec.group, "herald.dev");
      assert.equal(crd.spec.scope, "Cluster");
      assert.deepEqual(crd.spec.names.categories, ["herald"]);
      assert.deepEqual(crd.spec.versions[0]!.subresources, { status: {} });
      assert.equal(crd.metadata.name, `${crd.spec.names.plural}.herald.dev`);
    }
  });

  it("give short names that clash with no built-in one or each other", () => {
    const builtIn = [
      "po",
      "no",
      "ns",
      "ep",
      "svc",
      "cm",
      "ds",
      "deploy",
      "rs",
      "sts",
      "pv",
      "pvc",
      "sa",
      "ing",
      "netpol",
      "pdb",
      "pc",
      "sc",
      "crd",
      "ev",
      "hpa",
      "cj",
      "csr",
      "limits",
      "quota",
      "rc",
    ];
    const names = customResourceDefinitions().flatMap((crd) => crd.spec.names.shortNames);
    assert.equal(new Set(names).size, names.length);
    for (const name of names) assert.ok(!builtIn.includes(name), name);
    const pools = customResourceDefinitions().find((crd) => crd.spec.names.kind === "AddressPool")!;
    assert.deepEqual(pools.spec.names.shortNames, ["pool", "pools"]);
  });

  it("show the IPv6 counts of pools only with -o wide", () => {
    const pools = customResourceDefinitions().find((crd) => crd.spec.names.kind === "AddressPool")!;
    const columns = pools.spec.versions[0]!.additionalPrinterColumns;
    assert.deepEqual(
      columns.map((column) => [column.name, column.priority ?? 0]),
      [
        ["Addresses", 0],
        ["Announce", 0],
        ["IPv4 Allocated", 0],
        ["IPv4 Available", 0],
        ["IPv6 Allocated", 1],
        ["IPv6 Available", 1],
        ["Ready", 0],
        ["Age", 0],
      ],
    );
  });
});

const schemas = new Map<string, CompiledSchema>();
for (const crd of customResourceDefinitions()) {
  const compiled = compileSchema(crd.spec.versions[0]!.schema.openAPIV3Schema);
  if ("problems" in compiled) throw new Error(compiled.problems.join("\n"));
  schemas.set(crd.spec.names.kind, compiled.schema);
}

function check(kind: HeraldKind, object: unknown, statusWrite = false): FieldCause[] {
  const schema = schemas.get(kind)!;
  return validateObject(schema, pruneAndDefault(schema, object), undefined, { statusWrite });
}

describe("a full sample of each kind", () => {
  for (const [kind, sample] of Object.entries(samples)) {
    it(`${kind} is valid and loses no field to pruning`, () => {
      const schema = schemas.get(kind)!;
      assert.deepEqual(pruneAndDefault(schema, sample), sample);
      assert.deepEqual(validateObject(schema, sample), []);
    });
  }
});

describe("every validation of every CRD", () => {
  for (const testCase of cases) {
    it(`${testCase.kind}: ${testCase.name}`, () => {
      assert.deepEqual(
        check(testCase.kind, testCase.object, isStatusCase(testCase)),
        testCase.expect ?? [],
      );
    });
  }

  it("defaults what users leave out", () => {
    const schema = schemas.get("AddressPool")!;
    const pruned = pruneAndDefault(schema, { spec: { addresses: ["10.0.0.0/24"] } }) as AddressPool;
    assert.deepEqual(pruned.spec, {
      addresses: ["10.0.0.0/24"],
      announce: "Auto",
      autoAssign: true,
      avoidBuggyIPs: false,
    });
    const peerSchema = schemas.get("BGPPeer")!;
    const peerSpec = (
      pruneAndDefault(peerSchema, {
        spec: {
          peerAddress: "10.0.0.1",
          peerASN: 1,
          localASN: 2,
          bfd: {},
          passwordSecretRef: { namespace: "a", name: "b" },
        },
      }) as BGPPeer
    ).spec;
    assert.equal(peerSpec.port, 179);
    assert.deepEqual(peerSpec.bfd, { minRxMs: 300, minTxMs: 300, multiplier: 3 });
    assert.equal(peerSpec.passwordSecretRef?.key, "password");
    const agentSchema = schemas.get("AgentConfig")!;
    const agentSpec = (
      pruneAndDefault(agentSchema, { metadata: { name: "default" } }) as AgentConfig
    ).spec;
    assert.deepEqual(agentSpec, { virtualInterface: "kube-lb0", routing: "Bird" });
  });
});
