// The repository's examples, validated as a user would validate them.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { parseManifests } from "./manifests.ts";
import { problemLine } from "./report.ts";
import { validateDocuments } from "./validate.ts";

const root = fileURLToPath(new URL("../../", import.meta.url));

function validateDirectory(directory: string) {
  const files = readdirSync(root + directory)
    .filter((name) => /\.ya?ml$/.test(name))
    .sort();
  return validateDocuments(
    files.flatMap((name) =>
      parseManifests(readFileSync(`${root}${directory}/${name}`, "utf8"), `${directory}/${name}`),
    ),
  );
}

describe("examples", () => {
  it("examples/validate is a whole configuration without a single problem", () => {
    assert.deepEqual(validateDirectory("examples/validate").problems.map(problemLine), []);
  });

  it("examples/plan is valid apart from the two mistakes it shows on purpose", () => {
    const report = validateDirectory("examples/plan");
    // The "typo" pool overlaps "lan", and "legacy" asks for an address in no pool: the
    // plan example shows what the controller does with them.
    assert.deepEqual(
      report.problems.filter((p) => p.severity === "error").map((p) => `${p.kind} ${p.name}`),
      ["AddressPool typo", "Service shop/legacy"],
    );
    // It has no BGPAdvertisement: its Routed pool would not be announced by BGP.
    assert.deepEqual(
      report.problems.filter((p) => p.severity === "warning").map((p) => `${p.name} ${p.field}`),
      ["routed spec.announce"],
    );
  });
});
