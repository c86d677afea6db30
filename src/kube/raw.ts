// Plain-JSON requests over the same connection pool, credentials and rate limit as the
// generated clients, for the controller's two hot paths — listing thousands of Services
// and patching their status — where client-node's typed (de)serialisation costs more
// than the request itself. Watch events arrive as plain JSON already; so do these.
import { HttpMethod, RequestContext, type KubeConfig } from "@kubernetes/client-node";
import { getGlobalDispatcher, type Dispatcher } from "undici";
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

export interface RawClientOptions {
  /** How long one request may take, connecting included; 60 s unless set. */
  readonly timeoutMs?: number;
}

export class RawClient {
  readonly #config: KubeConfig;
  readonly #limiter: TokenBucket | undefined;
  readonly #timeoutMs: number;

  constructor(config: KubeConfig, limiter?: TokenBucket, options: RawClientOptions = {}) {
    this.#config = config;
    this.#limiter = limiter;
    this.#timeoutMs = options.timeoutMs ?? REQUEST_TIMEOUT_MS;
  }

  async request(
    method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE",
    path: string,
    body?: unknown,
    contentType?: string,
  ): Promise<unknown> {
    const text = await this.#send(method, path, body, contentType);
    return text ? (JSON.parse(text) as unknown) : undefined;
  }

  /**
   * As request(), for a write whose answer the caller does not read: the answer is not
   * parsed (a Service's is 2 KB of JSON, per status patch of a burst).
   */
  async write(
    method: "POST" | "PUT" | "PATCH" | "DELETE",
    path: string,
    body: unknown,
    contentType?: string,
  ): Promise<void> {
    await this.#send(method, path, body, contentType);
  }

  async #send(
    method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE",
    path: string,
    body: unknown,
    contentType: string | undefined,
  ): Promise<string> {
    await this.#limiter?.wait();
    const server = this.#config.getCurrentCluster()?.server;
    if (!server) throw new Error("kubeconfig has no current cluster");
    const context = new RequestContext(`${server}${path}`, HttpMethod[method]);
    await this.#config.applySecurityAuthentication(context);
    const headers: Record<string, string> = { ...context.getHeaders(), Accept: "application/json" };
    if (contentType) headers["Content-Type"] = contentType;
    // undici's request() rather than its fetch(): the same dispatcher (pool, TLS) without
    // fetch's WHATWG Request, Response and stream objects, which cost the controller more
    // per status patch than everything else it does for the Service.
    const url = new URL(context.getUrl());
    const dispatcher = (context.getDispatcher() as Dispatcher | undefined) ?? getGlobalDispatcher();
    const response = await dispatcher.request({
      origin: url.origin,
      path: `${url.pathname}${url.search}`,
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      // A request to an unreachable server would otherwise wait for the kernel to give up
      // on the connection (minutes); callers retry sooner than that.
      signal: AbortSignal.timeout(this.#timeoutMs),
    });
    const text = await response.body.text();
    if (response.statusCode < 200 || response.statusCode > 299)
      throw new ApiError(response.statusCode, text, method, path);
    return text;
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
