// Kubernetes protobuf request bodies, turned into the JSON objects the rest of devkube
// handles. kubectl's generators (`kubectl create namespace|service|configmap|secret …`)
// send typed objects this way and do not fall back to JSON when refused.
//
// A body is the magic "k8s\0" and a runtime.Unknown: {1 typeMeta {1 apiVersion, 2 kind},
// 2 raw (the object's own message), 3 contentEncoding, 4 contentType}. Field numbers are
// those of k8s.io/api/core/v1 and k8s.io/apimachinery (meta/v1, util/intstr, runtime)
// generated.proto, where they never change.
import {
  LENGTH_DELIMITED,
  ProtobufError,
  readFields,
  VARINT,
  type WireField,
} from "./protowire.ts";
import { rfc3339 } from "../api/meta.ts";

export const PROTOBUF = "application/vnd.kubernetes.protobuf";

type Scalar = "string" | "int32" | "int64" | "bool" | "bytes";
type FieldType = Scalar | "time" | "intOrString" | Message;

interface Field {
  name: string;
  type: FieldType;
  shape: "single" | "repeated" | "map";
  /**
   * Go's JSON leaves out a zero string, number or bool unless the field is a pointer (or
   * lacks omitempty); the generated protobuf code writes them all. Defaulting relies on
   * absent fields, so only these keep their zero.
   */
  keepZero: boolean;
}

interface Message {
  readonly fields: Readonly<Record<number, Field>>;
}

const one = (name: string, type: FieldType): Field => ({
  name,
  type,
  shape: "single",
  keepZero: false,
});
/** A pointer field (*string, *bool, *int32 …) or one without omitempty: zero is a value. */
const set = (name: string, type: FieldType): Field => ({ ...one(name, type), keepZero: true });
const many = (name: string, type: FieldType): Field => ({ ...one(name, type), shape: "repeated" });
/** map<string, string|bytes>: repeated entry messages {1 key, 2 value}. */
const map = (name: string, type: "string" | "bytes"): Field => ({
  ...one(name, type),
  shape: "map",
});

// k8s.io/apimachinery/pkg/apis/meta/v1
const OWNER_REFERENCE: Message = {
  fields: {
    1: one("kind", "string"),
    3: one("name", "string"),
    4: one("uid", "string"),
    5: one("apiVersion", "string"),
    6: set("controller", "bool"),
    7: set("blockOwnerDeletion", "bool"),
  },
};
const OBJECT_META: Message = {
  fields: {
    1: one("name", "string"),
    2: one("generateName", "string"),
    3: one("namespace", "string"),
    5: one("uid", "string"),
    6: one("resourceVersion", "string"),
    7: one("generation", "int64"),
    8: one("creationTimestamp", "time"),
    9: one("deletionTimestamp", "time"),
    10: set("deletionGracePeriodSeconds", "int64"),
    11: map("labels", "string"),
    12: map("annotations", "string"),
    13: many("ownerReferences", OWNER_REFERENCE),
    14: many("finalizers", "string"),
  },
};

// k8s.io/api/core/v1
const NAMESPACE: Message = {
  fields: {
    1: one("metadata", OBJECT_META),
    2: one("spec", { fields: { 1: many("finalizers", "string") } }),
  },
};
const SERVICE_PORT: Message = {
  fields: {
    1: one("name", "string"),
    2: one("protocol", "string"),
    3: set("port", "int32"),
    4: one("targetPort", "intOrString"),
    5: one("nodePort", "int32"),
    6: set("appProtocol", "string"),
  },
};
const SESSION_AFFINITY_CONFIG: Message = {
  fields: { 1: one("clientIP", { fields: { 1: set("timeoutSeconds", "int32") } }) },
};
const SERVICE_SPEC: Message = {
  fields: {
    1: many("ports", SERVICE_PORT),
    2: map("selector", "string"),
    3: one("clusterIP", "string"),
    4: one("type", "string"),
    5: many("externalIPs", "string"),
    7: one("sessionAffinity", "string"),
    8: one("loadBalancerIP", "string"),
    9: many("loadBalancerSourceRanges", "string"),
    10: one("externalName", "string"),
    11: one("externalTrafficPolicy", "string"),
    12: one("healthCheckNodePort", "int32"),
    13: one("publishNotReadyAddresses", "bool"),
    14: one("sessionAffinityConfig", SESSION_AFFINITY_CONFIG),
    17: set("ipFamilyPolicy", "string"),
    18: many("clusterIPs", "string"),
    19: many("ipFamilies", "string"),
    20: set("allocateLoadBalancerNodePorts", "bool"),
    21: set("loadBalancerClass", "string"),
    22: set("internalTrafficPolicy", "string"),
    23: set("trafficDistribution", "string"),
  },
};
const SERVICE: Message = {
  fields: { 1: one("metadata", OBJECT_META), 2: one("spec", SERVICE_SPEC) },
};
const CONFIG_MAP: Message = {
  fields: {
    1: one("metadata", OBJECT_META),
    2: map("data", "string"),
    3: map("binaryData", "bytes"),
    4: set("immutable", "bool"),
  },
};
const SECRET: Message = {
  fields: {
    1: one("metadata", OBJECT_META),
    2: map("data", "bytes"),
    3: one("type", "string"),
    4: map("stringData", "string"),
    5: set("immutable", "bool"),
  },
};

/** The kinds read from protobuf, by "apiVersion/kind"; status is the server's and is skipped. */
const KINDS: Readonly<Record<string, Message>> = {
  "v1/Namespace": NAMESPACE,
  "v1/Service": SERVICE,
  "v1/ConfigMap": CONFIG_MAP,
  "v1/Secret": SECRET,
};

