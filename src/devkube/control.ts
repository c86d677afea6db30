// What tests control and observe beyond the API: injected faults, counts of the requests
// served, and the /devkube/ endpoints that reach both from another process.
import type { IncomingMessage, ServerResponse } from "node:http";
import { readBody } from "./body.ts";
import { sendJson, sendStatus } from "./http.ts";
import type { Route } from "./routing.ts";
import { failure } from "./status.ts";

/** Counts of requests served, for tests and benchmarks that count API writes. */
export interface RequestStats {
  /** "VERB resource[/subresource]" -> count, e.g. "PATCH services/status". */
  byVerb: Record<string, number>;
  writes: number;
  total: number;
  /** TCP connections accepted: shows whether clients reuse them. */
  connections: number;
}

/** "PATCH addresspools/status": how stats count a request, and how refusals name one. */
export function requestKey(method: string, route: Route): string {
  return `${method} ${route.type.plural}${route.subresource ? `/${route.subresource}` : ""}`;
}

export class RequestCounter {
  private stats: RequestStats = emptyStats();

  request(method: string, route: Route): void {
    const key = requestKey(method, route);
    this.stats.byVerb[key] = (this.stats.byVerb[key] ?? 0) + 1;
    this.stats.total++;
    if (method !== "GET") this.stats.writes++;
  }

  connection(): void {
    this.stats.connections++;
  }

  snapshot(): RequestStats {
    return structuredClone(this.stats);
  }

  reset(): void {
    this.stats = emptyStats();
  }
}

function emptyStats(): RequestStats {
  return { byVerb: {}, writes: 0, total: 0, connections: 0 };
}

/** Failures and delays that API requests are to meet. */
export class InjectedFaults {
  latencyMs = 0;
  private failures = { count: 0, code: 500 };

  /** "VERB resource[/subresource]" -> the code every such request fails with, until lifted. */
  readonly refused = new Map<string, number>();

  failNext(count: number, code: number): void {
    this.failures = { count, code };
  }

  /** The code the current request is to fail with, if any is left to inject. */
  takeFailure(): number | undefined {
    if (this.failures.count <= 0) return undefined;
    this.failures.count--;
    return this.failures.code;
  }
}

/** What the control endpoints reach: DevKube's own methods. */
export interface Controls {
  dropWatches(): void;
  failNext(count: number, code?: number): void;
  expireResourceVersions(): void;
  setLatency(ms: number): void;
  requestStats(): RequestStats;
}

/** POST /devkube/faults {dropWatches, failNext: {count, code}, expire, latencyMs}; GET /devkube/stats. */
export async function serveControl(
  request: IncomingMessage,
  response: ServerResponse,
  path: string,
  controls: Controls,
): Promise<void> {
  if (path === "/devkube/stats") return sendJson(response, 200, controls.requestStats());
  if (path === "/devkube/faults" && request.method === "POST") {
    const body = (await readBody(request)) as {
      dropWatches?: boolean;
      failNext?: { count: number; code?: number };
      expire?: boolean;
      latencyMs?: number;
    };
    if (body.failNext) controls.failNext(body.failNext.count, body.failNext.code);
    if (body.expire) controls.expireResourceVersions();
    if (body.latencyMs !== undefined) controls.setLatency(body.latencyMs);
    if (body.dropWatches) controls.dropWatches();
    return sendJson(response, 200, { ok: true });
  }
  sendStatus(response, failure(404, "unknown devkube control endpoint"));
}
