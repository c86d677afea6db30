// One Herald object against its CustomResourceDefinition, as the API server takes it on
// `kubectl apply`: pruned and defaulted, then validated with the OpenAPI schema and CEL
// rules — the schema engine devkube uses too (src/schema), so the messages are the API server's own, field
// paths included. Unknown fields are refused as kubectl's strict field validation does.
import { customResourceDefinitions, type HeraldKind } from "../api/crds.ts";
import type { JSONSchemaProps } from "../api/openapi.ts";
import { labelKeyProblem, labelValueProblem } from "../api/selector.ts";
import { isDnsSubdomain, isPlainObject } from "../api/validation.ts";
import {
  compileSchema,
  droppedFields,
  pruneAndDefault,
  validateObject,
  type CompiledSchema,
} from "../schema/schema.ts";

export interface FieldProblem {
  readonly field: string;
  readonly message: string;
}

export interface CrdCheck {
  /** The object as the API server would store it: unknown fields dropped, defaults filled. */
  readonly stored: Record<string, unknown>;
  readonly problems: FieldProblem[];
}

interface KindSchema {
  readonly compiled: CompiledSchema;
  readonly raw: JSONSchemaProps;
}

let schemas: Map<string, KindSchema> | undefined;

/** Herald's kinds and their compiled schemas, compiled once (CEL compilation is not free). */
function kindSchemas(): Map<string, KindSchema> {
  if (schemas) return schemas;
  schemas = new Map();
  for (const crd of customResourceDefinitions()) {
    const raw = crd.spec.versions[0]!.schema.openAPIV3Schema;
    const compiled = compileSchema(raw);
    // Herald's own CRDs not compiling is a bug, and crds_test says so first.
    if ("problems" in compiled) throw new Error(`${crd.metadata.name}: ${compiled.problems[0]}`);
    schemas.set(crd.spec.names.kind, { compiled: compiled.schema, raw });
  }
  return schemas;
}

export function heraldKinds(): HeraldKind[] {
  return [...kindSchemas().keys()] as HeraldKind[];
}

// metav1.ObjectMeta's fields: strict decoding refuses any other under metadata.
const OBJECT_META_FIELDS = [
  "name",
  "generateName",
  "namespace",
  "selfLink",
  "uid",
  "resourceVersion",
  "generation",
  "creationTimestamp",
  "deletionTimestamp",
  "deletionGracePeriodSeconds",
  "labels",
  "annotations",
  "ownerReferences",
  "finalizers",
  "managedFields",
];

export function checkAgainstCrd(kind: HeraldKind, object: Record<string, unknown>): CrdCheck {
  const schema = kindSchemas().get(kind);
  if (!schema) throw new Error(`no CRD for kind ${kind}`);
  const problems: FieldProblem[] = [...metadataProblems(object.metadata)];
  const stored = pruneAndDefault(schema.compiled, object) as Record<string, unknown>;
  for (const field of droppedFields(object, stored)) {
    problems.push({ field, message: unknownFieldMessage(schema.raw, field) });
  }
  for (const cause of validateObject(schema.compiled, stored)) {
    problems.push({ field: cause.field, message: cause.message });
  }
  return { stored, problems };
}

function metadataProblems(metadata: unknown): FieldProblem[] {
  if (metadata === undefined) return [{ field: "metadata.name", message: "Required value" }];
  if (!isPlainObject(metadata)) {
    return [{ field: "metadata", message: "Invalid value: metadata must be an object" }];
  }
  const problems: FieldProblem[] = [];
  for (const key of Object.keys(metadata)) {
    if (!OBJECT_META_FIELDS.includes(key)) {
      problems.push({
        field: `metadata.${key}`,
        message: `unknown field "metadata.${key}"${suggestion(key, OBJECT_META_FIELDS)}`,
      });
    }
  }
  problems.push(...stringMapProblems(metadata.labels, "metadata.labels", true));
  problems.push(...stringMapProblems(metadata.annotations, "metadata.annotations", false));
  const name = metadata.name;
  if (name === undefined || name === "") {
    problems.push({ field: "metadata.name", message: "Required value: name is required" });
  } else if (typeof name !== "string" || !isDnsSubdomain(name)) {
    // The API server's own wording for a custom resource's name.
    problems.push({
      field: "metadata.name",
      message: `Invalid value: ${JSON.stringify(name)}: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`,
    });
  }
  return problems;
}

/**
 * Labels and annotations are map[string]string to the API server: a bare `true` or `8080`
 * does not decode, and a label must be a valid key and value, since selectors match them.
 */
function stringMapProblems(value: unknown, field: string, labels: boolean): FieldProblem[] {
  if (value === undefined || value === null) return [];
  if (!isPlainObject(value)) {
    return [{ field, message: `Invalid value: must be a map of strings to strings` }];
  }
  const problems: FieldProblem[] = [];
  for (const [key, entry] of Object.entries(value)) {
    if (typeof entry !== "string") {
      problems.push({
        field: `${field}[${key}]`,
        message: `Invalid value: ${JSON.stringify(entry)}: must be a string (quote numbers and booleans)`,
      });
      continue;
    }
    const problem = labels ? (labelKeyProblem(key) ?? labelValueProblem(entry)) : undefined;
    if (problem) problems.push({ field, message: `Invalid value: ${problem}` });
  }
  return problems;
}

function unknownFieldMessage(root: JSONSchemaProps, field: string): string {
  const steps = field.replace(/\[\d+\]/g, "").split(".");
  const name = steps.pop()!;
  let node: JSONSchemaProps | undefined = root;
  for (const step of steps) node = node?.items?.properties?.[step] ?? node?.properties?.[step];
  node = node?.items ?? node;
  const known = Object.keys(node?.properties ?? {});
  return `unknown field "${field}"${suggestion(name, known)}`;
}

/** "; did you mean autoAssign?" when only case or one letter differs. */
function suggestion(name: string, known: readonly string[]): string {
  const close =
    known.find((k) => k.toLowerCase() === name.toLowerCase()) ??
    known.find((k) => editDistance(k.toLowerCase(), name.toLowerCase()) <= 2);
  if (close) return `; did you mean ${close}?`;
  return known.length > 0 ? `; known fields are ${known.join(", ")}` : "";
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        previous[j]! + 1,
        current[j - 1]! + 1,
        previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length]!;
}
