// `herald lab endpoints`: the lab has no kube-controller-manager, so this process does
// the EndpointSlice controller's job. It watches Services, Pods and its own slices and,
// after any change, brings every selector Service's slices to what desiredSlices() says.
// The whole pass is cheap at lab scale, and a pass over everything cannot miss a change
// the way per-event bookkeeping can.
import type { KubeConfig, KubernetesObject } from "@kubernetes/client-node";
import { Informer } from "../kube/informer.ts";
import type { Logger } from "../log.ts";
import { ApiError, LabApi } from "./api.ts";
import {
  desiredSlices,
  MANAGED_BY,
  MANAGED_BY_LABEL,
  sameSlice,
  type EndpointSliceLike,
  type PodLike,
  type ServiceLike,
} from "./endpoints.ts";

const SLICES = "/apis/discovery.k8s.io/v1/endpointslices";

export interface EndpointsMirrorOptions {
  config: KubeConfig;
  log: Logger;
  /** Called once, after the caches synced and the first pass wrote its slices. */
  onSynced?: () => void;
}

export class EndpointsMirror {
  readonly #api: LabApi;
  readonly #log: Logger;
  readonly #services: Informer<ServiceLike & KubernetesObject>;
  readonly #pods: Informer<PodLike & KubernetesObject>;
  readonly #slices: Informer<EndpointSliceLike & KubernetesObject>;
  readonly #onSynced: (() => void) | undefined;
  #running = false;
  /** A pass is under way; `#again` asks for another when it ends. */
  #busy = false;
  #again = false;
  #retry: NodeJS.Timeout | undefined;
  #synced = false;

  constructor(options: EndpointsMirrorOptions) {
    this.#api = new LabApi(options.config);
    this.#log = options.log;
    this.#onSynced = options.onSynced;
    const informer = <T extends KubernetesObject>(path: string, labelSelector?: string) =>
      new Informer<T>({
        config: options.config,
        path,
        list: (o) => this.#api.list<T>(path, o),
        labelSelector,
        log: options.log,
      });
    this.#services = informer("/api/v1/services");
    this.#pods = informer("/api/v1/pods");
    this.#slices = informer(SLICES, `${MANAGED_BY_LABEL}=${MANAGED_BY}`);
  }

  async start(): Promise<void> {
    this.#running = true;
    for (const informer of [this.#services, this.#pods, this.#slices]) {
      for (const event of ["add", "update", "delete"] as const)
        informer.on(event, () => this.#schedule());
      informer.start();
    }
    await Promise.all([this.#services.synced, this.#pods.synced, this.#slices.synced]);
    this.#schedule();
  }

  stop(): void {
    this.#running = false;
    clearTimeout(this.#retry);
    for (const informer of [this.#services, this.#pods, this.#slices]) informer.stop();
  }

  #schedule(): void {
    if (!this.#running) return;
    if (!this.#services.isSynced() || !this.#pods.isSynced() || !this.#slices.isSynced()) return;
    if (this.#busy) {
      this.#again = true;
      return;
    }
    this.#busy = true;
    void this.#pass().finally(() => {
      this.#busy = false;
      if (this.#again) {
        this.#again = false;
        this.#schedule();
      }
    });
  }

  async #pass(): Promise<void> {
    try {
      await this.#reconcile();
      if (!this.#synced) {
        this.#synced = true;
        this.#log.info("endpoint slices in step with services and pods");
        this.#onSynced?.();
      }
    } catch (error) {
      // A conflict means the cache is a moment behind our own last write: try again as
      // soon as its watch event is likely in. Anything else gets a second.
      const conflict = error instanceof ApiError && error.code === 409;
      if (!conflict)
        this.#log.warn({ err: (error as Error).message }, "endpoint slice update failed; retrying");
      clearTimeout(this.#retry);
      this.#retry = setTimeout(() => this.#schedule(), conflict ? 100 : 1000);
    }
  }

  async #reconcile(): Promise<void> {
    const pods = this.#pods.list();
    const desired = new Map<string, EndpointSliceLike>();
    for (const service of this.#services.list()) {
      for (const slice of desiredSlices(service, pods))
        desired.set(`${slice.metadata.namespace}/${slice.metadata.name}`, slice);
    }
    const existing = new Map(
      this.#slices
        .list()
        .map((slice) => [`${slice.metadata.namespace}/${slice.metadata.name}`, slice]),
    );
    for (const [key, slice] of desired) {
      const current = existing.get(key);
      const collection = `/apis/discovery.k8s.io/v1/namespaces/${slice.metadata.namespace}/endpointslices`;
      if (!current) {
        await this.#api.create(collection, slice);
        this.#log.info({ slice: key, endpoints: count(slice) }, "endpoint slice created");
      } else if (!sameSlice(current, slice)) {
        const body = {
          ...slice,
          metadata: { ...slice.metadata, resourceVersion: current.metadata.resourceVersion },
        };
        await this.#api.request("PUT", `${collection}/${slice.metadata.name}`, body);
        this.#log.info({ slice: key, endpoints: count(slice) }, "endpoint slice updated");
      }
    }
    for (const [key, slice] of existing) {
      if (desired.has(key)) continue;
      await this.#api.delete(
        `/apis/discovery.k8s.io/v1/namespaces/${slice.metadata.namespace}/endpointslices/${slice.metadata.name}`,
      );
      this.#log.info({ slice: key }, "endpoint slice deleted");
    }
  }
}

function count(slice: EndpointSliceLike): number {
  return slice.endpoints.length;
}
