// Lists: objects in a stable key order, filtered by selectors, cut into pages whose
// continue tokens remember where they stopped and at which version the list was taken.
import type { IncomingMessage, ServerResponse } from "node:http";
import { sendJson, sendRawJson } from "./http.ts";
import { apiVersionOf, resourceKey } from "./resources.ts";
import type { Route } from "./routing.ts";
import { requestedSelectors } from "./selectors.ts";
import { failure, gone } from "./status.ts";
import { objectJson, objectKey, type KubeObject, type Store } from "./store.ts";
import { table, wantsTable } from "./table.ts";

interface ContinueToken {
  /** The key of the last object already listed. */
  start: string;
  rv: string;
}

export function serveList(
  store: Store,
  request: IncomingMessage,
  response: ServerResponse,
  route: Route,
  url: URL,
): void {
  const { type, namespace } = route;
  const selectors = requestedSelectors(url, type.selectableFields);
  const limit = Number(url.searchParams.get("limit") ?? 0);
  const token = url.searchParams.get("continue");
  let start = "";
  let listRv = String(store.resourceVersion);
  if (token) {
    try {
      ({ start, rv: listRv } = JSON.parse(
        Buffer.from(token, "base64url").toString(),
      ) as ContinueToken);
    } catch {
      throw failure(400, "continue token is not valid");
    }
    if (store.expired(Number(listRv)))
      throw gone("The provided continue parameter is too old, please re-list");
  }
  const items: KubeObject[] = [];
  let remaining = 0;
  for (const object of store.scan(resourceKey(type), namespace, start)) {
    if (!selectors.every((s) => s.matches(object))) continue;
    if (limit > 0 && items.length >= limit) remaining++;
    else items.push(object);
  }
  let next: string | undefined;
  if (remaining > 0) {
    const last: ContinueToken = { start: keyOf(items.at(-1)!), rv: listRv };
    next = Buffer.from(JSON.stringify(last)).toString("base64url");
  }
  if (wantsTable(request.headers.accept))
    return sendJson(response, 200, table(type, items, listRv));
  const head = JSON.stringify({
    kind: type.listKind,
    apiVersion: apiVersionOf(type),
    metadata: {
      resourceVersion: listRv,
      ...(next ? { continue: next, remainingItemCount: remaining } : {}),
    },
  });
  // Items are joined from their cached JSON rather than serialised again for every list.
  sendRawJson(response, 200, `${head.slice(0, -1)},"items":[${items.map(objectJson).join(",")}]}`);
}

function keyOf(object: KubeObject): string {
  return objectKey(object.metadata.namespace, object.metadata.name);
}
