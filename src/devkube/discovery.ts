// Discovery documents: what `kubectl api-resources` and client libraries read to learn
// which resources exist. devkube answers the legacy (non-aggregated) form, which every
// client falls back to.
import type { ResourceType } from "./resources.ts";

export const SERVER_VERSION = {
  major: "1",
  minor: "32",
  gitVersion: "v1.32.0-devkube",
  gitCommit: "devkube",
  gitTreeState: "clean",
  buildDate: "2026-01-01T00:00:00Z",
  goVersion: "none",
  compiler: "none",
  platform: "linux/amd64",
};

const VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

export function coreVersions(): Record<string, unknown> {
  return { kind: "APIVersions", versions: ["v1"], serverAddressByClientCIDRs: [] };
}

function groupDocument(group: string, versions: string[]): Record<string, unknown> {
  const list = versions.map((version) => ({ groupVersion: `${group}/${version}`, version }));
  return { name: group, versions: list, preferredVersion: list[0] };
}

/** Groups and their versions, from the resources served now (CRDs included). */
export function groupList(types: Iterable<ResourceType>): Record<string, unknown> {
  return {
    kind: "APIGroupList",
    apiVersion: "v1",
    groups: groups(types).map(([g, v]) => groupDocument(g, v)),
  };
}

export function apiGroup(
  types: Iterable<ResourceType>,
  name: string,
): Record<string, unknown> | undefined {
  const found = groups(types).find(([g]) => g === name);
  return found && { kind: "APIGroup", apiVersion: "v1", ...groupDocument(found[0], found[1]) };
}

function groups(types: Iterable<ResourceType>): [string, string[]][] {
  const byGroup = new Map<string, string[]>();
  for (const type of types) {
    if (type.group === "") continue;
    const versions = byGroup.get(type.group) ?? [];
    if (!versions.includes(type.version)) versions.push(type.version);
    byGroup.set(type.group, versions);
  }
  return [...byGroup];
}

export function resourceList(types: ResourceType[], groupVersion: string): Record<string, unknown> {
  const resources: Record<string, unknown>[] = [];
  for (const type of types) {
    resources.push({
      name: type.plural,
      singularName: type.singular,
      namespaced: type.namespaced,
      kind: type.kind,
      verbs: VERBS,
      ...(type.shortNames.length ? { shortNames: type.shortNames } : {}),
      ...(type.categories.length ? { categories: type.categories } : {}),
    });
    if (type.statusSubresource) {
      resources.push({
        name: `${type.plural}/status`,
        singularName: "",
        namespaced: type.namespaced,
        kind: type.kind,
        verbs: ["get", "patch", "update"],
      });
    }
  }
  return { kind: "APIResourceList", apiVersion: "v1", groupVersion, resources };
}

/**
 * OpenAPI v3, as far as kubectl needs it: `create -f` and `apply` look up whether the
 * PATCH operation of a kind takes `fieldValidation` and, finding it, leave validation to
 * the server. CRD schemas are included so that `kubectl explain` works for them.
 */
export function openApiRoot(types: Iterable<ResourceType>): Record<string, unknown> {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const [prefix, members] of byGroupVersion(types)) {
    const hash = simpleHash(JSON.stringify(openApiGroupVersion(members)));
    paths[prefix] = { serverRelativeURL: `/openapi/v3/${prefix}?hash=${hash}` };
  }
  return { paths };
}

export function openApiDocument(
  types: Iterable<ResourceType>,
  prefix: string,
): Record<string, unknown> | undefined {
  const members = byGroupVersion(types).get(prefix);
  return members && openApiGroupVersion(members);
}

function byGroupVersion(types: Iterable<ResourceType>): Map<string, ResourceType[]> {
  const map = new Map<string, ResourceType[]>();
  for (const type of types) {
    const prefix = type.group === "" ? `api/${type.version}` : `apis/${type.group}/${type.version}`;
    map.set(prefix, [...(map.get(prefix) ?? []), type]);
  }
  return map;
}

function openApiGroupVersion(types: ResourceType[]): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  const schemas: Record<string, unknown> = {};
  for (const type of types) {
    const base = type.group === "" ? `/api/${type.version}` : `/apis/${type.group}/${type.version}`;
    const item = `${base}${type.namespaced ? "/namespaces/{namespace}" : ""}/${type.plural}/{name}`;
    const gvk = { group: type.group, version: type.version, kind: type.kind };
    const schemaName = `${type.group || "core"}.${type.version}.${type.kind}`;
    const body = {
      content: { "application/json": { schema: { $ref: `#/components/schemas/${schemaName}` } } },
    };
    const ok = { responses: { "200": body } };
    const queryParams = ["dryRun", "fieldManager", "fieldValidation"].map((name) => ({
      name,
      in: "query",
      schema: { type: "string", uniqueItems: true },
    }));
    paths[item] = {
      get: { operationId: `read${type.kind}`, "x-kubernetes-group-version-kind": gvk, ...ok },
      put: {
        operationId: `replace${type.kind}`,
        "x-kubernetes-group-version-kind": gvk,
        parameters: queryParams,
        requestBody: body,
        ...ok,
      },
      patch: {
        operationId: `patch${type.kind}`,
        "x-kubernetes-group-version-kind": gvk,
        parameters: [...queryParams, { name: "force", in: "query", schema: { type: "boolean" } }],
        ...ok,
      },
      delete: { operationId: `delete${type.kind}`, "x-kubernetes-group-version-kind": gvk, ...ok },
    };
    schemas[schemaName] = {
      ...((type.openApiSchema as Record<string, unknown> | undefined) ?? { type: "object" }),
      "x-kubernetes-group-version-kind": [gvk],
    };
  }
  return {
    openapi: "3.0.0",
    info: { title: "Kubernetes (devkube)", version: SERVER_VERSION.gitVersion },
    paths,
    components: { schemas },
  };
}

function simpleHash(text: string): string {
  let hash = 0;
  for (let i = 0; i < text.length; i++) hash = (Math.imul(hash, 31) + text.charCodeAt(i)) | 0;
  return (hash >>> 0).toString(16).toUpperCase();
}
