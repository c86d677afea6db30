// Writing objects: what the API server does on create, update and delete — identity and
// bookkeeping, resourceVersion preconditions, no-op writes, finalizers that hold a
// deleted object, and what deleting a namespace or a CRD takes with it. What each kind
// gets before it is stored is admission.ts's.
import { randomBytes, randomUUID } from "node:crypto";
import { isDeepStrictEqual } from "node:util";
import { admit, type Admission } from "./admission.ts";
import { ServiceAddresses } from "./defaults.ts";
import type { ResourceRegistry } from "./registry.ts";
import { apiVersionOf, resourceKey, type ResourceType } from "./resources.ts";
import type { Selector } from "./selectors.ts";
import { alreadyExists, conflict, failure, invalid, notFound, versionRequired } from "./status.ts";
import { objectJson, type KubeObject, type Store } from "./store.ts";
import { now } from "./time.ts";

export interface Preconditions {
  uid?: string;
  resourceVersion?: string;
}

const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export class Objects {
  private readonly store: Store;
  private readonly registry: ResourceRegistry;
  private readonly services = new ServiceAddresses();
  /** Inside dryRun(): every check runs, nothing is stored. */
  private dryRunning = false;

  constructor(store: Store, registry: ResourceRegistry) {
    this.store = store;
    this.registry = registry;
  }

  /**
   * Runs a write as `?dryRun=All` asks: defaulted, admitted and validated as a real one,
   * answered with what would be stored, and nothing stored, watched or allocated.
   */
  dryRun<T>(write: () => T): T {
    const restore = this.services.snapshot();
    this.dryRunning = true;
    try {
      return write();
    } finally {
      this.dryRunning = false;
      restore();
    }
  }

  /** POST: `namespace` is the one on the URL; `url` carries fieldValidation. */
  create(type: ResourceType, namespace: string | undefined, body: unknown, url?: URL): KubeObject {
    const object = asObject(body, type);
    const metadata = object.metadata;
    if (type.namespaced) {
      if (
        namespace !== undefined &&
        metadata.namespace !== undefined &&
        metadata.namespace !== namespace
      ) {
        throw failure(
          400,
          `the namespace of the provided object does not match the namespace sent on the request`,
        );
      }
      metadata.namespace = namespace ?? metadata.namespace ?? "default";
      const namespaces = this.namespaceType();
      if (!this.store.get(resourceKey(namespaces), undefined, metadata.namespace)) {
        throw notFound(namespaces, metadata.namespace);
      }
    } else {
      delete metadata.namespace;
    }
    if (!metadata.name && typeof metadata.generateName === "string") {
      metadata.name = `${metadata.generateName}${randomBytes(4).toString("hex").slice(0, 5)}`;
    }
    if (!metadata.name)
      throw invalid(type, "", [
        {
          reason: "FieldValueRequired",
          field: "metadata.name",
          message: "Required value: name or generateName is required",
        },
      ]);
    if (!isName(metadata.name)) {
      throw invalid(type, metadata.name, [
        {
          reason: "FieldValueInvalid",
          field: "metadata.name",
          message: `Invalid value: "${metadata.name}": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character`,
        },
      ]);
    }
    if (this.store.get(resourceKey(type), metadata.namespace, metadata.name))
      throw alreadyExists(type, metadata.name);
    return this.createUnchecked(type, object, url);
  }

  /**
   * Creates without the checks a client's request needs: for the server's own objects.
   * `body` becomes the stored object: callers hand over one they own (a request body just
   * parsed, a literal), so no copy is made.
   */
  createUnchecked(type: ResourceType, body: Record<string, unknown>, url?: URL): KubeObject {
    const object = body as KubeObject;
    object.apiVersion = apiVersionOf(type);
    object.kind = type.kind;
    const metadata = object.metadata;
    metadata.uid = randomUUID();
    metadata.creationTimestamp = now();
    if (type.generation) metadata.generation = 1;
    else delete metadata.generation;
    dropEmptyMetadata(metadata);
    delete metadata.deletionTimestamp;
    delete metadata.resourceVersion;
    if (
      type.statusSubresource &&
      type.kind !== "Node" &&
      type.kind !== "CustomResourceDefinition"
    ) {
      // As the API server does: status is not written through the main resource.
      delete object.status;
    }
    admit(type, object, undefined, this.admission(url));
    return this.commit(type, object, "ADDED");
  }

  /** PUT (and PATCH, once patched) of the object or its /status. */
  update(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    body: unknown,
    subresource: string | undefined,
    url: URL,
  ): KubeObject {
    const current = this.store.get(resourceKey(type), namespace, name);
    if (!current) throw notFound(type, name);
    const incoming = asObject(body, type);
    if (incoming.metadata.name !== undefined && incoming.metadata.name !== name) {
      throw failure(
        400,
        `the name of the object (${incoming.metadata.name}) does not match the name on the URL (${name})`,
      );
    }
    const wantedRv = incoming.metadata.resourceVersion;
    if (type.updateNeedsVersion && (wantedRv === undefined || wantedRv === ""))
      throw versionRequired(type, name);
    if (
      wantedRv !== undefined &&
      wantedRv !== "" &&
      wantedRv !== current.metadata.resourceVersion
    ) {
      throw conflict(type, name);
    }
    let next: KubeObject;
    if (subresource === "status") {
      // A copy from the cached JSON: cheaper than structuredClone, and stored objects
      // are never changed in place, so the text is always current.
      next = { ...(JSON.parse(objectJson(current)) as KubeObject), status: incoming.status };
      if (!type.crd && type.group === "") {
        // Core kinds predate the rule that /status leaves metadata alone: a status write
        // to a Service or Pod also keeps its labels, annotations and finalizers.
        // Custom resources (and newer kinds) ignore metadata there.
        for (const field of ["labels", "annotations", "finalizers", "ownerReferences"] as const) {
          if (incoming.metadata[field] === undefined) delete next.metadata[field];
          else next.metadata[field] = structuredClone(incoming.metadata[field]) as never;
        }
      }
    } else {
      next = incoming;
      if (type.statusSubresource) next.status = structuredClone(current.status);
      // Identity and bookkeeping are the server's, whatever the client sent.
      next.metadata = {
        ...incoming.metadata,
        name,
        uid: current.metadata.uid,
        creationTimestamp: current.metadata.creationTimestamp,
        ...(current.metadata.generation !== undefined
          ? { generation: current.metadata.generation }
          : {}),
        ...(current.metadata.deletionTimestamp
          ? { deletionTimestamp: current.metadata.deletionTimestamp }
          : {}),
      };
      if (type.namespaced) next.metadata.namespace = namespace;
      else delete next.metadata.namespace;
    }
    next.apiVersion = apiVersionOf(type);
    next.kind = type.kind;
    dropEmptyMetadata(next.metadata);
    admit(type, next, current, this.admission(url, subresource === "status"));
    const nextSpec = current.metadata.generation === undefined ? undefined : specOf(next);
    if (nextSpec !== undefined && nextSpec !== storedSpecOf(current))
      next.metadata.generation = Number(current.metadata.generation) + 1;
    delete next.metadata.resourceVersion;

    const { resourceVersion: _rv, ...currentMetadata } = current.metadata;
    // A no-op write makes no new version and no event, as in Kubernetes.
    if (
      isDeepStrictEqual(
        { ...next, metadata: next.metadata },
        { ...current, metadata: currentMetadata },
      )
    )
      return current;
    if (next.metadata.deletionTimestamp && !(next.metadata.finalizers ?? []).length) {
      return this.removeNow(type, next);
    }
    const stored = this.commit(type, next, "MODIFIED");
    if (nextSpec !== undefined) storedSpecs.set(stored, nextSpec);
    return stored;
  }

  /** Deletes now, or marks for deletion while finalizers hold the object. */
  delete(
    type: ResourceType,
    namespace: string | undefined,
    name: string,
    preconditions: Preconditions | undefined,
  ): KubeObject {
    const current = this.store.get(resourceKey(type), namespace, name);
    if (!current) throw notFound(type, name);
    if (
      (preconditions?.uid && preconditions.uid !== current.metadata.uid) ||
      (preconditions?.resourceVersion &&
        preconditions.resourceVersion !== current.metadata.resourceVersion)
    ) {
      throw conflict(type, name);
    }
    if ((current.metadata.finalizers ?? []).length > 0) {
      if (current.metadata.deletionTimestamp) return current;
      // Finalizers hold the object until their owners remove them.
      const marked = structuredClone(current);
      marked.metadata.deletionTimestamp = now();
      marked.metadata.deletionGracePeriodSeconds = 0;
      if (this.dryRunning) return marked;
      return this.store.write(resourceKey(type), marked, "MODIFIED");
    }
    return this.removeNow(type, current);
  }

  /** DELETE on a collection: every object its selectors match. */
  deleteCollection(
    type: ResourceType,
    namespace: string | undefined,
    selectors: Selector[],
  ): KubeObject[] {
    return this.store
      .list(resourceKey(type), namespace)
      .filter((object) => selectors.every((s) => s.matches(object)))
      .map((object) =>
        this.delete(type, object.metadata.namespace, object.metadata.name, undefined),
      );
  }

  /**
   * Stores an object as given, skipping defaulting and validation, as if it had reached
   * etcd some other way.
   */
  putUnvalidated(type: ResourceType, object: Record<string, unknown>): KubeObject {
    const metadata = (object.metadata ?? {}) as KubeObject["metadata"];
    const current = this.store.get(resourceKey(type), metadata.namespace, metadata.name);
    return this.store.write(
      resourceKey(type),
      {
        ...structuredClone(object),
        apiVersion: apiVersionOf(type),
        kind: type.kind,
        metadata: {
          uid: current?.metadata.uid ?? randomUUID(),
          creationTimestamp: current?.metadata.creationTimestamp ?? now(),
          generation: Number(current?.metadata.generation ?? 0) + 1,
          ...metadata,
        },
      },
      current ? "MODIFIED" : "ADDED",
    );
  }

  /** Stores a write; a CRD's resources are served as it now declares them, from this moment. */
  private commit(type: ResourceType, object: KubeObject, change: "ADDED" | "MODIFIED"): KubeObject {
    if (this.dryRunning) return object;
    const stored = this.store.write(resourceKey(type), object, change);
    if (type.kind === "CustomResourceDefinition") this.registry.serveCrd(stored);
    return stored;
  }

  private removeNow(type: ResourceType, object: KubeObject): KubeObject {
    if (this.dryRunning) return object;
    if (type.kind === "Namespace") {
      // The namespace controller's job, done at once: everything in it goes first.
      for (const other of this.registry.all()) {
        if (!other.namespaced) continue;
        for (const inside of this.store.list(resourceKey(other), object.metadata.name)) {
          this.removeNow(other, inside);
        }
      }
    }
    if (type.kind === "Service") this.services.release(object);
    if (type.kind === "CustomResourceDefinition") {
      // Its objects go with it (and their watchers see them deleted).
      for (const withdrawn of this.registry.withdrawCrd(object.metadata.name)) {
        const key = resourceKey(withdrawn);
        for (const dependent of this.store.list(key))
          this.store.remove(key, dependent.metadata.namespace, dependent.metadata.name);
      }
    }
    return (
      this.store.remove(resourceKey(type), object.metadata.namespace, object.metadata.name) ??
      object
    );
  }

  private admission(url: URL | undefined, statusWrite = false): Admission {
    return {
      statusWrite,
      services: this.services,
      crdType: this.registry.get("apiextensions.k8s.io", "v1", "customresourcedefinitions")!,
      fieldValidation: url?.searchParams.get("fieldValidation") ?? "Warn",
    };
  }

  private namespaceType(): ResourceType {
    return this.registry.get("", "v1", "namespaces")!;
  }
}