export const PROTOBUF_KINDS = Object.keys(KINDS).map((key) => key.split("/")[1]!);

const MAGIC = [0x6b, 0x38, 0x73, 0x00]; // "k8s\0"
const EMPTY = new Uint8Array(0);
const TYPE_META: Message = {
  fields: { 1: one("apiVersion", "string"), 2: one("kind", "string") },
};
const TIME: Message = { fields: { 1: one("seconds", "int64"), 2: one("nanos", "int32") } };
const INT_OR_STRING: Message = {
  fields: { 1: one("type", "int64"), 2: one("intVal", "int32"), 3: one("strVal", "string") },
};

/** The object a protobuf body holds, as JSON would have it, or why it cannot be read. */
export function decodeKubeProtobuf(
  body: Uint8Array,
): { object: Record<string, unknown> } | { problem: string } {
  if (body.length < MAGIC.length || MAGIC.some((byte, i) => body[i] !== byte))
    return { problem: 'the protobuf body does not start with "k8s\\0"' };
  try {
    // runtime.Unknown
    const envelope = readFields(body.subarray(MAGIC.length));
    const part = (number: number) =>
      envelope.findLast((f) => f.number === number && f.wireType === LENGTH_DELIMITED)?.bytes;
    const { apiVersion = "", kind = "" } = decodeMessage(part(1) ?? EMPTY, TYPE_META) as {
      apiVersion?: string;
      kind?: string;
    };
    const contentEncoding = text(part(3) ?? EMPTY);
    if (contentEncoding !== "")
      return { problem: `the protobuf body is ${contentEncoding}-encoded` };
    const message = KINDS[`${apiVersion}/${kind}`];
    if (!message) return { problem: `${apiVersion} ${kind} is not one of them` };
    return { object: { apiVersion, kind, ...decodeMessage(part(2) ?? EMPTY, message) } };
  } catch (error) {
    if (error instanceof ProtobufError)
      return { problem: `the protobuf body is malformed: ${error.message}` };
    throw error;
  }
}

function decodeMessage(bytes: Uint8Array, message: Message): Record<string, unknown> {
  const object: Record<string, unknown> = {};
  for (const wire of readFields(bytes)) {
    const field = message.fields[wire.number];
    // Fields devkube does not know (status, managedFields, newer ones) are skipped.
    if (!field) continue;
    if (field.shape === "map") {
      const entry = readFields(expect(wire, LENGTH_DELIMITED, field).bytes);
      const key = entry.findLast((f) => f.number === 1);
      const value = entry.findLast((f) => f.number === 2);
      const entries = (object[field.name] ??= {}) as Record<string, unknown>;
      entries[key ? text(expect(key, LENGTH_DELIMITED, field).bytes) : ""] = value
        ? decodeValue(value, field.type, field)
        : "";
      continue;
    }
    const value = decodeValue(wire, field.type, field);
    if (field.shape === "repeated") {
      ((object[field.name] ??= []) as unknown[]).push(value);
    } else if (value === undefined || (!field.keepZero && isZero(value))) {
      delete object[field.name];
    } else {
      object[field.name] = value;
    }
  }
  return object;
}

function decodeValue(wire: WireField, type: FieldType, field: Field): unknown {
  if (typeof type === "object")
    return decodeMessage(expect(wire, LENGTH_DELIMITED, field).bytes, type);
  switch (type) {
    case "string":
      return text(expect(wire, LENGTH_DELIMITED, field).bytes);
    case "bytes":
      return buffer(expect(wire, LENGTH_DELIMITED, field).bytes).toString("base64");
    case "bool":
      return expect(wire, VARINT, field).varint !== 0n;
    case "int32":
      return Number(BigInt.asIntN(32, expect(wire, VARINT, field).varint));
    case "int64":
      return Number(BigInt.asIntN(64, expect(wire, VARINT, field).varint));
    case "time":
      return decodeTime(expect(wire, LENGTH_DELIMITED, field).bytes);
    case "intOrString":
      return decodeIntOrString(expect(wire, LENGTH_DELIMITED, field).bytes);
  }
}

/** meta/v1 Time: {1 seconds, 2 nanos}; the zero time is written as an empty message. */
function decodeTime(bytes: Uint8Array): string | undefined {
  if (bytes.length === 0) return undefined;
  const { seconds } = decodeMessage(bytes, TIME) as { seconds?: number };
  return rfc3339((seconds ?? 0) * 1000);
}

/**
 * util/intstr IntOrString: {1 type (0 int, 1 string), 2 intVal, 3 strVal}. Zero (0 or "")
 * is left out, which is what the API server makes of it: a targetPort defaults to the port.
 */
function decodeIntOrString(bytes: Uint8Array): number | string | undefined {
  const { type, intVal, strVal } = decodeMessage(bytes, INT_OR_STRING) as {
    type?: number;
    intVal?: number;
    strVal?: string;
  };
  return (type === 1 ? strVal : intVal) || undefined;
}
function expect(wire: WireField, wireType: number, field: Field): WireField {
  if (wire.wireType !== wireType)
    throw new ProtobufError(`${field.name} has wire type ${wire.wireType}, not ${wireType}`);
  return wire;
}

function isZero(value: unknown): boolean {
  return value === "" || value === 0 || value === false;
}

function text(bytes: Uint8Array): string {
  return buffer(bytes).toString("utf8");
}

function buffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
}
