// herald plan as a user runs it: the real binary, real files, stdout, stderr, exit codes.
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { herald, scratch } from "../../test/cli.ts";
import { fileURLToPath } from "node:url";

const { dir, file } = scratch("plan");

const POOLS = `
apiVersion: herald.dev/v1alpha1
kind: AddressPool
metadata: {name: lan}
spec:
  addresses: ["192.168.10.240-192.168.10.241", "2001:db8:10::/64"]
---
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {tier: gold}}
`;

const SERVICES = `
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {type: LoadBalancer, ipFamilyPolicy: RequireDualStack, ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: db}
spec: {type: LoadBalancer, ports: [{port: 5432}]}
status: {loadBalancer: {ingress: [{ip: 192.168.10.240}]}}
---
apiVersion: v1
kind: Service
metadata: {name: late}
spec: {type: LoadBalancer, ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: internal}
spec: {type: ClusterIP, ports: [{port: 80}]}
`;

describe("herald plan", () => {
  it("prints the DESIGN §6 JSON: restored first, then document order", () => {
    const { code, stdout, stderr } = herald([
      "plan",
      "-f",
      file("pools.yaml", POOLS),
      "-f",
      file("services.yaml", SERVICES),
      "-o",
      "json",
    ]);
    assert.equal(code, 0, stderr);
    const out = JSON.parse(stdout);
    assert.deepEqual(Object.keys(out), ["services", "pools"]);
    assert.deepEqual(out.services, [
      {
        namespace: "shop",
        name: "web",
        addresses: ["192.168.10.241", "2001:db8:10::"],
        pool: "lan",
        error: null,
      },
      { namespace: "default", name: "db", addresses: ["192.168.10.240"], pool: "lan", error: null },
      {
        namespace: "default",
        name: "late",
        addresses: [],
        pool: null,
        error: { reason: "PoolExhausted", message: 'pool "lan" has no free IPv4 address left' },
      },
      { namespace: "default", name: "internal", addresses: [], pool: null, error: null },
    ]);
    assert.deepEqual(Object.keys(out.pools[0]), ["name", "capacity", "allocated", "conditions"]);
    assert.deepEqual(out.pools[0].capacity, { ipv4: "2", ipv6: "18446744073709551616" });
    assert.deepEqual(out.pools[0].allocated, { ipv4: "2", ipv6: "1" });
    assert.equal(out.pools[0].conditions[0].type, "Ready");
  });

  it("reads a directory in name order, stdin, and kind: List", () => {
    const sub = join(dir, "manifests");
    mkdirSync(sub);
    writeFileSync(join(sub, "1-pools.yaml"), POOLS);
    writeFileSync(join(sub, "2-services.yml"), SERVICES);
    writeFileSync(join(sub, "README.md"), "not a manifest");
    const fromDir = herald(["plan", "-f", sub, "-o", "json"]);
    assert.equal(fromDir.code, 0, fromDir.stderr);
    assert.equal(JSON.parse(fromDir.stdout).services.length, 4);

    const list = JSON.stringify({
      apiVersion: "v1",
      kind: "List",
      items: [
        {
          apiVersion: "v1",
          kind: "Service",
          metadata: { name: "x" },
          spec: { type: "LoadBalancer" },
        },
      ],
    });
    const fromStdin = herald(["plan", "-f", sub, "-f", "-", "-o", "json"], list);
    assert.equal(fromStdin.code, 0, fromStdin.stderr);
    assert.equal(JSON.parse(fromStdin.stdout).services.at(-1).name, "x");
  });

  it("prints a readable table by default, notes included", () => {
    const { code, stdout } = herald([
      "plan",
      "-f",
      file("t-pools.yaml", POOLS),
      "-f",
      file("t-services.yaml", SERVICES),
    ]);
    assert.equal(code, 0);
    assert.match(stdout, /^SERVICE\s+ADDRESSES\s+POOL\s+STATUS$/m);
    assert.match(
      stdout,
      /^default\/late\s+-\s+-\s+PoolExhausted: pool "lan" has no free IPv4 address left$/m,
    );
    assert.match(stdout, /^default\/internal .*ignored: type is ClusterIP/m);
    assert.match(stdout, /^lan\s+2\/2\s+1\/18446744073709551616\s+Ready$/m);
  });

  it("notes kinds it does not read", () => {
    const { code, stderr } = herald([
      "plan",
      "-f",
      file("cm.yaml", `${POOLS}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n`),
    ]);
    assert.equal(code, 0);
    assert.match(stderr, /note: .*ignoring ConfigMap "x" \(v1\)/);
  });

  for (const [what, text, message] of [
    [
      "bad YAML",
      "apiVersion: v1\nkind: Service\nmetadata: {name: x\n",
      /not valid YAML: .*\(4:1\)/s,
    ],
    [
      "an invalid pool",
      `apiVersion: herald.dev/v1alpha1\nkind: AddressPool\nmetadata: {name: bad}\nspec: {addresses: ["10.0.0.9-10.0.0.1"]}\n`,
      /AddressPool "bad" .*spec\.addresses\[0\] "10\.0\.0\.9-10\.0\.0\.1" is reversed/,
    ],
    ["a duplicate object", `${POOLS}\n---\n${POOLS}`, /AddressPool "lan" is also defined in/],
    ["a scalar document", "just text\n", /expected a Kubernetes object/],
  ] as const) {
    it(`exits 1 with a clear message and no stack trace on ${what}`, () => {
      const { code, stdout, stderr } = herald([
        "plan",
        "-f",
        file(`bad-${what.replace(/ /g, "-")}.yaml`, text),
      ]);
      assert.equal(code, 1);
      assert.equal(stdout, "");
      assert.match(stderr, message);
      assert.match(stderr, /nothing planned/);
      assert.doesNotMatch(stderr, /^\s+at /m);
    });
  }

  it("exits 1 for a missing file and 1 for a bad option, without a stack trace", () => {
    const missing = herald(["plan", "-f", join(dir, "nope.yaml")]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /cannot read .*nope\.yaml: no such file or directory/);
    const badOption = herald(["plan", "-f", "x", "-o", "xml"]);
    assert.equal(badOption.code, 1);
    assert.match(badOption.stderr, /argument 'xml' is invalid/);
    assert.doesNotMatch(badOption.stderr + missing.stderr, /^\s+at /m);
  });

  it("refuses to run without -f: planning nothing must not pass", () => {
    const { code, stdout, stderr } = herald(["plan", "-o", "json"]);
    assert.equal(code, 1);
    assert.equal(stdout, "");
    assert.match(stderr, /^error: required option '-f, --filename <file\|dir\|->' not specified$/m);
  });

  it("plans the example site the demo shows", () => {
    const examples = fileURLToPath(new URL("../../examples/plan", import.meta.url));
    const { code, stdout, stderr } = herald(["plan", "-f", examples, "-o", "json"]);
    assert.equal(code, 0, stderr);
    const out = JSON.parse(stdout) as {
      services: { name: string; addresses: string[]; error: { reason: string } | null }[];
    };
    const by = Object.fromEntries(out.services.map((s) => [s.name, s]));
    assert.deepEqual(by.billing!.addresses, ["192.168.10.245"]);
    assert.deepEqual(by["dns-tcp"]!.addresses, by["dns-udp"]!.addresses);
    assert.equal(by.storefront!.addresses.length, 2);
    assert.deepEqual(by.vpn!.addresses, ["192.168.10.201"]);
    assert.deepEqual(by.dashboard!.addresses, ["10.60.0.0"]);
    assert.equal(by.legacy!.error?.reason, "NoMatchingPool");
    assert.deepEqual(by["other-lb"]!.addresses, []);
  });

  it("has help", () => {
    const { code, stdout } = herald(["--help"]);
    assert.equal(code, 0);
    assert.match(stdout, /plan \[options\]/);
  });
});