function asObject(body: unknown, type: ResourceType): KubeObject {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw failure(400, `the request body must be a ${type.kind} object`);
  }
  const object = body as KubeObject;
  if (object.kind !== undefined && object.kind !== type.kind) {
    throw failure(
      400,
      `the body is a ${String(object.kind)}, but this endpoint serves ${type.kind}`,
    );
  }
  if (object.apiVersion !== undefined && object.apiVersion !== apiVersionOf(type)) {
    throw failure(
      400,
      `the body has apiVersion ${String(object.apiVersion)}, but this endpoint serves ${apiVersionOf(type)}`,
    );
  }
  object.metadata = (
    typeof object.metadata === "object" && object.metadata !== null ? object.metadata : {}
  ) as KubeObject["metadata"];
  return object;
}

/**
 * As the API server stores metadata: empty labels, annotations, finalizers and owner
 * references are left out (Go's omitempty), so that a JSON patch can no more add to an
 * empty `labels` here than there.
 */
function dropEmptyMetadata(metadata: KubeObject["metadata"]): void {
  for (const field of ["labels", "annotations", "finalizers", "ownerReferences"]) {
    const value = metadata[field];
    if (typeof value === "object" && value !== null && Object.keys(value).length === 0)
      delete metadata[field];
  }
}

function isName(name: string): boolean {
  return name.length <= 253 && NAME.test(name);
}

/** Everything but metadata and status: what `generation` counts changes of. */
function specOf(object: KubeObject): string {
  const { metadata: _metadata, status: _status, ...rest } = object;
  return JSON.stringify(rest);
}

// Stored objects never change in place, so the spec text of one is kept from the write
// that stored it: every write compares the new spec with the stored one's.
const storedSpecs = new WeakMap<KubeObject, string>();
function storedSpecOf(object: KubeObject): string {
  let text = storedSpecs.get(object);
  if (text === undefined) storedSpecs.set(object, (text = specOf(object)));
  return text;
}
