import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { poolObject } from "../../test/fixtures.ts";
import { compilePool } from "./pool.ts";

function problems(spec: Record<string, unknown>, name = "p"): string[] {
  const compiled = compilePool({
    apiVersion: "herald.dev/v1alpha1",
    kind: "AddressPool",
    metadata: { name },
    spec,
  });
  assert.ok(compiled.problems, "expected the pool to be refused");
  return compiled.problems;
}

describe("compilePool", () => {
  it("compiles a valid dual-stack pool with its defaults", () => {
    const compiled = compilePool(
      poolObject("lan", { addresses: ["192.168.10.240-192.168.10.250", "2001:db8:10::/64"] }),
    );
    assert.ok("pool" in compiled);
    const pool = compiled.pool;
    assert.equal(pool.announce, "Auto");
    assert.equal(pool.autoAssign, true);
    assert.equal(pool.priority, undefined);
    assert.equal(pool.scope, undefined);
    assert.deepEqual(pool.aggregation, { IPv4: 32, IPv6: 128 });
    assert.deepEqual(pool.capacity, { IPv4: 11n, IPv6: 1n << 64n });
  });

  it("takes .0 and .255 off the capacity with avoidBuggyIPs", () => {
    const compiled = compilePool(
      poolObject("p", { addresses: ["10.0.0.0/23"], avoidBuggyIPs: true }),
    );
    assert.ok("pool" in compiled);
    assert.equal(compiled.pool.capacity.IPv4, 512n - 4n);
  });

  it("reports every problem with the field it is about", () => {
    const found = problems({
      addresses: ["10.0.0.9-10.0.0.1", "10.0.1.0/24", "10.0.1.128/25", "2001:db8::1-10.0.0.1", 7],
      announce: "BGP",
      autoAssign: "yes",
      priority: -1,
      autoassign: true,
      interfaces: ["(eth"],
    });
    const text = found.join("\n");
    assert.match(text, /spec\.addresses\[0\] "10\.0\.0\.9-10\.0\.0\.1" is reversed/);
    assert.match(
      text,
      /spec\.addresses\[2\] "10\.0\.1\.128\/25" overlaps spec\.addresses\[1\] "10\.0\.1\.0\/24"/,
    );
    assert.match(text, /spec\.addresses\[3\] .* mixes an IPv4 and an IPv6/);
    assert.match(text, /spec\.addresses\[4\]: must be a string/);
    assert.match(text, /spec\.announce: "BGP" must be Auto, Local or Routed/);
    assert.match(text, /spec\.autoAssign: must be true or false/);
    assert.match(text, /spec\.priority: must be a whole number/);
    assert.match(text, /spec\.autoassign: unknown field; did you mean autoAssign\?/);
    assert.match(text, /spec\.interfaces\[0\] "\(eth" is not a valid regex/);
    assert.equal(found.length, 9);
  });

  it("refuses an aggregation prefix shorter than a range", () => {
    const [problem] = problems({ addresses: ["10.0.0.10-10.0.0.20"], aggregation: { ipv4: 24 } });
    assert.match(
      problem!,
      /spec\.aggregation\.ipv4: \/24 is shorter than spec\.addresses\[0\] "10\.0\.0\.10-10\.0\.0\.20"/,
    );
    assert.deepEqual(
      compilePool(
        poolObject("p", { addresses: ["10.0.0.0/24"], aggregation: { ipv4: 24, ipv6: 64 } }),
      ).problems,
      undefined,
    );
    assert.match(
      problems({ addresses: ["2001:db8::/64"], aggregation: { ipv6: 129 } })[0]!,
      /0 to 128/,
    );
  });

  it("refuses a missing or empty address list, a bad name and junk selectors", () => {
    assert.match(problems({})[0]!, /spec\.addresses: required/);
    assert.match(problems({ addresses: [] })[0]!, /spec\.addresses: required/);
    assert.match(
      problems({ addresses: ["10.0.0.1"] }, "Bad_Name")[0]!,
      /metadata\.name: "Bad_Name"/,
    );
    const selectorProblems = problems({
      addresses: ["10.0.0.1"],
      allocation: {
        namespaces: ["ok", "Not OK"],
        serviceSelector: { matchExpressions: [{ key: "tier", operator: "In" }] },
      },
      nodeSelector: { matchLabels: { zone: 3 } },
    }).join("\n");
    assert.match(
      selectorProblems,
      /spec\.allocation\.namespaces\[1\]: "Not OK" is not a namespace name/,
    );
    assert.match(
      selectorProblems,
      /matchExpressions\[0\]\.values: operator In needs at least one value/,
    );
    assert.match(selectorProblems, /spec\.nodeSelector\.matchLabels\.zone: must be a string/);
  });

  it("treats an empty allocation block as unrestricted", () => {
    const compiled = compilePool(poolObject("p", { addresses: ["10.0.0.1"], allocation: {} }));
    assert.ok("pool" in compiled);
    assert.equal(compiled.pool.scope, undefined);
  });

  it("refuses something that is not an object", () => {
    assert.deepEqual(compilePool("pool").problems, ["an AddressPool must be an object"]);
    assert.match(compilePool({ metadata: { name: "p" } }).problems![0]!, /spec: required/);
  });
});
