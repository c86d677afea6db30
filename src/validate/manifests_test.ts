import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseManifests } from "./manifests.ts";

describe("parseManifests", () => {
  it("numbers documents only when a file has several, skipping empty ones", () => {
    assert.deepEqual(parseManifests("kind: A\n", "one.yaml"), [
      { source: "one.yaml", object: { kind: "A" } },
    ]);
    const documents = parseManifests(
      "# header\n---\nkind: A\n---\n# nothing\n---\nkind: B\n...\n",
      "f.yaml",
    );
    assert.deepEqual(
      documents.map((d) => d.source),
      ["f.yaml (document 1)", "f.yaml (document 2)"],
    );
  });

  it("gives a syntax error the file's own line number and keeps the later documents", () => {
    const text = "kind: A\n---\nkind: B\nspec: {a: 1\n---\nkind: C\n";
    const documents = parseManifests(text, "f.yaml");
    assert.equal(documents.length, 3);
    assert.deepEqual(documents[2], { source: "f.yaml (document 3)", object: { kind: "C" } });
    const broken = documents[1]!;
    assert.ok("error" in broken);
    assert.match(broken.error, /^not valid YAML: .* at line 4, column 12$/);
  });

  it("refuses duplicate keys, which the API server's strict decoding refuses too", () => {
    const [document] = parseManifests("kind: A\nkind: B\n", "f.yaml");
    assert.ok(document && "error" in document);
    assert.match(document.error, /duplicated mapping key at line 2/);
  });

  it("reads JSON, keeps timestamps as strings, and a --- marker with content on its line", () => {
    assert.deepEqual(parseManifests('{"kind": "A", "t": 2024-01-01}', "f.json"), [
      { source: "f.json", object: { kind: "A", t: "2024-01-01" } },
    ]);
    assert.deepEqual(parseManifests("--- {kind: A}\n", "f.yaml"), [
      { source: "f.yaml", object: { kind: "A" } },
    ]);
  });

  it("splits List objects into their items", () => {
    const documents = parseManifests("kind: List\nitems: [{kind: A}, 3]\n", "f.yaml");
    assert.deepEqual(documents, [
      { source: "f.yaml item 1", object: { kind: "A" } },
      { source: "f.yaml item 2", error: "expected a Kubernetes object" },
    ]);
  });
});
