// The EventSinks the recorder uses in a cluster: core/v1 Events through client-node's
// typed client, or as plain JSON through the RawClient where the typed client's
// (de)serialisation would cost more than the write (the controller writes up to 50/s).
import {
  ApiException,
  PatchStrategy,
  type CoreV1Api,
  type CoreV1Event,
} from "@kubernetes/client-node";
import { EventNotFound, type EventSink } from "./events.ts";
import { mergePatch } from "./patch.ts";
import { ApiError, type RawClient } from "./raw.ts";

/** The two calls the sink makes, so tests can stand in for the API. */
export type EventApi = Pick<CoreV1Api, "createNamespacedEvent" | "patchNamespacedEvent">;

export class CoreV1EventSink implements EventSink {
  readonly #api: EventApi;

  constructor(api: EventApi) {
    this.#api = api;
  }

  create(event: CoreV1Event): Promise<CoreV1Event> {
    return this.#api.createNamespacedEvent({
      namespace: event.metadata.namespace ?? "default",
      body: event,
    });
  }

  async patch(namespace: string, name: string, patch: object): Promise<CoreV1Event> {
    try {
      return await this.#api.patchNamespacedEvent({ namespace, name, body: patch }, mergePatch);
    } catch (err) {
      if (err instanceof ApiException && err.code === 404)
        throw new EventNotFound(`event ${namespace}/${name} not found`, { cause: err });
      throw err;
    }
  }
}

/** The same writes as CoreV1EventSink, as plain JSON: dates go out as ISO strings either way. */
export class RawEventSink implements EventSink {
  readonly #raw: Pick<RawClient, "write">;

  constructor(raw: Pick<RawClient, "write">) {
    this.#raw = raw;
  }

  async create(event: CoreV1Event): Promise<void> {
    const namespace = event.metadata.namespace ?? "default";
    await this.#raw.write(
      "POST",
      `/api/v1/namespaces/${encodeURIComponent(namespace)}/events`,
      event,
    );
  }

  async patch(namespace: string, name: string, patch: object): Promise<void> {
    const path = `/api/v1/namespaces/${encodeURIComponent(namespace)}/events/${encodeURIComponent(name)}`;
    try {
      await this.#raw.write("PATCH", path, patch, PatchStrategy.MergePatch);
    } catch (err) {
      if (err instanceof ApiError && err.code === 404)
        throw new EventNotFound(`event ${namespace}/${name} not found`, { cause: err });
      throw err;
    }
  }
}
