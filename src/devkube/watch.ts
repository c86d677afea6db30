// Watch streams: newline-delimited events from a resourceVersion (replaying the history
// the store keeps) or from now, seen through the watch's selectors, with bookmarks and
// timeouts, each open until the client, a timeout or a fault closes it.
import type { IncomingMessage, ServerResponse } from "node:http";
import { apiVersionOf, resourceKey } from "./resources.ts";
import type { Route } from "./routing.ts";
import { requestedSelectors } from "./selectors.ts";
import { gone } from "./status.ts";
import { objectJson, type Change, type KubeObject, type Store } from "./store.ts";
import { table, wantsTable } from "./table.ts";

interface OpenWatch {
  close(): void;
}

export class Watches {
  private readonly open = new Set<OpenWatch>();
  private readonly store: Store;
  private readonly bookmarkIntervalMs: number;

  constructor(store: Store, bookmarkIntervalMs: number) {
    this.store = store;
    this.bookmarkIntervalMs = bookmarkIntervalMs;
  }

  /** Ends every open watch, as an API server restart or a load balancer would. */
  closeAll(): void {
    for (const watch of [...this.open]) watch.close();
  }

  serve(request: IncomingMessage, response: ServerResponse, route: Route, url: URL): void {
    const { type, namespace } = route;
    const store = this.store;
    const selectors = requestedSelectors(url, type.selectableFields);
    const key = resourceKey(type);
    const asTable = wantsTable(request.headers.accept);
    const rvParam = url.searchParams.get("resourceVersion");
    const matches = (object: KubeObject | undefined) =>
      object !== undefined &&
      (namespace === undefined || object.metadata.namespace === namespace) &&
      selectors.every((s) => s.matches(object));

    response.writeHead(200, { "Content-Type": "application/json", "Transfer-Encoding": "chunked" });
    response.flushHeaders();
    // Events of one event-loop turn leave in one write: a burst of changes would
    // otherwise cost a system call per event per watcher.
    let pending: string[] = [];
    const flush = () => {
      if (pending.length === 0) return;
      response.write(pending.join(""));
      pending = [];
    };
    const write = (eventType: string, object: unknown) => {
      const json =
        asTable && eventType !== "ERROR" && eventType !== "BOOKMARK"
          ? JSON.stringify(table(type, [object as KubeObject], ""))
          : eventType === "ERROR" || eventType === "BOOKMARK"
            ? JSON.stringify(object)
            : objectJson(object as KubeObject);
      if (pending.length === 0) setImmediate(flush);
      pending.push(`{"type":"${eventType}","object":${json}}\n`);
    };
    // A change is seen through this watch's selector: entering it is ADDED, leaving it DELETED.
    const deliver = (change: Change) => {
      const now = matches(change.object) && change.type !== "DELETED";
      const before = matches(change.previous);
      if (change.type === "DELETED") {
        if (before || matches(change.object)) write("DELETED", change.object);
      } else if (now && before) write("MODIFIED", change.object);
      else if (now) write("ADDED", change.object);
      else if (before) write("DELETED", change.object);
    };

    if (!rvParam || rvParam === "0") {
      for (const object of store.list(key, namespace)) if (matches(object)) write("ADDED", object);
    } else {
      const rv = Number(rvParam);
      const changes = Number.isInteger(rv) ? store.changesSince(key, rv) : "gone";
      if (changes === "gone") {
        write(
          "ERROR",
          gone(`too old resource version: ${rvParam} (${store.resourceVersion})`).body,
        );
        flush();
        response.end();
        return;
      }
      for (const change of changes) deliver(change);
    }

    const unsubscribe = store.subscribe(key, deliver);
    const bookmarks =
      url.searchParams.get("allowWatchBookmarks") === "true"
        ? setInterval(() => {
            write("BOOKMARK", {
              kind: type.kind,
              apiVersion: apiVersionOf(type),
              metadata: { resourceVersion: String(store.resourceVersion) },
            });
          }, this.bookmarkIntervalMs)
        : undefined;
    const timeoutSeconds = Number(url.searchParams.get("timeoutSeconds") ?? 0);
    const timeout =
      timeoutSeconds > 0 ? setTimeout(() => watch.close(), timeoutSeconds * 1000) : undefined;
    const watch: OpenWatch = {
      close: () => {
        if (!this.open.delete(watch)) return;
        unsubscribe();
        clearInterval(bookmarks);
        clearTimeout(timeout);
        flush();
        response.end();
      },
    };
    this.open.add(watch);
    response.on("close", () => watch.close());
  }
}
