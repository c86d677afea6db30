// Plain-JSON API requests for the lab, through a kubeconfig's credentials and connection
// pool like src/kube/raw.ts, with every verb the lab needs (that client only lists and
// patches). Plain JSON because client-node's typed models drop what they do not know —
// a CRD's `x-kubernetes-validations`, for one.
import { RequestContext, type KubeConfig } from "@kubernetes/client-node";
import { fetch } from "undici";
import type { ListOptions, ListPage } from "../kube/informer.ts";
import { ApiError } from "../kube/raw.ts";

export { ApiError };

type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export class LabApi {
  readonly #config: KubeConfig;

  constructor(config: KubeConfig) {
    this.#config = config;
  }

  async request(
    method: Method,
    path: string,
    body?: unknown,
    contentType?: string,
  ): Promise<unknown> {
    const server = this.#config.getCurrentCluster()?.server;
    if (!server) throw new Error("kubeconfig has no current cluster");
    const context = new RequestContext(`${server}${path}`, method);
    await this.#config.applySecurityAuthentication(context);
    const headers: Record<string, string> = { ...context.getHeaders(), Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = contentType ?? "application/json";
    const response = await fetch(context.getUrl(), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      dispatcher: context.getDispatcher() as never,
    });
    const text = await response.text();
    if (!response.ok) throw new ApiError(response.status, text, method, path);
    return text ? (JSON.parse(text) as unknown) : undefined;
  }

  create(path: string, body: unknown): Promise<unknown> {
    return this.request("POST", path, body);
  }

  /** Creates, or does nothing if it exists already (409). */
  async ensure(path: string, body: unknown): Promise<void> {
    try {
      await this.create(path, body);
    } catch (error) {
      if (!(error instanceof ApiError && error.code === 409)) throw error;
    }
  }

  mergePatch(path: string, patch: unknown): Promise<unknown> {
    return this.request("PATCH", path, patch, "application/merge-patch+json");
  }

  /** Deletes; an object already gone counts as deleted. */
  async delete(path: string): Promise<void> {
    try {
      await this.request("DELETE", path);
    } catch (error) {
      if (!(error instanceof ApiError && error.code === 404)) throw error;
    }
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
