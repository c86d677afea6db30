// For the converters' tests: YAML in, the written objects and the findings out, in a shape
// that reads well in assertions.
import assert from "node:assert/strict";
import { CORE_SCHEMA, loadAll } from "js-yaml";
import { customResourceDefinitions } from "../src/api/crds.ts";
import {
  compileSchema,
  pruneAndDefault,
  validateObject,
  type CompiledSchema,
} from "../src/schema/schema.ts";
import { compilePool } from "../src/ipam/pool.ts";
import { formatFinding, type Finding } from "../src/migrate/findings.ts";
import { migrate, type MigrationResult, type PeerName } from "../src/migrate/migrate.ts";
import type { WrittenObject } from "../src/migrate/output.ts";

export interface Converted {
  readonly result: MigrationResult;
  /** "Kind/name" -> the object written. */
  readonly objects: Map<string, WrittenObject>;
  /** Each warning as `herald migrate` prints it, without the "warning: " prefix. */
  readonly warnings: string[];
  readonly notes: string[];
  /** The spec of an object; fails the test when it was not written. */
  spec(kind: string, name: string): Record<string, unknown>;
}

export function convert(peer: PeerName, yaml: string): Converted {
  const documents = loadAll(yaml, { schema: CORE_SCHEMA }).filter((d) => d !== null);
  const items = documents.map((object, i) => ({
    object: object as Record<string, unknown>,
    source: `input.yaml (document ${i + 1})`,
  }));
  const result = migrate(peer, items);
  const objects = new Map(
    result.objects.map(({ object }) => [`${object.kind}/${object.metadata.name}`, object]),
  );
  const text = (severity: Finding["severity"]) =>
    result.findings
      .filter((f) => f.severity === severity)
      .map((f) => formatFinding(f).slice(severity.length + 2));
  return {
    result,
    objects,
    warnings: text("warning"),
    notes: text("note"),
    spec(kind, name) {
      const object = objects.get(`${kind}/${name}`);
      if (!object)
        throw new Error(
          `${kind}/${name} was not written; written: ${[...objects.keys()].join(", ")}`,
        );
      return object.spec as unknown as Record<string, unknown>;
    },
  };
}

/** The one finding matching `pattern`; fails when there is none or several. */
export function only(findings: readonly string[], pattern: RegExp): string {
  const matching = findings.filter((f) => pattern.test(f));
  if (matching.length !== 1) {
    throw new Error(
      `expected one finding matching ${pattern}, found ${matching.length}:\n${findings.join("\n")}`,
    );
  }
  return matching[0]!;
}

const schemas = new Map<string, CompiledSchema>(
  customResourceDefinitions().map((crd) => {
    const compiled = compileSchema(crd.spec.versions[0]!.schema.openAPIV3Schema);
    if ("problems" in compiled) throw new Error(compiled.problems.join("\n"));
    return [crd.spec.names.kind, compiled.schema];
  }),
);

/**
 * Fails unless every written object passes its CRD's schema and CEL rules, and every
 * pool the controller's own checks: what `herald migrate` promises of its output.
 */
export function assertValidOutput(objects: readonly { object: WrittenObject }[]): void {
  for (const { object } of objects) {
    const schema = schemas.get(object.kind);
    if (schema) {
      const causes = validateObject(schema, pruneAndDefault(schema, object));
      assert.deepEqual(causes, [], JSON.stringify(object));
    }
    if (object.kind === "AddressPool") {
      assert.deepEqual(compilePool(object).problems, undefined, JSON.stringify(object));
    }
  }
}
