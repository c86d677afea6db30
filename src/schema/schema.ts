// CustomResourceDefinition schemas as the API server applies them: compile a version's
// openAPIV3Schema with its CEL rules once, then prune, default and validate objects against
// it, reporting problems as the StatusCauses kubectl prints. Pure: no I/O, no clock.
import { Optional } from "@marcbachmann/cel-js";
import { parseAddress } from "../ip.ts";
import { compileExpression, firstLine, type CompiledExpression } from "./cel.ts";

/** A Kubernetes StatusCause. */
export interface FieldCause {
  reason: string;
  field: string;
  message: string;
}

const TYPES = ["object", "array", "string", "integer", "number", "boolean"] as const;
type SchemaType = (typeof TYPES)[number];

const RULE_REASONS = [
  "FieldValueInvalid",
  "FieldValueForbidden",
  "FieldValueRequired",
  "FieldValueDuplicate",
];

interface CompiledRule {
  readonly rule: string;
  readonly message: string | undefined;
  readonly program: CompiledExpression;
  readonly messageExpression: CompiledExpression | undefined;
  /** Appended to the field of a failure, already in field-path form (".a[k]"). */
  readonly fieldPath: string;
  readonly reason: string;
  readonly optionalOldSelf: boolean;
}

interface SchemaNode {
  type?: SchemaType;
  properties?: Map<string, SchemaNode>;
  required: string[];
  /** A node: the schema of every other key; true: any value is kept. */
  additionalProperties?: SchemaNode | true;
  items?: SchemaNode;
  enum?: unknown[];
  pattern?: { source: string; regex: RegExp };
  minimum?: number;
  maximum?: number;
  exclusiveMinimum: boolean;
  exclusiveMaximum: boolean;
  multipleOf?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  minProperties?: number;
  maxProperties?: number;
  format?: string;
  nullable: boolean;
  default?: { value: unknown };
  intOrString: boolean;
  preserveUnknown: boolean;
  /** x-kubernetes-embedded-resource: apiVersion, kind and metadata are kept as the root's are. */
  embedded: boolean;
  listType?: "atomic" | "set" | "map";
  listMapKeys: string[];
  rules: CompiledRule[];
  allOf: SchemaNode[];
  anyOf: SchemaNode[];
  oneOf: SchemaNode[];
  not?: SchemaNode;
}

export interface CompiledSchema {
  readonly root: SchemaNode;
  /** Whether any node has x-kubernetes-validations: without them there is no CEL to block. */
  readonly hasRules: boolean;
}

