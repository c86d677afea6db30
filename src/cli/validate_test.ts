// herald validate as CI runs it: the real binary, real files and stdin, its output and
// exit codes.
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { herald, scratch } from "../../test/cli.ts";
import { fileURLToPath } from "node:url";

const examples = fileURLToPath(new URL("../../examples/validate", import.meta.url));
const { dir, file } = scratch("validate");

const LOCAL_POOL = `
apiVersion: herald.dev/v1alpha1
kind: AddressPool
metadata: {name: lan}
spec: {addresses: ["192.168.10.240-192.168.10.250"], announce: Local}
`;

// Valid, but Routed with no BGPAdvertisement: a warning only.
const ROUTED_POOL = `
apiVersion: herald.dev/v1alpha1
kind: AddressPool
metadata: {name: routed}
spec: {addresses: ["10.50.0.0/28"], announce: Routed}
`;

const BROKEN = `
apiVersion: herald.dev/v1alpha1
kind: AddressPool
metadata: {name: broken}
spec: {addresses: ["10.0.0.5/24"], announce: Local}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop, annotations: {herald.dev/pool: gone}}
spec: {type: LoadBalancer, ports: [{port: 80}]}
`;

describe("herald validate", () => {
  it("exits 0 and says so when there is no problem", () => {
    const { code, stdout, stderr } = herald(["validate", "-f", examples]);
    assert.equal(code, 0, stderr);
    assert.equal(stdout, "10 documents checked, no problems\n");
  });

  it("exits 1 with errors, one line each and a summary", () => {
    const { code, stdout } = herald(["validate", "-f", file("broken.yaml", BROKEN)]);
    assert.equal(code, 1);
    const path = join(dir, "broken.yaml");
    assert.deepEqual(stdout.trimEnd().split("\n"), [
      `error: ${path} (document 1): AddressPool "broken": spec.addresses[0]: Invalid value: "10.0.0.5/24": a CIDR must not have host bits set; write its network address, or a range`,
      `error: ${path} (document 2): Service "shop/web": metadata.annotations[herald.dev/pool]: NoMatchingPool: herald.dev/pool names pool "gone", which does not exist`,
      "2 errors, 0 warnings in 2 documents",
    ]);
  });

  it("exits 0 with warnings only, and 2 under --strict", () => {
    const routed = file("routed.yaml", ROUTED_POOL);
    const relaxed = herald(["validate", "-f", routed]);
    assert.equal(relaxed.code, 0);
    assert.match(relaxed.stdout, /^warning: .*AddressPool "routed": spec\.announce: /);
    assert.equal(herald(["validate", "--strict", "-f", routed]).code, 2);
  });

  it("prints the documented JSON shape", () => {
    const { code, stdout } = herald(["validate", "-o", "json", "-f", file("b.yaml", BROKEN)]);
    assert.equal(code, 1);
    const out = JSON.parse(stdout) as { problems: Record<string, unknown>[] };
    assert.deepEqual(Object.keys(out), ["problems", "errors", "warnings"]);
    assert.deepEqual(Object.keys(out.problems[0]!), [
      "severity",
      "source",
      "kind",
      "name",
      "field",
      "message",
    ]);
    assert.deepEqual(out.problems[0], {
      severity: "error",
      source: `${join(dir, "b.yaml")} (document 1)`,
      kind: "AddressPool",
      name: "broken",
      field: "spec.addresses[0]",
      message:
        'Invalid value: "10.0.0.5/24": a CIDR must not have host bits set; write its network address, or a range',
    });
    assert.equal((out as unknown as { errors: number }).errors, 2);
  });

  it("reads a directory's manifests and stdin together; cross-object checks span them", () => {
    const sub = join(dir, "config");
    mkdirSync(sub);
    writeFileSync(join(sub, "pool.yaml"), LOCAL_POOL);
    writeFileSync(join(sub, "README.md"), "not a manifest");
    const service = `
apiVersion: v1
kind: Service
metadata: {name: web, annotations: {herald.dev/pool: lan}}
spec: {type: LoadBalancer, ports: [{port: 80}]}
`;
    const { code, stdout } = herald(["validate", "-f", sub, "-f", "-"], service);
    assert.equal(code, 0, stdout);
    assert.equal(stdout, "2 documents checked, no problems\n");
  });

  it("exits 1 on unreadable input and YAML errors, naming the file and document", () => {
    const bad = file("bad.yaml", `${LOCAL_POOL}---\nspec: {a: [\n`);
    const { code, stdout } = herald(["validate", "-f", join(dir, "missing.yaml"), "-f", bad]);
    assert.equal(code, 1);
    assert.match(stdout, /^error: .*missing\.yaml: cannot read: no such file or directory$/m);
    assert.match(
      stdout,
      /^error: .*bad\.yaml \(document 2\): not valid YAML: .* at line \d+, column \d+$/m,
    );
  });

  it("refuses to run without -f: checking nothing must not pass", () => {
    const { code, stdout, stderr } = herald(["validate", "--strict"]);
    assert.equal(code, 1);
    assert.equal(stdout, "");
    assert.match(stderr, /^error: required option '-f, --filename <file\|dir\|->' not specified$/m);
  });
});
