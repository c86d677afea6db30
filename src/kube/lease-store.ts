// The LeaseStore the elector uses in a cluster: one coordination.k8s.io/v1 Lease.
import {
  ApiException,
  V1MicroTime,
  type CoordinationV1Api,
  type V1Lease,
} from "@kubernetes/client-node";
import { LeaseConflict, LeaseNotFound, type Lease, type LeaseStore } from "./leader.ts";

/** The three calls the store makes, so tests can stand in for the API. */
export type LeaseApi = Pick<
  CoordinationV1Api,
  "readNamespacedLease" | "createNamespacedLease" | "replaceNamespacedLease"
>;

export class KubeLeaseStore implements LeaseStore {
  readonly #api: LeaseApi;
  readonly #namespace: string;
  readonly #name: string;

  constructor(api: LeaseApi, namespace: string, name: string) {
    this.#api = api;
    this.#namespace = namespace;
    this.#name = name;
  }

  async get(): Promise<Lease | undefined> {
    try {
      return fromV1(
        await this.#api.readNamespacedLease({ name: this.#name, namespace: this.#namespace }),
      );
    } catch (err) {
      if (err instanceof ApiException && err.code === 404) return undefined;
      throw err;
    }
  }

  create(lease: Lease): Promise<Lease> {
    return translate(async () =>
      fromV1(
        await this.#api.createNamespacedLease({
          namespace: this.#namespace,
          body: this.#toV1(lease),
        }),
      ),
    );
  }

  update(lease: Lease): Promise<Lease> {
    return translate(async () =>
      fromV1(
        await this.#api.replaceNamespacedLease({
          name: this.#name,
          namespace: this.#namespace,
          body: this.#toV1(lease),
        }),
      ),
    );
  }

  #toV1(lease: Lease): V1Lease {
    return {
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: {
        name: this.#name,
        namespace: this.#namespace,
        // The API server rejects a replace whose resourceVersion is stale with 409.
        ...(lease.resourceVersion === undefined ? {} : { resourceVersion: lease.resourceVersion }),
      },
      spec: {
        // An empty holder is how a release is written (client-go does the same).
        holderIdentity: lease.holderIdentity,
        leaseDurationSeconds: lease.leaseDurationSeconds,
        // MicroTime: the API server wants six fractional digits, which a plain Date lacks.
        acquireTime: new V1MicroTime(lease.acquireTime),
        renewTime: new V1MicroTime(lease.renewTime),
        leaseTransitions: lease.leaseTransitions,
      },
    };
  }
}

// client-node does not deserialize MicroTime fields, so they arrive as strings; accept both.
function millis(t: Date | string | undefined): number {
  if (t === undefined) return 0;
  const ms = new Date(t).getTime();
  return Number.isNaN(ms) ? 0 : ms;
}

function fromV1(v: V1Lease): Lease {
  const spec = v.spec ?? {};
  return {
    holderIdentity: spec.holderIdentity ?? "",
    leaseDurationSeconds: spec.leaseDurationSeconds ?? 0,
    acquireTime: millis(spec.acquireTime),
    renewTime: millis(spec.renewTime),
    leaseTransitions: spec.leaseTransitions ?? 0,
    resourceVersion: v.metadata?.resourceVersion,
  };
}

async function translate<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof ApiException && err.code === 409)
      throw new LeaseConflict(err.message, { cause: err });
    if (err instanceof ApiException && err.code === 404)
      throw new LeaseNotFound(err.message, { cause: err });
    throw err;
  }
}
