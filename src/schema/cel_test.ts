import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { compileExpression } from "./cel.ts";

function compiled(expression: string) {
  const result = compileExpression(expression);
  if ("error" in result) assert.fail(result.error);
  return result;
}

describe("compileExpression", () => {
  it("finds whether a rule is a transition rule", () => {
    assert.equal(compiled("self.a == oldSelf.a").usesOldSelf, true);
    assert.equal(compiled("self.a == 'oldSelf'").usesOldSelf, false);
  });

  it("lists the field selections made on self, for checking against the schema", () => {
    assert.deepEqual(compiled("has(self.a.b) && self.c.all(x, x.d)").selfPaths, [
      ["a", "b"],
      ["a"],
      ["c"],
    ]);
  });

  it("reports syntax errors and functions Kubernetes does not have", () => {
    assert.match((compileExpression("self +") as { error: string }).error, /Unexpected/);
    assert.match(
      (compileExpression("self.base64Decode()") as { error: string }).error,
      /no matching overload/,
    );
  });

  it("infers the result type", () => {
    assert.equal(compiled("isIP(self)").type, "bool");
    assert.equal(compiled("string(cidr(self).masked())").type, "string");
  });

  it("evaluates Kubernetes IP and CIDR functions with Go's parsing rules", () => {
    const canonical = compiled("string(ip(self))");
    assert.equal(canonical.evaluate({ self: "2001:DB8:0:0::1" }), "2001:db8::1");
    assert.throws(() => canonical.evaluate({ self: "::ffff:10.0.0.1" }), /IPv4-mapped/);
    assert.throws(() => canonical.evaluate({ self: "fe80::1%eth0" }), /zone/);
    assert.equal(compiled("isCIDR(self)").evaluate({ self: "10.0.0.0/08" }), false);
    assert.equal(compiled("string(cidr(self))").evaluate({ self: "10.0.0.7/24" }), "10.0.0.7/24");
    assert.equal(
      compiled("cidr(self).containsCIDR('10.0.0.0/8')").evaluate({ self: "10.0.0.0/16" }),
      false,
    );
  });
});
