// OpenAPI v3 schemas (the structural subset CustomResourceDefinitions use), typed against
// the TypeScript types they describe: a schema that leaves out a field, adds one, gives it
// another type, forgets an enum value's type or lists the wrong required fields does not
// compile. The TypeScript interfaces stay the single source; schemas are checked copies.
import type { Condition } from "./meta.ts";
import type { LabelSelector, LabelSelectorRequirement, SelectorOperator } from "./selector.ts";

/** One x-kubernetes-validations entry: a CEL rule evaluated by the API server. */
export interface ValidationRule {
  rule: string;
  message?: string;
  messageExpression?: string;
  /** Where the error points, relative to the rule's node (".addresses"). */
  fieldPath?: string;
  reason?:
    "FieldValueInvalid" | "FieldValueForbidden" | "FieldValueRequired" | "FieldValueDuplicate";
}

/** An OpenAPI v3 schema as written in a CRD, untyped: what crds.ts emits. */
export interface JSONSchemaProps {
  type?: "object" | "array" | "string" | "integer" | "number" | "boolean";
  description?: string;
  properties?: Record<string, JSONSchemaProps>;
  required?: string[];
  items?: JSONSchemaProps;
  additionalProperties?: JSONSchemaProps | boolean;
  enum?: readonly unknown[];
  default?: unknown;
  nullable?: boolean;
  pattern?: string;
  format?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  maxProperties?: number;
  "x-kubernetes-list-type"?: "atomic" | "set" | "map";
  "x-kubernetes-list-map-keys"?: string[];
  "x-kubernetes-validations"?: ValidationRule[];
}

interface Common {
  description?: string;
  "x-kubernetes-validations"?: ValidationRule[];
}

export interface StringSchema<T extends string = string> extends Common {
  type: "string";
  enum?: readonly T[];
  default?: T;
  pattern?: string;
  format?: "date-time";
  minLength?: number;
  maxLength?: number;
}

/** A string literal union must list its values, so the API server enforces them. */
export type EnumSchema<T extends string> = StringSchema<T> & { enum: readonly T[] };

export interface IntegerSchema extends Common {
  type: "integer";
  format?: "int32" | "int64";
  default?: number;
  minimum?: number;
  maximum?: number;
}

export interface BooleanSchema extends Common {
  type: "boolean";
  default?: boolean;
}

export interface ArraySchema<E> extends Common {
  type: "array";
  items: SchemaFor<E>;
  minItems?: number;
  maxItems?: number;
  "x-kubernetes-list-type"?: "atomic" | "set" | "map";
  "x-kubernetes-list-map-keys"?: (keyof E & string)[];
}

export interface MapSchema<V> extends Common {
  type: "object";
  additionalProperties: SchemaFor<V>;
  maxProperties?: number;
}

declare const describes: unique symbol;

/**
 * A schema of an object type, made only by `objectSchema`, which checks its properties
 * and required list against `T`.
 */
export type ObjectSchema<T> = JSONSchemaProps & { readonly [describes]: T };

/** The schema a TypeScript type needs. Numbers are integers: Herald has no fractional fields. */
export type SchemaFor<T> = [T] extends [string]
  ? string extends T
    ? StringSchema
    : EnumSchema<T>
  : [T] extends [number]
    ? IntegerSchema
    : [T] extends [boolean]
      ? BooleanSchema
      : T extends readonly (infer E)[]
        ? ArraySchema<E>
        : string extends keyof T
          ? MapSchema<T[string & keyof T]>
          : ObjectSchema<T>;

type RequiredKeys<T> = {
  [K in keyof T]-?: object extends Pick<T, K> ? never : K;
}[keyof T] &
  string;

type Properties<T> = { [K in keyof T]-?: SchemaFor<NonNullable<T[K]>> };

/** Errors (as an impossible type) when `required` misses a key that T requires. */
type AllRequired<T, R extends readonly string[]> = [Exclude<RequiredKeys<T>, R[number]>] extends [
  never,
]
  ? unknown
  : { "missing from required": Exclude<RequiredKeys<T>, R[number]> };

interface ObjectOptions<T> extends Common {
  default?: T;
  minProperties?: number;
}

/**
 * The schema of object type T: `objectSchema<T>()(properties, required, options)`. The two
 * calls let TypeScript take T from the caller and the required list as written.
 */
export function objectSchema<T>() {
  return <const R extends readonly RequiredKeys<T>[]>(
    properties: Properties<T>,
    required: R & AllRequired<T, R>,
    options: ObjectOptions<T> = {},
  ): ObjectSchema<T> => {
    const { description, ...rest } = options;
    const schema: JSONSchemaProps = { type: "object" };
    if (description !== undefined) schema.description = description;
    schema.properties = properties as Record<string, JSONSchemaProps>;
    if (required.length > 0) schema.required = [...required];
    return { ...schema, ...rest } as ObjectSchema<T>;
  };
}

/** Label keys and values as Kubernetes bounds them: a 253-byte prefix, a slash, 63 bytes. */
const LABEL_KEY_MAX = 317;
const LABEL_VALUE_MAX = 63;

const OPERATORS: readonly SelectorOperator[] = ["In", "NotIn", "Exists", "DoesNotExist"];

const requirementSchema = objectSchema<LabelSelectorRequirement>()(
  {
    key: { type: "string", minLength: 1, maxLength: LABEL_KEY_MAX },
    operator: { type: "string", enum: OPERATORS },
    values: {
      type: "array",
      items: { type: "string", maxLength: LABEL_VALUE_MAX },
      maxItems: 64,
      "x-kubernetes-list-type": "atomic",
    },
  },
  ["key", "operator"],
  {
    "x-kubernetes-validations": [
      {
        rule: "self.operator in ['In', 'NotIn'] ? has(self.values) && size(self.values) > 0 : !has(self.values) || size(self.values) == 0",
        message: "In and NotIn need at least one value; Exists and DoesNotExist take none",
      },
    ],
  },
);

/** metav1.LabelSelector, as every Kubernetes API writes it. */
export const labelSelectorSchema = objectSchema<LabelSelector>()(
  {
    matchLabels: {
      type: "object",
      additionalProperties: { type: "string", maxLength: LABEL_VALUE_MAX },
      maxProperties: 64,
    },
    matchExpressions: {
      type: "array",
      items: requirementSchema,
      maxItems: 32,
      "x-kubernetes-list-type": "atomic",
    },
  },
  [],
);

const CONDITION_STATUSES: readonly Condition["status"][] = ["True", "False", "Unknown"];

/** metav1.Condition, with the bounds upstream gives it. */
export const conditionSchema = objectSchema<Condition>()(
  {
    type: {
      type: "string",
      maxLength: 316,
      pattern:
        "^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$",
    },
    status: { type: "string", enum: CONDITION_STATUSES },
    reason: {
      type: "string",
      minLength: 1,
      maxLength: 1024,
      pattern: "^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$",
    },
    message: { type: "string", maxLength: 32768 },
    lastTransitionTime: { type: "string", format: "date-time" },
    observedGeneration: { type: "integer", format: "int64", minimum: 0 },
  },
  ["type", "status", "reason", "message"],
);

export const conditionsSchema: ArraySchema<Condition> = {
  type: "array",
  items: conditionSchema,
  maxItems: 16,
  "x-kubernetes-list-type": "map",
  "x-kubernetes-list-map-keys": ["type"],
};
