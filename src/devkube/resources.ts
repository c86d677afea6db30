// The resources devkube serves: the built-in kinds Herald and the lab use, and those that
// CustomResourceDefinitions add at run time.
import type { CompiledSchema } from "../schema/schema.ts";

export interface PrinterColumn {
  name: string;
  type: string;
  jsonPath: string;
  description?: string;
  priority?: number;
  format?: string;
}

export interface ResourceType {
  group: string; // "" for the core group
  version: string;
  kind: string;
  listKind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  categories: string[];
  namespaced: boolean;
  /** Serves /status, which changes status only; the main resource then ignores status. */
  statusSubresource: boolean;
  /** Field selectors beyond metadata.name and metadata.namespace. */
  selectableFields: string[];
  printerColumns: PrinterColumn[];
  // What the kind's strategy in kube-apiserver decides, which differs from kind to kind:
  /** Sets metadata.generation and counts spec changes in it (Pods, workloads, CRDs, CRs). */
  generation?: boolean;
  /** A PUT to a missing object creates it (Leases, Events, RBAC); others get 404. */
  createOnUpdate?: boolean;
  /** A PUT must name the resourceVersion it replaces (Leases, CRDs, CRs); others may omit it. */
  updateNeedsVersion?: boolean;
  /** Time fields ("firstTimestamp", "status.conditions[].lastTransitionTime"): to the second. */
  timeFields?: string[];
  /** MicroTime fields ("spec.renewTime"): six fractional digits, stored in UTC. */
  microTimeFields?: string[];
  /** Custom resources: the compiled schema of this version, and its source for OpenAPI. */
  schema?: CompiledSchema;
  openApiSchema?: unknown;
  /** The CRD that defines it. */
  crd?: string;
}

/** "group/version/plural", the key of a resource in the store. */
export function resourceKey(type: Pick<ResourceType, "group" | "version" | "plural">): string {
  return `${type.group}/${type.version}/${type.plural}`;
}

export function apiVersionOf(type: Pick<ResourceType, "group" | "version">): string {
  return type.group === "" ? type.version : `${type.group}/${type.version}`;
}

function builtIn(
  group: string,
  version: string,
  kind: string,
  plural: string,
  options: Partial<ResourceType> = {},
): ResourceType {
  return {
    group,
    version,
    kind,
    listKind: `${kind}List`,
    plural,
    singular: kind.toLowerCase(),
    shortNames: [],
    categories: [],
    namespaced: true,
    statusSubresource: false,
    selectableFields: [],
    printerColumns: [],
    ...options,
  };
}

