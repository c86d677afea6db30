// docs/configuration.md checked against the CRD types: every spec field of every kind is
// documented in that kind's section (with its default, when the schema has one), and every
// example in it passes `herald validate`. A field added to a type without a line in the
// reference fails here, naming the field.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { parseManifests } from "../validate/manifests.ts";
import { problemLine } from "../validate/report.ts";
import { validateDocuments } from "../validate/validate.ts";
import { API_VERSION } from "./addresspool.ts";
import { customResourceDefinitions } from "./crds.ts";
import type { JSONSchemaProps } from "./openapi.ts";

const DOC = "docs/configuration.md";
const text = readFileSync(new URL(`../../${DOC}`, import.meta.url), "utf8");

interface Field {
  /** Dotted path below spec: "bfd.minRxMs". */
  readonly path: string;
  readonly default: unknown;
}

/** metav1.LabelSelector is Kubernetes' own type: documented once, not field by field. */
function isLabelSelector(schema: JSONSchemaProps): boolean {
  const keys = Object.keys(schema.properties ?? {}).sort();
  return keys.length === 2 && keys[0] === "matchExpressions" && keys[1] === "matchLabels";
}

/** Every field below a schema, parents before their children. */
function fieldsOf(schema: JSONSchemaProps, prefix = ""): Field[] {
  const fields: Field[] = [];
  for (const [name, child] of Object.entries(schema.properties ?? {})) {
    const path = prefix === "" ? name : `${prefix}.${name}`;
    fields.push({ path, default: child.default });
    const inner = child.type === "array" ? child.items : child;
    if (inner?.properties && !isLabelSelector(inner)) fields.push(...fieldsOf(inner, path));
  }
  return fields;
}

/** The page's lines, with whether each is inside a ``` block (where "# …" is a comment). */
const lines = text.split("\n");
const inCode: boolean[] = [];
{
  let fenced = false;
  for (const line of lines) {
    if (line.startsWith("```")) fenced = !fenced;
    inCode.push(fenced || line.startsWith("```"));
  }
}

/** The heading level of a line, 0 when it is not a heading. */
function headingLevel(i: number): number {
  return inCode[i] ? 0 : (/^(#+) /.exec(lines[i]!)?.[1]!.length ?? 0);
}

/**
 * The section of a kind: from the heading "<Kind> (`herald.dev/v1alpha1`…" to the next
 * heading of the same or a higher level.
 */
function sectionOf(kind: string): string | undefined {
  const title = new RegExp(`^#+ ${kind} \\(\`${API_VERSION.replace(".", "\\.")}\``);
  const start = lines.findIndex((line, i) => headingLevel(i) > 0 && title.test(line));
  if (start < 0) return undefined;
  const level = headingLevel(start);
  const end = lines.findIndex(
    (_, i) => i > start && headingLevel(i) > 0 && headingLevel(i) <= level,
  );
  return lines.slice(start, end < 0 ? undefined : end).join("\n");
}

const kinds = customResourceDefinitions()
  .map((crd) => ({
    kind: crd.spec.names.kind,
    spec: crd.spec.versions[0]!.schema.openAPIV3Schema.properties?.spec,
  }))
  .filter((entry): entry is { kind: string; spec: JSONSchemaProps } => entry.spec !== undefined);

describe(`${DOC} documents every field of every CRD`, () => {
  for (const { kind, spec } of kinds) {
    it(`${kind}: each spec field, by its path in backticks, in the ${kind} section`, () => {
      const section = sectionOf(kind);
      assert.ok(section, `${DOC} has no section headed "${kind} (\`${API_VERSION}\`, …)"`);
      const missing = fieldsOf(spec)
        .map((field) => field.path)
        .filter((path) => !section.includes(`\`${path}\``));
      assert.deepEqual(missing, [], `${DOC}: ${kind} fields not documented: ${missing.join(", ")}`);
    });

    it(`${kind}: each default, as the schema gives it, on the field's line`, () => {
      const section = sectionOf(kind) ?? "";
      const wrong = fieldsOf(spec)
        .filter((field) => field.default !== undefined && typeof field.default !== "object")
        .filter(
          (field) =>
            !section
              .split("\n")
              .some(
                (line) =>
                  line.includes(`\`${field.path}\``) &&
                  line.includes(`\`${String(field.default)}\``),
              ),
        )
        .map((field) => `${field.path} (default ${String(field.default)})`);
      assert.deepEqual(wrong, [], `${DOC}: ${kind} defaults missing or wrong: ${wrong.join(", ")}`);
    });
  }
});

/** The ```yaml blocks of the page, with the line each starts on. */
function yamlBlocks(): { line: number; text: string }[] {
  const blocks: { line: number; text: string }[] = [];
  const pattern = /^```ya?ml\n([\s\S]*?)^```$/gm;
  for (const match of text.matchAll(pattern)) {
    blocks.push({ line: text.slice(0, match.index).split("\n").length, text: match[1]! });
  }
  return blocks;
}

it(`the ${API_VERSION} examples in ${DOC} pass herald validate --strict, together`, () => {
  const blocks = yamlBlocks().filter((block) => block.text.includes(`apiVersion: ${API_VERSION}`));
  assert.ok(blocks.length >= 4, `expected an example of each kind in ${DOC}`);
  // Together, as one configuration: advertisements refer to the pools and peers beside them.
  const report = validateDocuments(
    blocks.flatMap((block) => parseManifests(block.text, `${DOC} line ${block.line}`)),
  );
  assert.deepEqual(report.problems.map(problemLine), []);
});
