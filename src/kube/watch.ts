// Watch streams as the informer reads them: client-node's Watch contract (callback per
// event, done once, an AbortController to end it, a 30 s inactivity limit) over the
// kubeconfig's connection pool, without its costs. client-node reads each stream through
// fetch, a web stream turned back into a Node stream, and readline, and restarts a timer
// per chunk: about 5% of the controller's CPU in a burst of 10k Services. Here undici's
// request() hands over the body as it arrives and lines are cut from it directly.
import { STATUS_CODES } from "node:http";
import { HttpMethod, RequestContext, type KubeConfig } from "@kubernetes/client-node";
import { getGlobalDispatcher, type Dispatcher } from "undici";

/** As client-node's Watch: no byte for this long ends the watch with a TimeoutError. */
export const WATCH_IDLE_TIMEOUT_MS = 30_000;

/** One event: its type (ADDED, MODIFIED, DELETED, BOOKMARK, ERROR) and object. */
export type WatchCallback = (type: string, object: unknown) => void;

/**
 * Called once when the watch ends: null when the server ended it, else the error — an
 * Error with `statusCode` for an answer other than 200, a DOMException named TimeoutError
 * after the inactivity limit, or AbortError when aborted.
 */
export type WatchDone = (error: unknown) => void;

/**
 * Opens a watch on `path` (a collection, e.g. "/api/v1/services") with `query`; resolves
 * to the controller that ends it once the request is sent. Lines that are not JSON are
 * skipped, as client-node skips them.
 */
export async function watch(
  config: KubeConfig,
  path: string,
  query: Record<string, string | undefined>,
  callback: WatchCallback,
  done: WatchDone,
  idleTimeoutMs = WATCH_IDLE_TIMEOUT_MS,
): Promise<AbortController> {
  const cluster = config.getCurrentCluster();
  if (!cluster) throw new Error("No currently active cluster");
  const url = new URL(cluster.server + path);
  url.searchParams.set("watch", "true");
  for (const [key, value] of Object.entries(query))
    if (value !== undefined) url.searchParams.set(key, value);
  const context = new RequestContext(url.toString(), HttpMethod.GET);
  await config.applySecurityAuthentication(context);
  const dispatcher = (context.getDispatcher() as Dispatcher | undefined) ?? getGlobalDispatcher();

  const controller = new AbortController();
  let ended = false;
  const end = (error: unknown) => {
    if (ended) return;
    ended = true;
    clearTimeout(idle);
    controller.abort();
    done(error ?? null);
  };
  // Refreshed per chunk: refresh() moves the timer, where clearTimeout + setTimeout would
  // make a new one each time.
  const idle = setTimeout(() => {
    controller.abort(new DOMException("The operation was aborted due to timeout", "TimeoutError"));
  }, idleTimeoutMs);
  idle.unref();

  const deliver = (line: string) => {
    if (ended || line.trim() === "") return;
    try {
      const event = JSON.parse(line) as { type: string; object: unknown };
      callback(event.type, event.object);
    } catch {
      // Not JSON, or the callback threw: as client-node, skip the line.
    }
  };

  try {
    const response = await dispatcher.request({
      origin: url.origin,
      path: `${url.pathname}${url.search}`,
      method: "GET",
      headers: { ...context.getHeaders(), Accept: "application/json" },
      signal: controller.signal,
    });
    const body = response.body;
    if (response.statusCode !== 200) {
      body.resume();
      const error = new Error(
        STATUS_CODES[response.statusCode] ?? "Internal Server Error",
      ) as Error & { statusCode: number };
      error.statusCode = response.statusCode;
      throw error;
    }
    idle.refresh();
    body.setEncoding("utf8");
    let partial = "";
    body.on("data", (chunk: string) => {
      idle.refresh();
      let start = 0;
      for (
        let newline = chunk.indexOf("\n");
        newline !== -1;
        newline = chunk.indexOf("\n", start)
      ) {
        const line =
          partial === "" ? chunk.slice(start, newline) : partial + chunk.slice(start, newline);
        partial = "";
        start = newline + 1;
        deliver(line);
      }
      partial += chunk.slice(start);
    });
    body.on("end", () => {
      deliver(partial);
      end(null);
    });
    body.on("error", end);
    body.on("close", () => end(null));
  } catch (error) {
    end(error);
  }
  return controller;
}
