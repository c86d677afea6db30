// What each kind gets on a write before it is stored, as the API server's registry
// strategies and admission give it: times decoded, Service addresses and status,
// Namespace phase and name label, Pod phase, CRD checks, and custom resources pruned,
// defaulted and validated.
import { isDeepStrictEqual } from "node:util";
import { checkCrd } from "./crds.ts";
import type { ServiceAddresses } from "./defaults.ts";
import type { ResourceType } from "./resources.ts";
import {
  droppedFields,
  pruneAndDefault,
  validateObject,
  type FieldCause,
} from "../schema/schema.ts";
import { failure, invalid } from "./status.ts";
import type { KubeObject } from "./store.ts";

export interface Admission {
  services: ServiceAddresses;
  /** The type CRD validation errors name. */
  crdType: ResourceType;
  /** The request's fieldValidation: Strict refuses fields a schema does not declare. */
  fieldValidation: string;
  /** A write through the /status subresource. */
  statusWrite?: boolean;
}

/** Defaults and validates `object` in place (`old` on update); throws a StatusError if invalid. */
export function admit(
  type: ResourceType,
  object: KubeObject,
  old: KubeObject | undefined,
  admission: Admission,
): void {
  decodeTimes(type, object);
  if (type.kind === "Service" && type.group === "") {
    const problem = admission.services.default(object, old);
    if (problem)
      throw invalid(type, object.metadata.name, [
        { reason: "FieldValueInvalid", field: "spec.clusterIP", message: problem },
      ]);
    const status = serviceStatus(object);
    // As kube-apiserver's Service strategy: a Service that stops being a LoadBalancer
    // loses its load-balancer status in the same write, before any controller acts.
    const wasLoadBalancer = (old?.spec as { type?: string } | undefined)?.type === "LoadBalancer";
    const isLoadBalancer = (object.spec as { type?: string }).type === "LoadBalancer";
    if (wasLoadBalancer && !isLoadBalancer) status.loadBalancer = {};
    // And its validation: only a LoadBalancer has load-balancer addresses.
    if (!isLoadBalancer && (status.loadBalancer.ingress?.length ?? 0) > 0)
      throw invalid(type, object.metadata.name, [
        {
          reason: "FieldValueForbidden",
          field: "status.loadBalancer.ingress",
          message: "Forbidden: may only be used when `spec.type` is 'LoadBalancer'",
        },
      ]);
  } else if (type.kind === "Namespace" && type.group === "") {
    object.status = { phase: object.metadata.deletionTimestamp ? "Terminating" : "Active" };
    object.metadata.labels = {
      ...object.metadata.labels,
      "kubernetes.io/metadata.name": object.metadata.name,
    };
  } else if (type.kind === "Pod" && type.group === "" && !old) {
    object.status ??= { phase: "Pending" };
  } else if (type.kind === "Secret" && type.group === "") {
    object.type ??= "Opaque";
    // stringData is write-only: the API server folds it into data.
    const stringData = object.stringData as Record<string, string> | undefined;
    if (stringData) {
      const data = { ...((object.data as Record<string, string> | undefined) ?? {}) };
      for (const [key, value] of Object.entries(stringData))
        data[key] = Buffer.from(value).toString("base64");
      object.data = data;
      delete object.stringData;
    }
  } else if (type.kind === "CustomResourceDefinition") {
    checkCrd(object, admission.crdType);
  } else if (type.schema) {
    admitCustom(type, object, old, admission.fieldValidation, admission.statusWrite ?? false);
  }
}

type Holder = Record<string, unknown>;

interface ServiceStatus {
  loadBalancer: { ingress?: Holder[] };
  conditions?: unknown[];
}

/**
 * A Service's status as kube-apiserver stores it: always there with its loadBalancer (Go
 * structs, so a JSON patch can always add to /status/loadBalancer), empty lists left out,
 * and each address given the ipMode it defaults to.
 */
function serviceStatus(service: KubeObject): ServiceStatus {
  const status = (service.status ??= {}) as Partial<ServiceStatus>;
  const loadBalancer = (status.loadBalancer ??= {});
  for (const ingress of loadBalancer.ingress ?? []) {
    if (ingress.ip && ingress.ipMode === undefined) ingress.ipMode = "VIP";
    if (Array.isArray(ingress.ports) && ingress.ports.length === 0) delete ingress.ports;
  }
  if (loadBalancer.ingress?.length === 0) delete loadBalancer.ingress;
  if (status.conditions?.length === 0) delete status.conditions;
  return status as ServiceStatus;
}