/** The schema of a node's additional properties, when it has one (not just `true`). */
function additionalSchema(node: SchemaNode | undefined): SchemaNode | undefined {
  const additional = node?.additionalProperties;
  return additional === true ? undefined : additional;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Compiles a CRD version's openAPIV3Schema (and its CEL rules); problems are strings. */
export function compileSchema(
  openAPIV3Schema: unknown,
): { schema: CompiledSchema } | { problems: string[] } {
  const problems: string[] = [];
  const root = compileNode(openAPIV3Schema, "openAPIV3Schema", problems, true);
  return problems.length > 0 ? { problems } : { schema: { root, hasRules: anyRules(root) } };
}

function anyRules(node: SchemaNode | undefined): boolean {
  if (!node) return false;
  const additional = additionalSchema(node);
  return (
    node.rules.length > 0 ||
    [...(node.properties?.values() ?? [])].some(anyRules) ||
    anyRules(node.items) ||
    anyRules(additional) ||
    [...node.allOf, ...node.anyOf, ...node.oneOf].some(anyRules)
  );
}

function compileNode(raw: unknown, path: string, problems: string[], isRoot = false): SchemaNode {
  const node: SchemaNode = {
    required: [],
    exclusiveMinimum: false,
    exclusiveMaximum: false,
    nullable: false,
    intOrString: false,
    preserveUnknown: false,
    embedded: false,
    listMapKeys: [],
    rules: [],
    allOf: [],
    anyOf: [],
    oneOf: [],
  };
  if (!isObject(raw)) {
    problems.push(`${path}: must be a schema object`);
    return node;
  }
  if (raw.$ref !== undefined) problems.push(`${path}.$ref: Forbidden: $ref is not supported`);
  if (raw.type !== undefined) {
    if (TYPES.includes(raw.type as SchemaType)) node.type = raw.type as SchemaType;
    else problems.push(`${path}.type: Unsupported value: ${JSON.stringify(raw.type)}`);
  }
  if (raw.properties !== undefined) {
    if (!isObject(raw.properties)) problems.push(`${path}.properties: must be an object`);
    else {
      node.properties = new Map();
      for (const [name, child] of Object.entries(raw.properties)) {
        node.properties.set(name, compileNode(child, `${path}.properties[${name}]`, problems));
      }
    }
  }
  if (raw.additionalProperties === true) node.additionalProperties = true;
  else if (isObject(raw.additionalProperties)) {
    node.additionalProperties = compileNode(
      raw.additionalProperties,
      `${path}.additionalProperties`,
      problems,
    );
  }
  if (raw.items !== undefined) {
    if (!isObject(raw.items)) problems.push(`${path}.items: must be a single schema`);
    else node.items = compileNode(raw.items, `${path}.items`, problems);
  }
  if (Array.isArray(raw.required)) node.required = raw.required.map(String);
  if (Array.isArray(raw.enum)) node.enum = raw.enum;
  if (typeof raw.pattern === "string") {
    try {
      node.pattern = { source: raw.pattern, regex: new RegExp(raw.pattern) };
    } catch (error) {
      problems.push(
        `${path}.pattern: Invalid value: ${JSON.stringify(raw.pattern)}: ${firstLine(error)}`,
      );
    }
  }
  for (const key of [
    "minimum",
    "maximum",
    "multipleOf",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "minProperties",
    "maxProperties",
  ] as const) {
    const value = raw[key];
    if (value === undefined) continue;
    if (typeof value === "number") node[key] = value;
    else problems.push(`${path}.${key}: must be a number`);
  }
  node.exclusiveMinimum = raw.exclusiveMinimum === true;
  node.exclusiveMaximum = raw.exclusiveMaximum === true;
  if (typeof raw.format === "string") node.format = raw.format;
  node.nullable = raw.nullable === true;
  node.intOrString = raw["x-kubernetes-int-or-string"] === true;
  node.preserveUnknown = raw["x-kubernetes-preserve-unknown-fields"] === true;
  node.embedded = raw["x-kubernetes-embedded-resource"] === true;
  const listType = raw["x-kubernetes-list-type"];
  if (listType === "atomic" || listType === "set" || listType === "map") node.listType = listType;
  else if (listType !== undefined) {
    problems.push(
      `${path}.x-kubernetes-list-type: Unsupported value: ${JSON.stringify(listType)}: supported values: "atomic", "map", "set"`,
    );
  }
  const mapKeys = raw["x-kubernetes-list-map-keys"];
  if (Array.isArray(mapKeys)) node.listMapKeys = mapKeys.map(String);
  if (node.listType === "map" && node.listMapKeys.length === 0) {
    problems.push(`${path}.x-kubernetes-list-map-keys: Required value: a map list needs its keys`);
  }
  for (const combinator of ["allOf", "anyOf", "oneOf"] as const) {
    const list = raw[combinator];
    if (Array.isArray(list)) {
      node[combinator] = list.map((sub, i) =>
        compileNode(sub, `${path}.${combinator}[${i}]`, problems),
      );
    }
  }
  if (raw.not !== undefined) node.not = compileNode(raw.not, `${path}.not`, problems);
  if (raw.default !== undefined) {
    node.default = { value: raw.default };
    const causes: FieldCause[] = [];
    validateStructure(node, raw.default, "", causes);
    for (const cause of causes) {
      problems.push(`${path}.default: ${cause.field ? `${cause.field}: ` : ""}${cause.message}`);
    }
  }
  const rules = raw["x-kubernetes-validations"];
  if (rules !== undefined) {
    if (!Array.isArray(rules)) problems.push(`${path}.x-kubernetes-validations: must be a list`);
    else {
      rules.forEach((rule, i) => {
        const compiled = compileRule(
          rule,
          node,
          isRoot,
          `${path}.x-kubernetes-validations[${i}]`,
          problems,
        );
        if (compiled) node.rules.push(compiled);
      });
    }
  }
  return node;
}

function compileRule(
  raw: unknown,
  node: SchemaNode,
  isRoot: boolean,
  path: string,
  problems: string[],
): CompiledRule | undefined {
  if (!isObject(raw) || typeof raw.rule !== "string") {
    problems.push(`${path}.rule: Required value`);
    return undefined;
  }
  const rule = raw.rule;
  const failed = (field: string, text: string, why: string) =>
    problems.push(`${path}.${field}: Invalid value: ${JSON.stringify(text)}: ${why}`);
  const program = compileExpression(rule);
  if ("error" in program) {
    failed("rule", rule, `compilation failed: ${program.error}`);
    return undefined;
  }
  if (program.type !== "bool" && program.type !== "dyn") {
    failed("rule", rule, `compilation failed: rule must evaluate to a bool, not ${program.type}`);
    return undefined;
  }
  for (const selection of program.selfPaths) {
    const why = undefinedField(node, selection, isRoot);
    if (why) {
      failed("rule", rule, `compilation failed: ${why}`);
      return undefined;
    }
  }
  let messageExpression: CompiledExpression | undefined;
  if (typeof raw.messageExpression === "string") {
    const compiled = compileExpression(raw.messageExpression);
    if ("error" in compiled) {
      failed("messageExpression", raw.messageExpression, `compilation failed: ${compiled.error}`);
      return undefined;
    }
    if (compiled.type !== "string" && compiled.type !== "dyn") {
      failed("messageExpression", raw.messageExpression, "must evaluate to a string");
      return undefined;
    }
    messageExpression = compiled;
  }
  let fieldPath = "";
  if (typeof raw.fieldPath === "string") {
    const resolved = resolveFieldPath(node, raw.fieldPath);
    if (typeof resolved !== "string" || resolved === "") {
      failed("fieldPath", raw.fieldPath, resolved === "" ? "must not be empty" : resolved.error);
      return undefined;
    }
    fieldPath = resolved;
  }
  const reason = typeof raw.reason === "string" ? raw.reason : "FieldValueInvalid";
  if (!RULE_REASONS.includes(reason)) {
    problems.push(
      `${path}.reason: Unsupported value: ${JSON.stringify(reason)}: supported values: ${RULE_REASONS.map((r) => JSON.stringify(r)).join(", ")}`,
    );
    return undefined;
  }
  return {
    rule,
    message:
      typeof raw.message === "string" && raw.message.trim() !== "" ? raw.message.trim() : undefined,
    program,
    messageExpression,
    fieldPath,
    reason,
    optionalOldSelf: raw.optionalOldSelf === true,
  };
}

/** Why `self.a.b…` names no field of the schema (as the API server's type check says), if it does not. */
function undefinedField(
  node: SchemaNode,
  selection: string[],
  isRoot: boolean,
): string | undefined {
  let current: SchemaNode | undefined = node;
  for (const [i, name] of selection.entries()) {
    if (!current) return undefined;
    if (isRoot && i === 0 && (name === "apiVersion" || name === "kind")) return undefined;
    if (isRoot && i === 0 && name === "metadata") {
      // Rules see only metadata.name and metadata.generateName.
      const field = selection[1];
      if (field === undefined || field === "name" || field === "generateName") return undefined;
      return `undefined field '${field}'`;
    }
    const child: SchemaNode | undefined = current.properties?.get(name);
    if (child) {
      current = child;
      continue;
    }
    if (current.additionalProperties !== undefined) {
      current = current.additionalProperties === true ? undefined : current.additionalProperties;
      continue;
    }
    if (current.preserveUnknown || current.intOrString || current.type === undefined)
      return undefined;
    return `undefined field '${name}'`;
  }
  return undefined;
}

/** A rule's fieldPath (".a.b", ".m['k.x']") in field-error form, or why it is not a field. */
function resolveFieldPath(node: SchemaNode, fieldPath: string): string | { error: string } {
  const token = /^(?:\.([A-Za-z_][-A-Za-z0-9_]*)|\['((?:[^'\\]|\\.)*)'\])/;
  let rest = fieldPath;
  let current: SchemaNode | undefined = node;
  let result = "";
  while (rest !== "") {
    const match = token.exec(rest);
    if (!match) return { error: "must be a JSON path such as .spec.field or .map['key']" };
    rest = rest.slice(match[0].length);
    const name = match[1] ?? match[2]!.replace(/\\(.)/g, "$1");
    const child: SchemaNode | undefined = current?.properties?.get(name);
    if (child) {
      current = child;
      result += `.${name}`;
    } else if (current?.additionalProperties !== undefined) {
      current = current.additionalProperties === true ? undefined : current.additionalProperties;
      result += `[${name}]`;
    } else {
      return { error: "does not refer to a valid field" };
    }
  }
  return result;
}

