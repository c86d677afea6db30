// Plain-JSON API requests for the lab: src/kube/raw.ts's client, plus the few verbs the
// lab's objects want (create-or-keep, merge patch, delete-if-there). Plain JSON because
// client-node's typed models drop what they do not know — a CRD's
// `x-kubernetes-validations`, for one.
import type { KubeConfig } from "@kubernetes/client-node";
import type { ListOptions, ListPage } from "../kube/informer.ts";
import { ApiError, RawClient } from "../kube/raw.ts";

export { ApiError };

type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export class LabApi {
  readonly #raw: RawClient;

  constructor(config: KubeConfig) {
    this.#raw = new RawClient(config);
  }

  request(method: Method, path: string, body?: unknown, contentType?: string): Promise<unknown> {
    return this.#raw.request(
      method,
      path,
      body,
      contentType ?? (body === undefined ? undefined : "application/json"),
    );
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
  list<T>(path: string, options: ListOptions = {}): Promise<ListPage<T>> {
    return this.#raw.list<T>(path, options);
  }
}
