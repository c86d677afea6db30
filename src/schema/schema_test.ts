import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { compileSchema, pruneAndDefault, validateObject, type CompiledSchema } from "./schema.ts";

function compile(schema: unknown): CompiledSchema {
  const result = compileSchema(schema);
  if ("problems" in result) assert.fail(result.problems.join("\n"));
  return result.schema;
}

/** A root schema with a spec of the given properties, as a CRD version has. */
function withSpec(properties: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return compile({
    type: "object",
    properties: {
      apiVersion: { type: "string" },
      kind: { type: "string" },
      metadata: { type: "object" },
      spec: { type: "object", properties, ...extra },
    },
  });
}

const validate = (schema: CompiledSchema, spec: unknown, oldSpec?: unknown) =>
  validateObject(
    schema,
    pruneAndDefault(schema, { metadata: { name: "x" }, spec }),
    oldSpec === undefined ? undefined : { metadata: { name: "x" }, spec: oldSpec },
  );

describe("compileSchema", () => {
  it("reports a rule that does not compile, naming its path and rule", () => {
    const result = compileSchema({
      type: "object",
      properties: {
        spec: {
          type: "object",
          properties: { a: { type: "string" } },
          "x-kubernetes-validations": [{ rule: "self.a ==" }, { rule: "noSuchFunction(self.a)" }],
        },
      },
    });
    assert.ok("problems" in result);
    assert.equal(result.problems.length, 2);
    assert.match(
      result.problems[0]!,
      /^openAPIV3Schema\.properties\[spec\]\.x-kubernetes-validations\[0\]\.rule: Invalid value: "self\.a ==": compilation failed/,
    );
    assert.match(result.problems[1]!, /x-kubernetes-validations\[1\].*noSuchFunction/);
  });

  it("refuses a rule that selects a field the schema does not declare", () => {
    const result = compileSchema({
      type: "object",
      properties: { a: { type: "string" } },
      "x-kubernetes-validations": [{ rule: "has(self.b)" }],
    });
    assert.ok("problems" in result);
    assert.match(result.problems[0]!, /undefined field 'b'/);
  });

  it("refuses a rule that is not boolean, a bad fieldPath, a bad pattern and an invalid default", () => {
    const result = compileSchema({
      type: "object",
      properties: {
        a: { type: "string", pattern: "(" },
        b: { type: "integer", default: "seven" },
        c: {
          type: "object",
          properties: { d: { type: "string" } },
          "x-kubernetes-validations": [{ rule: "'text'" }, { rule: "true", fieldPath: ".nope" }],
        },
      },
    });
    assert.ok("problems" in result);
    const text = result.problems.join("\n");
    assert.match(text, /properties\[a\]\.pattern/);
    assert.match(text, /properties\[b\]\.default: Invalid value: "string"/);
    assert.match(text, /x-kubernetes-validations\[0\]\.rule: .*must evaluate to a bool/);
    assert.match(
      text,
      /x-kubernetes-validations\[1\]\.fieldPath: .*does not refer to a valid field/,
    );
  });

  it("lets rules read apiVersion, kind and metadata.name at the root", () => {
    const schema = compile({
      type: "object",
      properties: { metadata: { type: "object" } },
      "x-kubernetes-validations": [
        {
          rule: "self.metadata.name == 'default' && self.kind == 'Thing'",
          message: "named default",
        },
      ],
    });
    const good = { kind: "Thing", metadata: { name: "default", labels: { a: "b" } } };
    assert.deepEqual(validateObject(schema, pruneAndDefault(schema, good)), []);
    assert.deepEqual(
      validateObject(schema, pruneAndDefault(schema, { ...good, metadata: { name: "other" } })),
      [{ reason: "FieldValueInvalid", field: "", message: "Invalid value: named default" }],
    );
    assert.ok(
      "problems" in
        compileSchema({
          type: "object",
          "x-kubernetes-validations": [{ rule: "has(self.metadata.labels)" }],
        }),
    );
  });
});

