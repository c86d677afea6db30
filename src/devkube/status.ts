// Kubernetes-shaped failures (metav1.Status), so that client libraries and kubectl read
// them as they read a real API server's.
import type { FieldCause } from "../schema/schema.ts";
import type { ResourceType } from "./resources.ts";

export interface StatusError {
  readonly code: number;
  readonly body: Record<string, unknown>;
}

const REASONS: Record<number, string> = {
  400: "BadRequest",
  404: "NotFound",
  405: "MethodNotAllowed",
  406: "NotAcceptable",
  409: "Conflict",
  410: "Expired",
  415: "UnsupportedMediaType",
  422: "Invalid",
  429: "TooManyRequests",
  500: "InternalError",
};

export function failure(
  code: number,
  message: string,
  details?: { name?: string; group?: string; kind?: string; causes?: FieldCause[] },
  reason = REASONS[code] ?? "Unknown",
): StatusError {
  return {
    code,
    body: {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message,
      reason,
      ...(details ? { details: withoutEmptyGroup(details) } : {}),
      code,
    },
  };
}

/** The core group is "", which Go's omitempty leaves out of the details. */
function withoutEmptyGroup<T extends { group?: string }>(details: T): T | Omit<T, "group"> {
  if (details.group !== "") return details;
  const { group: _group, ...rest } = details;
  return rest;
}

function qualified(type: ResourceType): string {
  return type.group === "" ? type.plural : `${type.plural}.${type.group}`;
}

export const notFound = (type: ResourceType, name: string) =>
  failure(404, `${qualified(type)} "${name}" not found`, {
    name,
    group: type.group,
    kind: type.plural,
  });

export const alreadyExists = (type: ResourceType, name: string) =>
  failure(
    409,
    `${qualified(type)} "${name}" already exists`,
    { name, group: type.group, kind: type.plural },
    "AlreadyExists",
  );

export const conflict = (type: ResourceType, name: string) =>
  failure(
    409,
    `Operation cannot be fulfilled on ${qualified(type)} "${name}": the object has been modified; please apply your changes to the latest version and try again`,
    { name, group: type.group, kind: type.plural },
  );

/** 422 for a PUT without a resourceVersion, of a kind that allows no unconditional update. */
export const versionRequired = (type: ResourceType, name: string) => {
  const cause: FieldCause = {
    reason: "FieldValueInvalid",
    field: "metadata.resourceVersion",
    message: "Invalid value: 0: must be specified for an update",
  };
  return failure(422, `${qualified(type)} "${name}" is invalid: ${cause.field}: ${cause.message}`, {
    name,
    group: type.group,
    kind: type.plural,
    causes: [cause],
  });
};

/** 422 with one cause per field, worded as kubectl prints them. */
export function invalid(type: ResourceType, name: string, causes: FieldCause[]): StatusError {
  const kind = type.group === "" ? type.kind : `${type.kind}.${type.group}`;
  // A cause about the whole object has no field; Go's field.Path prints that as "<nil>".
  const wire = causes.map((cause) => ({ ...cause, field: cause.field || "<nil>" }));
  const list = wire.map((cause) => `${cause.field}: ${cause.message}`);
  const joined = list.length === 1 ? list[0] : `[${list.join(", ")}]`;
  return failure(422, `${kind} "${name}" is invalid: ${joined}`, {
    name,
    group: type.group,
    kind: type.kind,
    causes: wire,
  });
}

export const gone = (message: string) => failure(410, message, undefined, "Expired");
