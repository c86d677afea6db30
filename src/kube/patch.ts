// Patches Herald writes: Service status, and labels/annotations of any object.
//
// client-node v2's generated patch methods send `application/json-patch+json` unless told
// otherwise; the Content-Type is chosen per call with setHeaderOptions, whose middleware
// runs after the request is built and so overrides it.
import {
  PatchStrategy,
  setHeaderOptions,
  type ConfigurationOptions,
  type CoreV1Api,
  type KubernetesObject,
  type KubernetesObjectApi,
  type ObservableMiddleware,
  type V1Service,
  type V1ServiceStatus,
} from "@kubernetes/client-node";

export const mergePatch: ConfigurationOptions<ObservableMiddleware> = setHeaderOptions(
  "Content-Type",
  PatchStrategy.MergePatch,
);
export const jsonPatch: ConfigurationOptions<ObservableMiddleware> = setHeaderOptions(
  "Content-Type",
  PatchStrategy.JsonPatch,
);

/** RFC 6902 operations. `test` makes a patch conditional, like a resourceVersion would. */
export type JsonPatchOp =
  { op: "add" | "replace" | "test"; path: string; value: unknown } | { op: "remove"; path: string };

/** Keys to set; null removes the key (merge-patch semantics). */
export type MetadataChanges = Record<string, string | null>;

export interface PatchOptions {
  /** Recorded in managedFields, so `kubectl get -o yaml` shows who wrote what. */
  fieldManager?: string;
}

/** The merge patch that applies `labels` and `annotations` changes to an object's metadata. */
export function metadataPatch(changes: {
  labels?: MetadataChanges;
  annotations?: MetadataChanges;
}): { metadata: { labels?: MetadataChanges; annotations?: MetadataChanges } } {
  const metadata: { labels?: MetadataChanges; annotations?: MetadataChanges } = {};
  if (changes.labels !== undefined) metadata.labels = { ...changes.labels };
  if (changes.annotations !== undefined) metadata.annotations = { ...changes.annotations };
  return { metadata };
}

/**
 * Merge-patches a Service's status subresource. `status` replaces the fields it names;
 * lists (ingress, conditions) are replaced whole, as merge patch does.
 */
export function patchServiceStatus(
  core: CoreV1Api,
  namespace: string,
  name: string,
  status: V1ServiceStatus,
  opts: PatchOptions = {},
): Promise<V1Service> {
  return core.patchNamespacedServiceStatus(
    { namespace, name, body: { status }, fieldManager: opts.fieldManager },
    mergePatch,
  );
}

/** JSON-patches a Service's status subresource (for edits a merge patch cannot express). */
export function jsonPatchServiceStatus(
  core: CoreV1Api,
  namespace: string,
  name: string,
  ops: JsonPatchOp[],
  opts: PatchOptions = {},
): Promise<V1Service> {
  return core.patchNamespacedServiceStatus(
    { namespace, name, body: ops, fieldManager: opts.fieldManager },
    jsonPatch,
  );
}

/** Merge-patches a Service's labels and annotations. */
export function patchServiceMetadata(
  core: CoreV1Api,
  namespace: string,
  name: string,
  changes: { labels?: MetadataChanges; annotations?: MetadataChanges },
  opts: PatchOptions = {},
): Promise<V1Service> {
  return core.patchNamespacedService(
    { namespace, name, body: metadataPatch(changes), fieldManager: opts.fieldManager },
    mergePatch,
  );
}

/** The object a generic patch addresses. */
export interface ObjectRef {
  apiVersion: string;
  kind: string;
  name: string;
  /** Absent for cluster-scoped objects (Herald's own kinds). */
  namespace?: string;
}

/**
 * Merge-patches labels and annotations of any kind, custom resources included. The
 * KubernetesObjectApi finds the resource's path through discovery.
 */
export function patchObjectMetadata(
  objects: KubernetesObjectApi,
  ref: ObjectRef,
  changes: { labels?: MetadataChanges; annotations?: MetadataChanges },
  opts: PatchOptions = {},
): Promise<KubernetesObject> {
  const { metadata } = metadataPatch(changes);
  const spec = {
    apiVersion: ref.apiVersion,
    kind: ref.kind,
    metadata: {
      name: ref.name,
      ...(ref.namespace === undefined ? {} : { namespace: ref.namespace }),
      ...metadata,
    },
  };
  return objects.patch(
    spec as KubernetesObject,
    undefined,
    undefined,
    opts.fieldManager,
    undefined,
    PatchStrategy.MergePatch,
  );
}
