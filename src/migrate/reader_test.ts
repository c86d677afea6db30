import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { Findings, formatFinding } from "./findings.ts";
import { FieldReader } from "./reader.ts";

const origin = { source: "in.yaml", kind: "Thing", name: "ns/t" };

function read(spec: unknown) {
  const findings = new Findings();
  const reader = FieldReader.of(spec, "spec", origin, findings);
  return { reader, messages: () => findings.list.map(formatFinding) };
}

describe("FieldReader", () => {
  it("reports each field nothing read, however deep, and nothing that was read", () => {
    const { reader, messages } = read({
      known: "x",
      extra: 1,
      nested: { used: true, unused: "y" },
      list: [{ a: 1, b: 2 }, "not an object"],
      skipped: { whole: "object" },
    });
    reader.string("known");
    reader.child("nested")!.boolean("used");
    for (const item of reader.items("list")!) item.integer("a");
    reader.consume("skipped");
    reader.finish();
    assert.deepEqual(messages(), [
      'warning: in.yaml: Thing ns/t: spec.list[1]: must be an object, found string "not an object"; ignored',
      "warning: in.yaml: Thing ns/t: spec.extra: is not a field this migration knows; it was left out (see docs/migration.md)",
      "warning: in.yaml: Thing ns/t: spec.nested.unused: is not a field this migration knows; it was left out (see docs/migration.md)",
      "warning: in.yaml: Thing ns/t: spec.list[0].b: is not a field this migration knows; it was left out (see docs/migration.md)",
    ]);
  });

  it("checks types and limits, and says what it ignored", () => {
    const { reader, messages } = read({
      n: "12",
      m: 70000,
      s: 3,
      b: "yes",
      l: ["a", 2],
      asn: "65000",
    });
    assert.equal(reader.integer("n"), undefined);
    assert.equal(reader.integer("m", { max: 65535 }), undefined);
    assert.equal(reader.string("s"), undefined);
    assert.equal(reader.boolean("b"), undefined);
    assert.deepEqual(reader.strings("l"), ["a"]);
    assert.equal(reader.integer("asn", { fromString: true }), 65000);
    assert.deepEqual(messages(), [
      'warning: in.yaml: Thing ns/t: spec.n: must be a whole number, found string "12"; ignored',
      "warning: in.yaml: Thing ns/t: spec.m: 70000 is outside 0…65535; ignored",
      "warning: in.yaml: Thing ns/t: spec.s: must be a string, found number 3; ignored",
      'warning: in.yaml: Thing ns/t: spec.b: must be true or false, found string "yes"; ignored',
      "warning: in.yaml: Thing ns/t: spec.l[1]: must be a string, found number 2; ignored",
    ]);
  });

  it("validates selectors as the API server would", () => {
    const { reader, messages } = read({
      ok: { matchLabels: { a: "b" } },
      bad: { matchExpressions: [{ key: "a", operator: "In" }] },
    });
    assert.deepEqual(reader.selector("ok"), { matchLabels: { a: "b" } });
    assert.equal(reader.selector("bad"), undefined);
    assert.match(
      messages().join("\n"),
      /spec.bad.matchExpressions\[0\].values: operator In needs at least one value/,
    );
    assert.match(messages().join("\n"), /spec.bad: is not a valid label selector; ignored/);
  });

  it("names no field for the object itself, and the path for nested ones", () => {
    const { reader, messages } = read({ child: {} });
    reader.warn(undefined, "about the object");
    reader.child("child")!.warn(undefined, "about the child");
    assert.deepEqual(messages(), [
      "warning: in.yaml: Thing ns/t: about the object",
      "warning: in.yaml: Thing ns/t: spec.child: about the child",
    ]);
  });
});
