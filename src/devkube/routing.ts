// Which resource an API path names: "/api/v1/namespaces/shop/services/web/status" and
// friends, or the discovery document a client reads on the way there.
import { apiGroup, coreVersions, groupList, resourceList } from "./discovery.ts";
import type { ResourceType } from "./resources.ts";

export interface Route {
  type: ResourceType;
  namespace: string | undefined;
  name: string | undefined;
  subresource: string | undefined;
}

export type Resolution =
  | { kind: "discovery"; document: Record<string, unknown> }
  | { kind: "resource"; route: Route }
  | { kind: "notFound"; message: string };

const NOT_FOUND: Resolution = {
  kind: "notFound",
  message: "the server could not find the requested resource",
};

/** Resolves a path under /api or /apis against the types served now. */
export function resolveApiPath(path: string, types: readonly ResourceType[]): Resolution {
  const segments = path.split("/").filter(Boolean);
  let group: string;
  let version: string;
  let rest: string[];
  if (segments[0] === "api") {
    if (segments.length === 1) return discovery(coreVersions());
    [group, version, rest] = ["", segments[1]!, segments.slice(2)];
  } else if (segments[0] === "apis") {
    if (segments.length === 1) return discovery(groupList(types));
    group = segments[1]!;
    if (segments.length === 2) {
      const document = apiGroup(types, group);
      return document ? discovery(document) : { kind: "notFound", message: "group not found" };
    }
    [version, rest] = [segments[2]!, segments.slice(3)];
  } else {
    return NOT_FOUND;
  }
  const served = types.filter((t) => t.group === group && t.version === version);
  if (served.length === 0) return NOT_FOUND;
  if (rest.length === 0)
    return discovery(resourceList(served, group === "" ? version : `${group}/${version}`));
  const route = routeWithin(served, rest);
  return route ? { kind: "resource", route } : NOT_FOUND;
}

function discovery(document: Record<string, unknown>): Resolution {
  return { kind: "discovery", document };
}

/** "namespaces/ns/services/name/status", "nodes/name" and the like, within one group-version. */
function routeWithin(served: ResourceType[], rest: string[]): Route | undefined {
  const byPlural = (plural: string) => served.find((t) => t.plural === plural);
  if (rest[0] === "namespaces" && rest.length >= 3) {
    const type = byPlural(rest[2]!);
    if (type?.namespaced) {
      if (rest.length > 5) return undefined;
      return { type, namespace: rest[1], name: rest[3], subresource: rest[4] };
    }
  }
  const type = byPlural(rest[0]!);
  if (!type || rest.length > 3) return undefined;
  return { type, namespace: undefined, name: rest[1], subresource: rest[2] };
}