// ---------------------------------------------------------------------------------------
// Pruning and defaulting.

const OBJECT_META_FIELDS = ["apiVersion", "kind", "metadata"];

/**
 * Drops fields the schema does not declare (unless x-kubernetes-preserve-unknown-fields)
 * and applies `default`s, returning a new object, as the API server does before validation.
 */
export function pruneAndDefault(schema: CompiledSchema, object: unknown): unknown {
  return prune(schema.root, object, true);
}

function prune(node: SchemaNode | undefined, value: unknown, keepsObjectMeta: boolean): unknown {
  if (Array.isArray(value)) {
    return value.map((item) =>
      node?.items ? prune(node.items, item, node.items.embedded) : clone(item),
    );
  }
  if (!isObject(value)) return value;
  if (
    !node ||
    (node.type !== "object" && !node.properties && node.additionalProperties === undefined)
  ) {
    return clone(value);
  }
  const result: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    const declared = node.properties?.get(key);
    if (keepsObjectMeta && OBJECT_META_FIELDS.includes(key) && !declared?.properties) {
      // The API server keeps these whatever the schema says (metadata is ObjectMeta).
      result[key] = clone(child);
    } else if (declared) {
      // A null in a field that is not nullable is dropped, so its default applies.
      if (child === null && !declared.nullable) continue;
      result[key] = prune(declared, child, declared.embedded);
    } else if (additionalSchema(node)) {
      const additional = additionalSchema(node)!;
      if (child === null && !additional.nullable) continue;
      result[key] = prune(additional, child, additional.embedded);
    } else if (node.additionalProperties === true || node.preserveUnknown) {
      result[key] = clone(child);
    }
  }
  for (const [key, child] of node.properties ?? []) {
    if (result[key] === undefined && child.default) {
      result[key] = prune(child, clone(child.default.value), child.embedded);
    }
  }
  return result;
}