describe("pruneAndDefault", () => {
  const schema = withSpec({
    port: { type: "integer", default: 179 },
    mode: { type: "string", default: "Auto" },
    nested: {
      type: "object",
      default: {},
      properties: { depth: { type: "integer", default: 3 } },
    },
    free: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
    labels: { type: "object", additionalProperties: { type: "string" } },
    list: {
      type: "array",
      items: {
        type: "object",
        properties: { name: { type: "string" }, weight: { type: "integer", default: 1 } },
      },
    },
    maybe: { type: "string", nullable: true },
    never: { type: "string", default: "filled" },
    opaque: { type: "object" },
  });

  it("drops undeclared fields, keeps preserved ones and the object's metadata", () => {
    const input = {
      apiVersion: "herald.dev/v1alpha1",
      kind: "Thing",
      metadata: { name: "x", annotations: { a: "b" } },
      spec: {
        unknown: true,
        free: { anything: [1, { deep: true }] },
        labels: { a: "b" },
        list: [{ name: "a", extra: 1 }],
        opaque: { gone: 1 },
      },
      surplus: 1,
    };
    const output = pruneAndDefault(schema, input) as Record<string, Record<string, unknown>>;
    assert.deepEqual(output.metadata, { name: "x", annotations: { a: "b" } });
    assert.equal(output.apiVersion, "herald.dev/v1alpha1");
    assert.equal("surplus" in output, false);
    assert.equal("unknown" in output.spec!, false);
    assert.deepEqual(output.spec!.free, { anything: [1, { deep: true }] });
    assert.deepEqual(output.spec!.labels, { a: "b" });
    assert.deepEqual(output.spec!.list, [{ name: "a", weight: 1 }]);
    assert.deepEqual(output.spec!.opaque, {});
    // The input is not changed.
    assert.equal((input.spec as Record<string, unknown>).unknown, true);
  });

  it("applies defaults, including inside a defaulted object, and not over set values", () => {
    const output = pruneAndDefault(schema, { spec: { port: 1179 } }) as { spec: unknown };
    assert.deepEqual(output.spec, {
      port: 1179,
      mode: "Auto",
      nested: { depth: 3 },
      never: "filled",
    });
  });

  it("drops nulls of fields that are not nullable, so their default applies", () => {
    const output = pruneAndDefault(schema, { spec: { never: null, maybe: null, port: null } }) as {
      spec: Record<string, unknown>;
    };
    assert.equal(output.spec.never, "filled");
    assert.equal(output.spec.port, 179);
    assert.equal(output.spec.maybe, null);
  });
});

