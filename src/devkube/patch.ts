// The three patch types kubectl and client libraries send. Server-side apply is not
// served (415), as devkube has no managed fields.
import jsonpatch from "fast-json-patch";

export const MERGE_PATCH = "application/merge-patch+json";
export const JSON_PATCH = "application/json-patch+json";
export const STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json";

export class PatchError extends Error {}

/** RFC 7386: objects merge, null deletes, everything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const result: Record<string, unknown> = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

/**
 * Strategic merge patch, as far as kubectl needs it here: a merge patch whose `$`
 * directives (`$setElementOrder/…`, `$retainKeys`, `$patch`) are dropped. Lists are
 * replaced rather than merged by key, which is what kubectl label/annotate/patch of
 * simple fields send.
 */
export function strategicMergePatch(target: unknown, patch: unknown): unknown {
  return mergePatch(target, withoutDirectives(patch));
}

function withoutDirectives(value: unknown): unknown {
  if (Array.isArray(value)) {
    // A list element {"$patch": "delete", key: …} removes that element: it is simply left out.
    return value
      .filter((item) => !(isObject(item) && item.$patch === "delete"))
      .map(withoutDirectives);
  }
  if (!isObject(value)) return value;
  if (value.$patch === "delete") return null;
  const result: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    if (!key.startsWith("$")) result[key] = withoutDirectives(inner);
  }
  return result;
}

/** RFC 6902; a failed operation or `test` throws PatchError. */
export function jsonPatch(target: unknown, patch: unknown): unknown {
  if (!Array.isArray(patch)) throw new PatchError("a JSON patch must be a list of operations");
  try {
    return jsonpatch.applyPatch(structuredClone(target), patch, true, true).newDocument;
  } catch (error) {
    throw new PatchError((error as Error).message.split("\n")[0]);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