function clone<T>(value: T): T {
  return value === undefined ? value : structuredClone(value);
}

// ---------------------------------------------------------------------------------------
// Validation.

/**
 * Every problem of the object against the schema and its x-kubernetes-validations; `old`
 * is the stored object on update (for transition rules using oldSelf). Empty list = valid.
 */
export function validateObject(
  schema: CompiledSchema,
  object: unknown,
  old?: unknown,
  options: { statusWrite?: boolean } = {},
): FieldCause[] {
  const causes: FieldCause[] = [];
  validateStructure(schema.root, object, "", causes);
  // A write through /status is validated against the status schema alone, so
  // kube-openapi's messages name fields from there ("conditions[0].reason in body"),
  // while the causes' fields stay whole ("status.conditions[0].reason").
  if (options.statusWrite) {
    for (const cause of causes)
      if (cause.field.startsWith("status."))
        cause.message = cause.message.replace(
          `${cause.field} in body`,
          `${cause.field.slice("status.".length)} in body`,
        );
  }
  // As the API server: rules are not run on an object whose shape they could trip over.
  if (causes.some((cause) => BLOCKING.includes(cause.reason))) {
    if (schema.hasRules)
      causes.push({
        reason: "FieldValueInvalid",
        field: "",
        message:
          "Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation",
      });
    return causes;
  }
  const self = toCel(schema.root, object, true);
  const oldSelf = old === undefined || old === null ? undefined : toCel(schema.root, old, true);
  validateRules(schema.root, self, oldSelf, "", causes);
  return causes;
}

const BLOCKING = [
  "FieldValueNotSupported",
  "FieldValueRequired",
  "FieldValueTooLong",
  "FieldValueTooMany",
  "FieldValueTypeInvalid",
];