describe("validateObject: OpenAPI", () => {
  it("reports a missing required field", () => {
    const schema = withSpec({ a: { type: "string" } }, { required: ["a"] });
    assert.deepEqual(validate(schema, {}), [
      { reason: "FieldValueRequired", field: "spec.a", message: "Required value" },
    ]);
  });

  it("reports a value of the wrong type with its JSON type", () => {
    const schema = withSpec({ priority: { type: "integer" }, flag: { type: "boolean" } });
    assert.deepEqual(validate(schema, { priority: "string", flag: 1.5 }), [
      {
        reason: "FieldValueTypeInvalid",
        field: "spec.priority",
        message: 'Invalid value: "string": spec.priority in body must be of type integer: "string"',
      },
      {
        reason: "FieldValueTypeInvalid",
        field: "spec.flag",
        message: 'Invalid value: "number": spec.flag in body must be of type boolean: "number"',
      },
    ]);
  });

  it("accepts integers where numbers are asked, not fractions where integers are", () => {
    const schema = withSpec({ ratio: { type: "number" }, count: { type: "integer" } });
    assert.deepEqual(validate(schema, { ratio: 2, count: 2 }), []);
    assert.equal(validate(schema, { count: 2.5 })[0]!.reason, "FieldValueTypeInvalid");
  });

  it("lists the supported values of an enum", () => {
    const schema = withSpec({ announce: { type: "string", enum: ["Auto", "Local", "Routed"] } });
    assert.deepEqual(validate(schema, { announce: "BGP" })[0], {
      reason: "FieldValueNotSupported",
      field: "spec.announce",
      message: 'Unsupported value: "BGP": supported values: "Auto", "Local", "Routed"',
    });
  });

  it("checks numeric bounds, inclusive and exclusive", () => {
    const schema = withSpec({
      asn: { type: "integer", minimum: 1, maximum: 4294967295 },
      ratio: {
        type: "number",
        minimum: 0,
        exclusiveMinimum: true,
        maximum: 1,
        exclusiveMaximum: true,
      },
      step: { type: "integer", multipleOf: 5 },
    });
    assert.deepEqual(validate(schema, { asn: 0 }), [
      {
        reason: "FieldValueInvalid",
        field: "spec.asn",
        message: "Invalid value: 0: spec.asn in body should be greater than or equal to 1",
      },
    ]);
    assert.equal(
      validate(schema, { asn: 4294967296 })[0]!.message,
      "Invalid value: 4294967296: spec.asn in body should be less than or equal to 4294967295",
    );
    assert.equal(
      validate(schema, { ratio: 0 })[0]!.message,
      "Invalid value: 0: spec.ratio in body should be greater than 0",
    );
    assert.equal(
      validate(schema, { ratio: 1 })[0]!.message,
      "Invalid value: 1: spec.ratio in body should be less than 1",
    );
    assert.equal(
      validate(schema, { step: 7 })[0]!.message,
      "Invalid value: 7: spec.step in body should be a multiple of 5",
    );
    assert.deepEqual(validate(schema, { asn: 4294967295, ratio: 0.5, step: 10 }), []);
  });

  it("checks string length, pattern and format", () => {
    const schema = withSpec({
      name: { type: "string", minLength: 2, maxLength: 4, pattern: "^[a-z]+$" },
      when: { type: "string", format: "date-time" },
    });
    assert.deepEqual(validate(schema, { name: "abcdef" }), [
      {
        reason: "FieldValueTooLong",
        field: "spec.name",
        message: "Too long: may not be more than 4 bytes",
      },
    ]);
    assert.deepEqual(validate(schema, { name: "A" }), [
      {
        reason: "FieldValueInvalid",
        field: "spec.name",
        message: 'Invalid value: "A": spec.name in body should be at least 2 chars long',
      },
      {
        reason: "FieldValueInvalid",
        field: "spec.name",
        message: "Invalid value: \"A\": spec.name in body should match '^[a-z]+$'",
      },
    ]);
    assert.equal(
      validate(schema, { when: "yesterday" })[0]!.message,
      'Invalid value: "yesterday": spec.when in body must be of type date-time: "yesterday"',
    );
    assert.deepEqual(validate(schema, { name: "abc", when: "2024-05-01T10:00:00Z" }), []);
  });

  it("checks list sizes and the uniqueness of sets and map lists", () => {
    const schema = withSpec({
      tags: {
        type: "array",
        items: { type: "string" },
        minItems: 1,
        maxItems: 3,
        "x-kubernetes-list-type": "set",
      },
      ports: {
        type: "array",
        items: {
          type: "object",
          properties: { name: { type: "string" }, port: { type: "integer" } },
          required: ["name"],
        },
        "x-kubernetes-list-type": "map",
        "x-kubernetes-list-map-keys": ["name"],
      },
    });
    assert.deepEqual(validate(schema, { tags: [] }), [
      {
        reason: "FieldValueInvalid",
        field: "spec.tags",
        message: "Invalid value: 0: spec.tags in body should have at least 1 items",
      },
    ]);
    assert.deepEqual(validate(schema, { tags: ["a", "b", "c", "d"] })[0], {
      reason: "FieldValueTooMany",
      field: "spec.tags",
      message: "Too many: 4: must have at most 3 items",
    });
    assert.deepEqual(validate(schema, { tags: ["a", "b", "a"] }), [
      { reason: "FieldValueDuplicate", field: "spec.tags[2]", message: 'Duplicate value: "a"' },
    ]);
    assert.deepEqual(
      validate(schema, {
        ports: [
          { name: "http", port: 80 },
          { name: "http", port: 8080 },
        ],
      }),
      [
        {
          reason: "FieldValueDuplicate",
          field: "spec.ports[1]",
          message: 'Duplicate value: {"name":"http"}',
        },
      ],
    );
  });

  it("validates map values and int-or-string", () => {
    const schema = withSpec({
      limits: {
        type: "object",
        additionalProperties: { type: "integer", minimum: 0 },
        maxProperties: 2,
      },
      port: { "x-kubernetes-int-or-string": true },
    });
    assert.deepEqual(validate(schema, { limits: { cpu: 1 }, port: "http" }), []);
    assert.deepEqual(validate(schema, { port: 80 }), []);
    assert.equal(
      validate(schema, { limits: { cpu: -1 } })[0]!.message,
      "Invalid value: -1: spec.limits.cpu in body should be greater than or equal to 0",
    );
    assert.equal(
      validate(schema, { limits: { a: 1, b: 2, c: 3 } })[0]!.reason,
      "FieldValueTooMany",
    );
    assert.equal(validate(schema, { port: true })[0]!.reason, "FieldValueTypeInvalid");
  });

  it("accepts null only where nullable", () => {
    const schema = compile({
      type: "object",
      properties: { list: { type: "array", items: { type: "string", nullable: true } } },
    });
    assert.deepEqual(validateObject(schema, { list: ["a", null] }), []);
    const strict = compile({
      type: "object",
      properties: { list: { type: "array", items: { type: "string" } } },
    });
    assert.equal(validateObject(strict, { list: [null] })[0]!.reason, "FieldValueTypeInvalid");
  });

  it("applies anyOf, oneOf, allOf and not", () => {
    const schema = withSpec({
      either: {
        anyOf: [{ type: "integer" }, { type: "string", pattern: "^[0-9]+%$" }],
        "x-kubernetes-int-or-string": true,
      },
      small: { type: "integer", allOf: [{ minimum: 0 }, { maximum: 10 }], not: { enum: [5] } },
    });
    assert.deepEqual(validate(schema, { either: "50%", small: 3 }), []);
    assert.match(
      validate(schema, { either: "half" })[0]!.message,
      /must validate at least one schema \(anyOf\)/,
    );
    assert.match(validate(schema, { small: 11 })[0]!.message, /less than or equal to 10/);
    assert.match(
      validate(schema, { small: 5 })[0]!.message,
      /must not validate the schema \(not\)/,
    );
  });
});

