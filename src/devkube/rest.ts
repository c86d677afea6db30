// The REST verbs on a routed resource: which of list, watch, get, create, update, patch
// and delete a request is, and the answer each gives.
import type { IncomingMessage, ServerResponse } from "node:http";
import { readBody } from "./body.ts";
import { sendJson, sendRawJson } from "./http.ts";
import { serveList } from "./list.ts";
import type { Objects, Preconditions } from "./objects.ts";
import {
  jsonPatch,
  JSON_PATCH,
  MERGE_PATCH,
  mergePatch,
  PatchError,
  strategicMergePatch,
  STRATEGIC_MERGE_PATCH,
} from "./patch.ts";
import { apiVersionOf, resourceKey, type ResourceType } from "./resources.ts";
import type { Route } from "./routing.ts";
import { requestedSelectors } from "./selectors.ts";
import { failure, notFound } from "./status.ts";
import { objectJson, type KubeObject, type Store } from "./store.ts";
import { table, wantsTable } from "./table.ts";
import type { Watches } from "./watch.ts";

export interface Backends {
  store: Store;
  objects: Objects;
  watches: Watches;
}

/** Answers one request on a resource; throws StatusErrors for the client's mistakes. */
export async function serveResource(
  request: IncomingMessage,
  response: ServerResponse,
  route: Route,
  url: URL,
  { store, objects, watches }: Backends,
): Promise<void> {
  const { type, namespace, name, subresource } = route;
  if (subresource !== undefined && (subresource !== "status" || !type.statusSubresource)) {
    throw failure(404, `the server could not find the requested resource`);
  }
  const method = request.method ?? "GET";
  // Each write is synchronous once its body is read, so a dry run wraps just that part.
  const write = dryRunOf(url)
    ? <T>(change: () => T): T => objects.dryRun(change)
    : <T>(change: () => T): T => change();

  if (name === undefined) {
    if (method === "GET") {
      const watch = url.searchParams.get("watch");
      if (watch === "true" || watch === "1") return watches.serve(request, response, route, url);
      return serveList(store, request, response, route, url);
    }
    if (method === "POST")
      return sendRawJson(
        response,
        201,
        objectJson(
          await readBody(request).then((body) =>
            write(() => objects.create(type, namespace, body, url)),
          ),
        ),
      );
    if (method === "DELETE") {
      const selectors = requestedSelectors(url, type.selectableFields);
      return sendJson(response, 200, {
        kind: type.listKind,
        apiVersion: apiVersionOf(type),
        metadata: {},
        items: write(() => objects.deleteCollection(type, namespace, selectors)),
      });
    }
    throw failure(405, `method ${method} not allowed on a collection`);
  }
  const current = store.get(resourceKey(type), namespace, name);
  if (method === "GET") {
    if (!current) throw notFound(type, name);
    return sendObject(request, response, type, current);
  }
  if (method === "PUT") {
    const body = await readBody(request);
    if (!current && type.createOnUpdate && subresource === undefined) {
      // Created, as kube-apiserver does for these kinds, whatever resourceVersion it names.
      const created = write(() => objects.create(type, namespace, namedAs(body, name), url));
      return sendRawJson(response, 201, objectJson(created));
    }
    const updated = write(() => objects.update(type, namespace, name, body, subresource, url));
    return sendObject(request, response, type, updated);
  }
  if (method === "PATCH") {
    if (!current) throw notFound(type, name);
    const patched = applyPatch(request.headers["content-type"], current, await readBody(request));
    const updated = write(() => objects.update(type, namespace, name, patched, subresource, url));
    return sendObject(request, response, type, updated);
  }
  if (method === "DELETE") {
    const options = (await readBody(request, true)) as { preconditions?: Preconditions };
    const result = write(() => objects.delete(type, namespace, name, options?.preconditions));
    // Held by finalizers: the object is answered, marked for deletion.
    if (result.metadata.deletionTimestamp && (result.metadata.finalizers ?? []).length > 0)
      return sendJson(response, 202, result);
    return sendJson(response, 200, {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Success",
      details: {
        name,
        ...(type.group === "" ? {} : { group: type.group }),
        kind: type.plural,
        uid: result.metadata.uid,
      },
    });
  }
  throw failure(405, `method ${method} not allowed`);
}

/** A PUT's body, named as on the URL (a different name is refused as on update). */
function namedAs(body: unknown, name: string): unknown {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return body;
  const { metadata } = body as { metadata?: { name?: unknown } };
  if (metadata?.name !== undefined && metadata.name !== name)
    throw failure(
      400,
      `the name of the object (${String(metadata.name)}) does not match the name on the URL (${name})`,
    );
  return { ...body, metadata: { ...metadata, name } };
}

/** `dryRun=All`, the only value Kubernetes defines; anything else is refused, as there. */
function dryRunOf(url: URL): boolean {
  const values = url.searchParams.getAll("dryRun");
  if (values.length === 0) return false;
  const unknown = values.filter((value) => value !== "All");
  if (unknown.length > 0)
    throw failure(
      400,
      `Invalid dry run value: ${JSON.stringify(unknown[0])}; the only one is "All"`,
    );
  return true;
}

function sendObject(
  request: IncomingMessage,
  response: ServerResponse,
  type: ResourceType,
  object: KubeObject,
): void {
  if (wantsTable(request.headers.accept) && request.method === "GET") {
    sendJson(response, 200, table(type, [object], object.metadata.resourceVersion ?? ""));
  } else {
    // The stored object's cached JSON: the watch events of this write send the same text.
    sendRawJson(response, 200, objectJson(object));
  }
}

function applyPatch(contentType: string | undefined, current: KubeObject, patch: unknown): unknown {
  const type = (contentType ?? "").split(";")[0]!.trim();
  try {
    if (type === MERGE_PATCH) return mergePatch(current, patch);
    if (type === STRATEGIC_MERGE_PATCH) return strategicMergePatch(current, patch);
    if (type === JSON_PATCH) return jsonPatch(current, patch);
  } catch (error) {
    if (error instanceof PatchError)
      throw failure(422, `the patch could not be applied: ${error.message}`);
    throw error;
  }
  throw failure(
    415,
    `the body of the request was in an unknown format - accepted media types include: ${JSON_PATCH}, ${MERGE_PATCH}, ${STRATEGIC_MERGE_PATCH}`,
  );
}