const child = (path: string, name: string) => (path === "" ? name : `${path}.${name}`);

/** How kube-openapi names a field in its messages ("spec.port in body …"). */
const inBody = (path: string) => `${path === "" ? "body" : path} in body`;

function jsonType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  if (typeof value === "bigint") return "integer";
  return typeof value;
}

/** A value as Go's field errors print it: strings quoted, numbers and booleans bare. */
function display(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "number" || typeof value === "bigint" || typeof value === "boolean") {
    return String(value);
  }
  if (value === null || value === undefined) return '"null"';
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === "bigint" ? Number(v) : v));
}

function invalid(field: string, value: unknown, detail: string): FieldCause {
  return {
    reason: "FieldValueInvalid",
    field,
    message: `Invalid value: ${display(value)}: ${detail}`,
  };
}

function validateStructure(
  node: SchemaNode,
  value: unknown,
  path: string,
  causes: FieldCause[],
): void {
  if (value === undefined) return;
  if (value === null) {
    if (node.nullable || (!node.type && !node.intOrString)) return;
    const type = node.type ?? "integer-or-string";
    causes.push(typeInvalid(path, "null", type));
    return;
  }
  const actual = jsonType(value);
  if (node.intOrString) {
    if (actual !== "integer" && actual !== "string") {
      causes.push(typeInvalid(path, actual, "integer-or-string"));
      return;
    }
  } else if (
    node.type &&
    actual !== node.type &&
    !(node.type === "number" && actual === "integer")
  ) {
    causes.push(typeInvalid(path, actual, node.type));
    return;
  }
  if (node.enum && !node.enum.some((allowed) => sameJSON(allowed, value))) {
    const supported = node.enum
      .map((allowed) =>
        JSON.stringify(typeof allowed === "string" ? allowed : JSON.stringify(allowed)),
      )
      .join(", ");
    causes.push({
      reason: "FieldValueNotSupported",
      field: path,
      message: `Unsupported value: ${display(value)}: supported values: ${supported}`,
    });
  }
  if (typeof value === "string") validateString(node, value, path, causes);
  else if (typeof value === "number") validateNumber(node, value, path, causes);
  else if (Array.isArray(value)) validateArray(node, value, path, causes);
  else if (isObject(value)) validateFields(node, value, path, causes);
  for (const sub of node.allOf) validateStructure(sub, value, path, causes);
  if (node.anyOf.length > 0 && !node.anyOf.some((sub) => passes(sub, value, path))) {
    causes.push(invalid(path, value, `${inBody(path)} must validate at least one schema (anyOf)`));
  }
  if (node.oneOf.length > 0 && node.oneOf.filter((sub) => passes(sub, value, path)).length !== 1) {
    causes.push(
      invalid(path, value, `${inBody(path)} must validate one and only one schema (oneOf)`),
    );
  }
  if (node.not && passes(node.not, value, path)) {
    causes.push(invalid(path, value, `${inBody(path)} must not validate the schema (not)`));
  }
}

function passes(node: SchemaNode, value: unknown, path: string): boolean {
  const causes: FieldCause[] = [];
  validateStructure(node, value, path, causes);
  return causes.length === 0;
}

function typeInvalid(path: string, actual: string, expected: string): FieldCause {
  return {
    reason: "FieldValueTypeInvalid",
    field: path,
    message: `Invalid value: "${actual}": ${inBody(path)} must be of type ${expected}: "${actual}"`,
  };
}

const FORMATS: Record<string, (text: string) => boolean> = {
  "date-time": (text) =>
    /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/.test(text) &&
    !Number.isNaN(Date.parse(text.replace(" ", "T"))),
  date: (text) => /^\d{4}-\d{2}-\d{2}$/.test(text) && !Number.isNaN(Date.parse(text)),
  ipv4: (text) => parseAddress(text)?.family === "IPv4",
  ipv6: (text) => parseAddress(text)?.family === "IPv6",
  cidr: (text) => {
    const [address = "", length = "", ...rest] = text.split("/");
    const parsed = parseAddress(address);
    const bits = parsed?.family === "IPv4" ? 32 : 128;
    return !!parsed && rest.length === 0 && /^\d{1,3}$/.test(length) && Number(length) <= bits;
  },
  uuid: (text) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(text),
  byte: (text) => /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(text),
  hostname: (text) =>
    text.length <= 253 &&
    /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/i.test(text),
};