/** How kube-apiserver reads and writes back metav1.Time and metav1.MicroTime. */
const TIME_CODECS = {
  // RFC 3339, any fraction accepted and dropped: stored to the second.
  time: {
    layout: "2006-01-02T15:04:05Z07:00",
    pattern: /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.\d+)?(Z|[+-]\d{2}:\d{2})$/,
    fraction: (_match: RegExpExecArray) => "",
  },
  // Go's RFC3339Micro: exactly six fractional digits (a JavaScript Date's three are refused).
  microTime: {
    layout: "2006-01-02T15:04:05.000000Z07:00",
    pattern: /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\.(\d{6})(Z|[+-]\d{2}:\d{2})$/,
    fraction: (match: RegExpExecArray) => `.${match[2]}`,
  },
};

/**
 * Time and MicroTime fields as kube-apiserver decodes them: one it cannot parse is a 400,
 * and what is stored is in UTC, to the second or the microsecond.
 */
function decodeTimes(type: ResourceType, object: KubeObject): void {
  const fields = [
    ...(type.timeFields ?? []).map((path) => ({ path, codec: TIME_CODECS.time })),
    ...(type.microTimeFields ?? []).map((path) => ({ path, codec: TIME_CODECS.microTime })),
  ];
  for (const { path, codec } of fields) {
    const steps = path.split(".");
    const name = steps.pop()!;
    for (const holder of holdersAt(object, steps)) {
      const value = holder[name];
      if (value === undefined || value === null) continue;
      const match = typeof value === "string" ? codec.pattern.exec(value) : null;
      const ms = match ? Date.parse(`${match[1]}${match.at(-1)}`) : NaN;
      if (!match || Number.isNaN(ms))
        throw failure(
          400,
          `${type.kind} in version "${type.version}" cannot be handled as a ${type.kind}: parsing time ${JSON.stringify(value)} as "${codec.layout}"`,
        );
      holder[name] = `${new Date(ms).toISOString().slice(0, 19)}${codec.fraction(match)}Z`;
    }
  }
}

/** The objects a path of field names leads to; "conditions[]" steps into each item. */
function holdersAt(value: unknown, steps: string[]): Holder[] {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return [];
  const holder = value as Holder;
  const [step, ...rest] = steps;
  if (step === undefined) return [holder];
  if (!step.endsWith("[]")) return holdersAt(holder[step], rest);
  const items = holder[step.slice(0, -2)];
  return Array.isArray(items) ? items.flatMap((item) => holdersAt(item, rest)) : [];
}

/** Prunes, defaults and validates a custom resource against its version's schema. */
function admitCustom(
  type: ResourceType,
  object: KubeObject,
  old: KubeObject | undefined,
  fieldValidation: string,
  statusWrite: boolean,
): void {
  const pruned = pruneAndDefault(type.schema!, object) as KubeObject;
  const unknown = droppedFields(object, pruned);
  if (unknown.length > 0 && fieldValidation === "Strict") {
    throw failure(
      400,
      `${type.kind} in version "${type.version}" cannot be handled as a ${type.kind}: strict decoding error: ${unknown.map((f) => `unknown field "${f}"`).join(", ")}`,
    );
  }
  // Validation ratcheting (Kubernetes 1.30+): on update, a field that did not change may
  // stay invalid, so that an object stored before a rule existed can still be written —
  // its status above all.
  // A missing required field is the error of the object that lacks it: that object must
  // be unchanged for it to ratchet.
  const ownerOf = (cause: FieldCause) =>
    cause.reason === "FieldValueRequired" ? parentPath(cause.field) : cause.field;
  const causes = validateObject(type.schema!, pruned, old, { statusWrite }).filter(
    (cause) =>
      !old || !isDeepStrictEqual(valueAt(pruned, ownerOf(cause)), valueAt(old, ownerOf(cause))),
  );
  if (causes.length > 0) throw invalid(type, object.metadata.name, causes);
  for (const key of Object.keys(object)) delete object[key];
  Object.assign(object, pruned);
}

/** The value at a field path such as "spec.addresses[1]"; the whole object for "". */
function valueAt(object: unknown, path: string): unknown {
  let current = object;
  for (const step of path.match(/[^.[\]]+/g) ?? []) {
    if (typeof current !== "object" || current === null) return undefined;
    current = (current as Record<string, unknown>)[step];
  }
  return current;
}

/** "status.detector.dead" -> "status.detector"; "items[2]" -> "items"; "spec" -> "". */
function parentPath(field: string): string {
  const cut = Math.max(field.lastIndexOf("."), field.lastIndexOf("["));
  return cut < 0 ? "" : field.slice(0, cut);
}
