// The EventSink the recorder uses in a cluster: core/v1 Events through client-node.
import { ApiException, type CoreV1Api, type CoreV1Event } from "@kubernetes/client-node";
import { EventNotFound, type EventSink } from "./events.ts";
import { mergePatch } from "./patch.ts";

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