function validateString(node: SchemaNode, value: string, path: string, causes: FieldCause[]): void {
  const length = [...value].length;
  if (node.maxLength !== undefined && length > node.maxLength) {
    causes.push({
      reason: "FieldValueTooLong",
      field: path,
      message: `Too long: may not be more than ${node.maxLength} bytes`,
    });
  }
  if (node.minLength !== undefined && length < node.minLength) {
    causes.push(
      invalid(path, value, `${inBody(path)} should be at least ${node.minLength} chars long`),
    );
  }
  if (node.pattern && !node.pattern.regex.test(value)) {
    causes.push(invalid(path, value, `${inBody(path)} should match '${node.pattern.source}'`));
  }
  const format = node.format === undefined ? undefined : FORMATS[node.format];
  if (format && !format(value)) {
    // kube-openapi reports a format it cannot parse as a wrong type (which blocks CEL).
    causes.push({
      reason: "FieldValueTypeInvalid",
      field: path,
      message: `Invalid value: ${display(value)}: ${inBody(path)} must be of type ${node.format}: ${JSON.stringify(value)}`,
    });
  }
}

function validateNumber(node: SchemaNode, value: number, path: string, causes: FieldCause[]): void {
  const { minimum, maximum, multipleOf } = node;
  if (node.format === "int32" && (value < -2147483648 || value > 2147483647)) {
    // Word for word what kube-openapi's format check says, with no field of its own.
    causes.push({
      reason: "FieldValueInvalid",
      field: "",
      message: `Invalid value: "": Checked value must be of type integer with format int32 in ${path}`,
    });
  }
  if (minimum !== undefined && (node.exclusiveMinimum ? value <= minimum : value < minimum)) {
    const relation = node.exclusiveMinimum ? "greater than" : "greater than or equal to";
    causes.push(invalid(path, value, `${inBody(path)} should be ${relation} ${minimum}`));
  }
  if (maximum !== undefined && (node.exclusiveMaximum ? value >= maximum : value > maximum)) {
    const relation = node.exclusiveMaximum ? "less than" : "less than or equal to";
    causes.push(invalid(path, value, `${inBody(path)} should be ${relation} ${maximum}`));
  }
  if (multipleOf !== undefined && multipleOf > 0 && !Number.isInteger(value / multipleOf)) {
    causes.push(invalid(path, value, `${inBody(path)} should be a multiple of ${multipleOf}`));
  }
}

function validateArray(
  node: SchemaNode,
  value: unknown[],
  path: string,
  causes: FieldCause[],
): void {
  if (node.minItems !== undefined && value.length < node.minItems) {
    causes.push(
      invalid(path, value.length, `${inBody(path)} should have at least ${node.minItems} items`),
    );
  }
  if (node.maxItems !== undefined && value.length > node.maxItems) {
    causes.push({
      reason: "FieldValueTooMany",
      field: path,
      message: `Too many: ${value.length}: must have at most ${node.maxItems} items`,
    });
  }
  if (node.items) {
    value.forEach((item, i) => validateStructure(node.items!, item, `${path}[${i}]`, causes));
  }
  if (node.listType === "set" || node.listType === "map") {
    const seen = new Set<string>();
    value.forEach((item, i) => {
      const identity = node.listType === "map" ? mapKey(node, item) : item;
      if (identity === undefined) return;
      const key = canonicalJSON(identity);
      if (seen.has(key)) {
        causes.push({
          reason: "FieldValueDuplicate",
          field: `${path}[${i}]`,
          message: `Duplicate value: ${display(identity)}`,
        });
      }
      seen.add(key);
    });
  }
}

/** The key fields of a map-list item, or undefined when it is not an object. */
function mapKey(node: SchemaNode, item: unknown): Record<string, unknown> | undefined {
  if (!isObject(item)) return undefined;
  const key: Record<string, unknown> = {};
  for (const name of node.listMapKeys) if (item[name] !== undefined) key[name] = item[name];
  return key;
}

