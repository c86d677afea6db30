// Plain-JSON requests over the same connection pool, credentials and rate limit as the
// generated clients, for the controller's two hot paths — listing thousands of Services
// and patching their status — where client-node's typed (de)serialisation costs more
// than the request itself. Watch events arrive as plain JSON already; so do these.
import { HttpMethod, RequestContext, type KubeConfig } from "@kubernetes/client-node";
import { fetch } from "undici";
import type { ListOptions, ListPage } from "./informer.ts";
import type { TokenBucket } from "./ratelimit.ts";

/** A failed request, with the HTTP code where the generated clients' ApiException has it. */
export class ApiError extends Error {
  readonly code: number;
  readonly body: string;

  constructor(code: number, body: string, method: string, path: string) {
    super(`${method} ${path}: ${code} ${body.slice(0, 300)}`);
    this.code = code;
    this.body = body;
  }
}

const REQUEST_TIMEOUT_MS = 60_000;

export class RawClient {
  readonly #config: KubeConfig;
  readonly #limiter: TokenBucket | undefined;

  constructor(config: KubeConfig, limiter?: TokenBucket) {
    this.#config = config;
    this.#limiter = limiter;
  }

  async request(
    method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE",
    path: string,
    body?: unknown,
    contentType?: string,
  ): Promise<unknown> {
    await this.#limiter?.wait();
    const server = this.#config.getCurrentCluster()?.server;
    if (!server) throw new Error("kubeconfig has no current cluster");
    const context = new RequestContext(`${server}${path}`, HttpMethod[method]);
    await this.#config.applySecurityAuthentication(context);
    const headers: Record<string, string> = { ...context.getHeaders(), Accept: "application/json" };
    if (contentType) headers["Content-Type"] = contentType;
    const response = await fetch(context.getUrl(), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      dispatcher: context.getDispatcher() as never,
      // A request to an unreachable server would otherwise wait for the kernel to give up
      // on the connection (minutes); callers retry sooner than that.
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    const text = await response.text();
    if (!response.ok) throw new ApiError(response.status, text, method, path);
    return text ? (JSON.parse(text) as unknown) : undefined;
  }

  /** A list call in the shape the Informer takes. */
  async list<T>(path: string, options: ListOptions = {}): Promise<ListPage<T>> {
    const query = new URLSearchParams();
    if (options.labelSelector) query.set("labelSelector", options.labelSelector);
    if (options.fieldSelector) query.set("fieldSelector", options.fieldSelector);
    if (options.limit) query.set("limit", String(options.limit));
    if (options._continue) query.set("continue", options._continue);
    const list = (await this.request("GET", `${path}?${query}`)) as {
      items: T[];
      metadata?: { resourceVersion?: string; continue?: string };
    };
    return {
      items: list.items,
      metadata: {
        resourceVersion: list.metadata?.resourceVersion,
        _continue: list.metadata?.continue,
      },
    };
  }
}