const AGE: PrinterColumn = { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" };

export const BUILT_IN_RESOURCES: readonly ResourceType[] = [
  builtIn("", "v1", "Namespace", "namespaces", {
    shortNames: ["ns"],
    namespaced: false,
    statusSubresource: true,
    selectableFields: ["status.phase"],
    printerColumns: [{ name: "Status", type: "string", jsonPath: ".status.phase" }, AGE],
  }),
  builtIn("", "v1", "Service", "services", {
    shortNames: ["svc"],
    categories: ["all"],
    statusSubresource: true,
    timeFields: ["status.conditions[].lastTransitionTime"],
    selectableFields: ["spec.type", "spec.clusterIP"],
    printerColumns: [
      { name: "Type", type: "string", jsonPath: ".spec.type" },
      { name: "Cluster-IP", type: "string", jsonPath: ".spec.clusterIP" },
      { name: "External-IP", type: "string", jsonPath: ".status.loadBalancer.ingress[*].ip" },
      { name: "Port(s)", type: "string", jsonPath: ".spec.ports[*].port" },
      AGE,
    ],
  }),
  builtIn("", "v1", "Node", "nodes", {
    shortNames: ["no"],
    namespaced: false,
    statusSubresource: true,
    selectableFields: ["spec.unschedulable"],
    printerColumns: [
      {
        name: "Status",
        type: "string",
        jsonPath: '.status.conditions[?(@.type=="Ready")].status',
      },
      AGE,
    ],
  }),
  builtIn("", "v1", "Pod", "pods", {
    shortNames: ["po"],
    generation: true,
    categories: ["all"],
    statusSubresource: true,
    selectableFields: ["spec.nodeName", "status.phase", "status.podIP", "spec.serviceAccountName"],
    printerColumns: [
      { name: "Status", type: "string", jsonPath: ".status.phase" },
      { name: "IP", type: "string", jsonPath: ".status.podIP" },
      { name: "Node", type: "string", jsonPath: ".spec.nodeName" },
      AGE,
    ],
  }),
  builtIn("", "v1", "Secret", "secrets", {
    selectableFields: ["type"],
    printerColumns: [{ name: "Type", type: "string", jsonPath: ".type" }, AGE],
  }),
  builtIn("", "v1", "ConfigMap", "configmaps", { shortNames: ["cm"], printerColumns: [AGE] }),
  builtIn("", "v1", "Event", "events", {
    shortNames: ["ev"],
    createOnUpdate: true,
    timeFields: ["firstTimestamp", "lastTimestamp"],
    microTimeFields: ["eventTime", "series.lastObservedTime"],
    selectableFields: [
      "involvedObject.kind",
      "involvedObject.namespace",
      "involvedObject.name",
      "involvedObject.uid",
      "reason",
      "type",
      "source",
    ],
    printerColumns: [
      { name: "Type", type: "string", jsonPath: ".type" },
      { name: "Reason", type: "string", jsonPath: ".reason" },
      { name: "Object", type: "string", jsonPath: ".involvedObject.name" },
      { name: "Message", type: "string", jsonPath: ".message" },
    ],
  }),
  builtIn("events.k8s.io", "v1", "Event", "events", {
    shortNames: ["ev"],
    createOnUpdate: true,
    timeFields: ["deprecatedFirstTimestamp", "deprecatedLastTimestamp"],
    microTimeFields: ["eventTime", "series.lastObservedTime"],
    selectableFields: ["regarding.kind", "regarding.namespace", "regarding.name", "reason", "type"],
    printerColumns: [
      { name: "Type", type: "string", jsonPath: ".type" },
      { name: "Reason", type: "string", jsonPath: ".reason" },
      { name: "Note", type: "string", jsonPath: ".note" },
    ],
  }),
  builtIn("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", {
    generation: true,
    printerColumns: [
      { name: "AddressType", type: "string", jsonPath: ".addressType" },
      { name: "Endpoints", type: "string", jsonPath: ".endpoints[*].addresses[0]" },
      AGE,
    ],
  }),
  builtIn("coordination.k8s.io", "v1", "Lease", "leases", {
    createOnUpdate: true,
    updateNeedsVersion: true,
    microTimeFields: ["spec.acquireTime", "spec.renewTime"],
    printerColumns: [{ name: "Holder", type: "string", jsonPath: ".spec.holderIdentity" }, AGE],
  }),
  // Stored, not modelled: what Herald's install manifests (deploy/) create besides its own
  // kinds, so that `kubectl apply -f deploy/herald.yaml` works against devkube.
  builtIn("", "v1", "ServiceAccount", "serviceaccounts", {
    shortNames: ["sa"],
    printerColumns: [AGE],
  }),
  builtIn("apps", "v1", "Deployment", "deployments", {
    shortNames: ["deploy"],
    categories: ["all"],
    statusSubresource: true,
    generation: true,
    printerColumns: [
      { name: "Ready", type: "string", jsonPath: ".status.readyReplicas" },
      { name: "Replicas", type: "integer", jsonPath: ".spec.replicas" },
      AGE,
    ],
  }),
  builtIn("apps", "v1", "DaemonSet", "daemonsets", {
    shortNames: ["ds"],
    categories: ["all"],
    statusSubresource: true,
    generation: true,
    printerColumns: [
      { name: "Desired", type: "integer", jsonPath: ".status.desiredNumberScheduled" },
      { name: "Ready", type: "integer", jsonPath: ".status.numberReady" },
      AGE,
    ],
  }),
  builtIn("rbac.authorization.k8s.io", "v1", "Role", "roles", {
    createOnUpdate: true,
    printerColumns: [AGE],
  }),
  builtIn("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", {
    createOnUpdate: true,
    printerColumns: [{ name: "Role", type: "string", jsonPath: ".roleRef.name" }, AGE],
  }),
  builtIn("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", {
    namespaced: false,
    createOnUpdate: true,
    printerColumns: [AGE],
  }),
  builtIn("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", {
    namespaced: false,
    createOnUpdate: true,
    printerColumns: [{ name: "Role", type: "string", jsonPath: ".roleRef.name" }, AGE],
  }),
  // Stored, not enforced: devkube authorizes nothing (the real API server runs the policy).
  builtIn(
    "admissionregistration.k8s.io",
    "v1",
    "ValidatingAdmissionPolicy",
    "validatingadmissionpolicies",
    { namespaced: false, createOnUpdate: true, printerColumns: [AGE] },
  ),
  builtIn(
    "admissionregistration.k8s.io",
    "v1",
    "ValidatingAdmissionPolicyBinding",
    "validatingadmissionpolicybindings",
    { namespaced: false, createOnUpdate: true, printerColumns: [AGE] },
  ),
  builtIn("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions", {
    shortNames: ["crd", "crds"],
    namespaced: false,
    statusSubresource: true,
    generation: true,
    updateNeedsVersion: true,
    printerColumns: [{ name: "Created At", type: "date", jsonPath: ".metadata.creationTimestamp" }],
  }),
];

/** The parts of a CustomResourceDefinition devkube reads. */
export interface CrdObject {
  metadata?: { name?: string };
  spec?: {
    group?: string;
    scope?: string;
    names?: {
      kind?: string;
      listKind?: string;
      plural?: string;
      singular?: string;
      shortNames?: string[];
      categories?: string[];
    };
    versions?: {
      name?: string;
      served?: boolean;
      storage?: boolean;
      schema?: { openAPIV3Schema?: unknown };
      subresources?: { status?: unknown };
      additionalPrinterColumns?: PrinterColumn[];
      selectableFields?: { jsonPath: string }[];
    }[];
  };
}