/** What the API server adds when schema errors kept the CEL rules from running. */
const blocked = {
  reason: "FieldValueInvalid",
  field: "",
  message:
    "Invalid value: null: some validation rules were not checked because the object was invalid; correct the existing errors to complete validation",
};

describe("validateObject: CEL rules", () => {
  it("says the rules were not run when the shape is wrong, only where there are rules", () => {
    const required = { a: { type: "string" } };
    const plain = withSpec(required, { required: ["a"] });
    const ruled = withSpec(required, {
      required: ["a"],
      "x-kubernetes-validations": [{ rule: "self.a != ''" }],
    });
    const missing = { reason: "FieldValueRequired", field: "spec.a", message: "Required value" };
    assert.deepEqual(validate(plain, {}), [missing]);
    assert.deepEqual(validate(ruled, {}), [missing, blocked]);
  });

  it("reports a failed rule on a scalar with its value and message", () => {
    const schema = withSpec({
      range: {
        type: "string",
        "x-kubernetes-validations": [
          { rule: "self.split('-').size() == 2", message: "addresses must be a range a-b" },
        ],
      },
    });
    assert.deepEqual(validate(schema, { range: "10.0.0.9-10.0.0.1" }), []);
    assert.deepEqual(validate(schema, { range: "10.0.0.9" }), [
      {
        reason: "FieldValueInvalid",
        field: "spec.range",
        message: 'Invalid value: "10.0.0.9": addresses must be a range a-b',
      },
    ]);
  });

  it("leaves an object's value out and names the rule when it has no message", () => {
    const schema = withSpec(
      { low: { type: "integer" }, high: { type: "integer" } },
      { "x-kubernetes-validations": [{ rule: "self.low <= self.high" }] },
    );
    assert.deepEqual(validate(schema, { low: 5, high: 1 }), [
      {
        reason: "FieldValueInvalid",
        field: "spec",
        message: "Invalid value: failed rule: self.low <= self.high",
      },
    ]);
  });

  it("uses messageExpression, fieldPath and reason", () => {
    const schema = withSpec(
      { low: { type: "integer" }, high: { type: "integer" } },
      {
        "x-kubernetes-validations": [
          {
            rule: "self.low <= self.high",
            messageExpression: "'low ' + string(self.low) + ' is above high ' + string(self.high)",
            fieldPath: ".low",
          },
          {
            rule: "self.high < 100",
            message: "high is capped",
            reason: "FieldValueForbidden",
            fieldPath: ".high",
          },
          {
            rule: "has(self.low)",
            message: "low is needed",
            reason: "FieldValueRequired",
            fieldPath: ".low",
          },
        ],
      },
    );
    assert.deepEqual(validate(schema, { low: 500, high: 100 }), [
      {
        reason: "FieldValueInvalid",
        field: "spec.low",
        message: "Invalid value: low 500 is above high 100",
      },
      { reason: "FieldValueForbidden", field: "spec.high", message: "Forbidden: high is capped" },
    ]);
    assert.deepEqual(validate(schema, { high: 1 }), [
      {
        reason: "FieldValueInvalid",
        field: "spec",
        message: 'Invalid value: "object": No such key: low evaluating rule: self.low <= self.high',
      },
      { reason: "FieldValueRequired", field: "spec.low", message: "Required value: low is needed" },
    ]);
  });

  it("turns an evaluation error into a cause, never an exception", () => {
    const schema = withSpec({
      address: {
        type: "string",
        "x-kubernetes-validations": [{ rule: "ip(self).family() == 4", message: "must be IPv4" }],
      },
    });
    const causes = validate(schema, { address: "not-an-ip" });
    assert.equal(causes.length, 1);
    assert.equal(causes[0]!.reason, "FieldValueInvalid");
    assert.equal(causes[0]!.field, "spec.address");
    assert.match(
      causes[0]!.message,
      /^Invalid value: "string": .*not-an-ip.* evaluating rule: must be IPv4$/,
    );
  });

  it("runs transition rules only on update, with oldSelf bound to the stored value", () => {
    const schema = withSpec({
      name: {
        type: "string",
        "x-kubernetes-validations": [{ rule: "self == oldSelf", message: "name is immutable" }],
      },
      size: {
        type: "integer",
        "x-kubernetes-validations": [{ rule: "self >= oldSelf", message: "size may only grow" }],
      },
    });
    assert.deepEqual(validate(schema, { name: "a", size: 1 }), []);
    assert.deepEqual(validate(schema, { name: "a", size: 2 }, { name: "a", size: 1 }), []);
    assert.deepEqual(validate(schema, { name: "b", size: 1 }, { name: "a", size: 2 }), [
      {
        reason: "FieldValueInvalid",
        field: "spec.name",
        message: 'Invalid value: "b": name is immutable',
      },
      {
        reason: "FieldValueInvalid",
        field: "spec.size",
        message: "Invalid value: 1: size may only grow",
      },
    ]);
    // A field that did not exist before has no old value, so its transition rule is skipped.
    assert.deepEqual(validate(schema, { name: "b" }, {}), []);
  });

  it("correlates map-list items with their old selves by key", () => {
    const schema = withSpec({
      ports: {
        type: "array",
        "x-kubernetes-list-type": "map",
        "x-kubernetes-list-map-keys": ["name"],
        items: {
          type: "object",
          required: ["name"],
          properties: { name: { type: "string" }, port: { type: "integer" } },
          "x-kubernetes-validations": [
            { rule: "self.port == oldSelf.port", message: "port is fixed" },
          ],
        },
      },
    });
    const old = {
      ports: [
        { name: "a", port: 1 },
        { name: "b", port: 2 },
      ],
    };
    assert.deepEqual(
      validate(
        schema,
        {
          ports: [
            { name: "b", port: 2 },
            { name: "a", port: 1 },
          ],
        },
        old,
      ),
      [],
    );
    assert.deepEqual(
      validate(
        schema,
        {
          ports: [
            { name: "b", port: 3 },
            { name: "c", port: 9 },
          ],
        },
        old,
      ),
      [
        {
          reason: "FieldValueInvalid",
          field: "spec.ports[0]",
          message: "Invalid value: port is fixed",
        },
      ],
    );
  });

  it("gives rules ints for integers and doubles for numbers", () => {
    const schema = withSpec({
      count: { type: "integer", "x-kubernetes-validations": [{ rule: "self + 1 == 3" }] },
      ratio: { type: "number", "x-kubernetes-validations": [{ rule: "self + 0.5 == 2.5" }] },
    });
    assert.deepEqual(validate(schema, { count: 2, ratio: 2 }), []);
  });

  it("evaluates the ip and cidr functions of Kubernetes", () => {
    const rules = [
      "isIP(self.ip) && ip(self.ip).family() == 6 && string(ip(self.ip)) == '2001:db8::1'",
      "isCIDR(self.net) && cidr(self.net).prefixLength() == 24",
      "cidr(self.net).containsIP(self.inside) && !cidr(self.net).containsIP('10.0.1.1')",
      "cidr(self.net).containsIP(ip(self.inside)) && cidr(self.net).containsCIDR('10.0.0.128/25')",
      "cidr(self.net).ip() == ip('10.0.0.0') && cidr(self.net).masked() == cidr(self.net)",
      "string(cidr('10.0.0.7/24').masked()) == '10.0.0.0/24' && cidr('10.0.0.7/24').ip() != cidr('10.0.0.7/24').masked().ip()",
      "!isIP('::ffff:10.0.0.1') && !isIP('010.0.0.1') && !isIP('fe80::1%eth0') && !isCIDR('10.0.0.0/33')",
      "ip.isCanonical('2001:db8::1') && !ip.isCanonical('2001:DB8::1')",
      "ip('127.0.0.1').isLoopback() && ip('::').isUnspecified() && ip('fe80::1').isLinkLocalUnicast()",
      "ip('224.0.0.1').isLinkLocalMulticast() && ip('8.8.8.8').isGlobalUnicast() && !ip('169.254.0.1').isGlobalUnicast()",
    ];
    const schema = withSpec(
      { ip: { type: "string" }, net: { type: "string" }, inside: { type: "string" } },
      { "x-kubernetes-validations": rules.map((rule) => ({ rule })) },
    );
    assert.deepEqual(
      validate(schema, { ip: "2001:DB8:0::1", net: "10.0.0.0/24", inside: "10.0.0.77" }),
      [],
    );
    const failed = validate(schema, {
      ip: "2001:DB8:0::2",
      net: "10.0.0.0/24",
      inside: "10.0.2.1",
    });
    assert.deepEqual(
      failed.map((cause) => cause.message),
      [
        `Invalid value: failed rule: ${rules[0]}`,
        `Invalid value: failed rule: ${rules[2]}`,
        `Invalid value: failed rule: ${rules[3]}`,
      ],
    );
  });

  it("evaluates the strings, regex and lists libraries", () => {
    const rules = [
      "self.name.charAt(1) == 'b' && self.name.replace('b', 'B') == 'aBc' && self.name.reverse() == 'cba'",
      "self.name.upperAscii() == 'ABC' && self.name.lastIndexOf('c') == 2 && self.name.substring(1, 2) == 'b'",
      "self.text.find('[0-9]+') == '12' && self.text.findAll('[0-9]+') == ['12', '34'] && self.text.matches('^a')",
      "self.numbers.isSorted() && self.numbers.sum() == 6 && self.numbers.max() == 3 && self.numbers.min() == 1",
      "self.numbers.indexOf(2) == 1 && ['a', 'b'].join('-') == 'a-b' && self.name.split('b') == ['a', 'c']",
    ];
    const schema = withSpec(
      {
        name: { type: "string" },
        text: { type: "string" },
        numbers: { type: "array", items: { type: "integer" } },
      },
      { "x-kubernetes-validations": rules.map((rule) => ({ rule })) },
    );
    assert.deepEqual(validate(schema, { name: "abc", text: "ab12cd34", numbers: [1, 2, 3] }), []);
  });

  it("does not run rules on nulls or absent fields", () => {
    const schema = withSpec({
      maybe: {
        type: "string",
        nullable: true,
        "x-kubernetes-validations": [{ rule: "self == 'x'" }],
      },
    });
    assert.deepEqual(validate(schema, { maybe: null }), []);
    assert.deepEqual(validate(schema, {}), []);
    assert.equal(validate(schema, { maybe: "y" }).length, 1);
  });
});