function validateFields(
  node: SchemaNode,
  value: Record<string, unknown>,
  path: string,
  causes: FieldCause[],
): void {
  const count = Object.keys(value).length;
  if (node.maxProperties !== undefined && count > node.maxProperties) {
    causes.push({
      reason: "FieldValueTooMany",
      field: path,
      message: `Too many: ${count}: must have at most ${node.maxProperties} items`,
    });
  }
  if (node.minProperties !== undefined && count < node.minProperties) {
    causes.push(
      invalid(path, count, `${inBody(path)} should have at least ${node.minProperties} properties`),
    );
  }
  for (const name of node.required) {
    if (value[name] === undefined) {
      causes.push({
        reason: "FieldValueRequired",
        field: child(path, name),
        message: "Required value",
      });
    }
  }
  for (const [name, fieldValue] of Object.entries(value)) {
    const declared = node.properties?.get(name);
    if (declared) validateStructure(declared, fieldValue, child(path, name), causes);
    else if (additionalSchema(node)) {
      // kube-openapi joins map keys with a dot (CEL's messages use [key]).
      validateStructure(additionalSchema(node)!, fieldValue, child(path, name), causes);
    }
  }
}

function canonicalJSON(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJSON).join(",")}]`;
  if (isObject(value)) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJSON(value[k])}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

function sameJSON(a: unknown, b: unknown): boolean {
  return canonicalJSON(a) === canonicalJSON(b);
}

// ---------------------------------------------------------------------------------------
// CEL rules.

/**
 * The value as CEL sees it: integers as int (bigint) unless the schema says number, and
 * at the root only apiVersion, kind, metadata.name and metadata.generateName of the
 * object's metadata, as the API server binds them.
 */
function toCel(node: SchemaNode | undefined, value: unknown, isRoot = false): unknown {
  if (typeof value === "number") {
    return node?.type === "number" || !Number.isInteger(value) ? value : BigInt(value);
  }
  if (Array.isArray(value)) return value.map((item) => toCel(node?.items, item));
  if (!isObject(value)) return value;
  const result: Record<string, unknown> = {};
  for (const [key, fieldValue] of Object.entries(value)) {
    if ((isRoot || node?.embedded) && key === "metadata" && isObject(fieldValue)) {
      const metadata: Record<string, unknown> = {};
      if (fieldValue.name !== undefined) metadata.name = fieldValue.name;
      if (fieldValue.generateName !== undefined) metadata.generateName = fieldValue.generateName;
      result[key] = metadata;
      continue;
    }
    const declared = node?.properties?.get(key);
    const schema = declared ?? additionalSchema(node);
    result[key] = toCel(schema, fieldValue);
  }
  return result;
}

function validateRules(
  node: SchemaNode,
  self: unknown,
  oldSelf: unknown,
  path: string,
  causes: FieldCause[],
): void {
  // Rules see only values that are there and not null; presence is the parent's concern.
  if (self === undefined || self === null) return;
  for (const rule of node.rules) evaluateRule(node, rule, self, oldSelf, path, causes);
  if (Array.isArray(self)) {
    const items = node.items;
    if (!items) return;
    const oldItems = Array.isArray(oldSelf) ? oldSelf : undefined;
    self.forEach((item, i) => {
      validateRules(
        items,
        item,
        oldItems && correlate(node, item, oldItems),
        `${path}[${i}]`,
        causes,
      );
    });
    return;
  }
  if (!isObject(self)) return;
  const oldObject = isObject(oldSelf) ? oldSelf : undefined;
  for (const [name, value] of Object.entries(self)) {
    const declared = node.properties?.get(name);
    const old = oldObject?.[name];
    if (declared) validateRules(declared, value, old, child(path, name), causes);
    else if (additionalSchema(node)) {
      validateRules(additionalSchema(node)!, value, old, `${path}[${name}]`, causes);
    }
  }
}

/** The old item a new list item is compared with: by key in a map list, by value in a set. */
function correlate(node: SchemaNode, item: unknown, oldItems: unknown[]): unknown {
  if (node.listType === "set") return oldItems.find((old) => celEqual(old, item));
  if (node.listType !== "map" || !isObject(item)) return undefined;
  return oldItems.find(
    (old) => isObject(old) && node.listMapKeys.every((key) => celEqual(old[key], item[key])),
  );
}

function celEqual(a: unknown, b: unknown): boolean {
  return canonicalJSON(toPlain(a)) === canonicalJSON(toPlain(b));
}

function toPlain(value: unknown): unknown {
  if (typeof value === "bigint") return Number(value);
  if (Array.isArray(value)) return value.map(toPlain);
  if (isObject(value))
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toPlain(v)]));
  return value;
}

function evaluateRule(
  node: SchemaNode,
  rule: CompiledRule,
  self: unknown,
  oldSelf: unknown,
  path: string,
  causes: FieldCause[],
): void {
  const context: Record<string, unknown> = { self };
  if (rule.program.usesOldSelf || rule.messageExpression?.usesOldSelf) {
    if (rule.optionalOldSelf) {
      context.oldSelf = oldSelf === undefined ? Optional.none() : Optional.of(oldSelf);
    } else if (oldSelf === undefined) {
      // Transition rules only run when there is an old value to compare with.
      if (rule.program.usesOldSelf) return;
    } else {
      context.oldSelf = oldSelf;
    }
  }
  const typeName = node.type ?? (node.intOrString ? "integer-or-string" : "object");
  const ruleText = rule.message ?? rule.rule.trim();
  let result: unknown;
  try {
    result = rule.program.evaluate(context);
  } catch (error) {
    causes.push(invalid(path, typeName, `${firstLine(error)} evaluating rule: ${ruleText}`));
    return;
  }
  if (result === true) return;
  if (result !== false) {
    causes.push(
      invalid(path, typeName, `rule did not evaluate to a bool evaluating rule: ${ruleText}`),
    );
    return;
  }
  let detail = rule.message ?? `failed rule: ${rule.rule.trim()}`;
  if (rule.messageExpression) {
    try {
      const message: unknown = rule.messageExpression.evaluate(context);
      if (typeof message === "string" && message.trim() !== "") detail = message.trim();
    } catch {
      // As the API server: a failing messageExpression falls back to message.
    }
  }
  const field = path === "" ? rule.fieldPath.replace(/^\./, "") : `${path}${rule.fieldPath}`;
  causes.push(ruleCause(rule.reason, field, self, node.type, detail));
}

function ruleCause(
  reason: string,
  field: string,
  self: unknown,
  type: SchemaType | undefined,
  detail: string,
): FieldCause {
  // Objects and lists are not printed in the message: they can be large.
  const omitted = type === "object" || type === "array" || isObject(self) || Array.isArray(self);
  switch (reason) {
    case "FieldValueForbidden":
      return { reason, field, message: `Forbidden: ${detail}` };
    case "FieldValueRequired":
      return { reason, field, message: `Required value: ${detail}` };
    case "FieldValueDuplicate":
      return {
        reason,
        field,
        message: omitted ? "Duplicate value" : `Duplicate value: ${display(self)}`,
      };
    default:
      return {
        reason: "FieldValueInvalid",
        field,
        message: omitted
          ? `Invalid value: ${detail}`
          : `Invalid value: ${display(self)}: ${detail}`,
      };
  }
}

/**
 * Paths of fields in `before` that pruning removed: those its schema does not declare, as
 * strict field validation names them ("spec.autoassign", "spec.peers[0].nmae"). A removed
 * null is left out: pruning also drops a null from a declared field that is not nullable
 * (so that its default applies), and that is no unknown field. `herald validate` reports
 * unknown fields with this too.
 */
export function droppedFields(before: unknown, after: unknown, path = ""): string[] {
  if (typeof before !== "object" || before === null || typeof after !== "object" || after === null)
    return [];
  if (Array.isArray(before)) {
    return Array.isArray(after)
      ? before.flatMap((item, i) => droppedFields(item, after[i], `${path}[${i}]`))
      : [];
  }
  const result: string[] = [];
  for (const [key, value] of Object.entries(before)) {
    const child = path ? `${path}.${key}` : key;
    if (!(key in after)) {
      if (value !== null) result.push(child);
    } else result.push(...droppedFields(value, (after as Record<string, unknown>)[key], child));
  }
  return result;
}
