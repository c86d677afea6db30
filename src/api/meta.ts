// The parts of Kubernetes object metadata that Herald reads and writes.
import type { Labels } from "./selector.ts";

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  // client-node turns timestamps of typed objects into Dates; YAML and custom objects keep strings.
  creationTimestamp?: string | Date;
  labels?: Labels;
  annotations?: Readonly<Record<string, string>>;
}

/** metav1.Condition. */
export interface Condition {
  type: string;
  status: "True" | "False" | "Unknown";
  reason: string;
  message: string;
  lastTransitionTime?: string;
  observedGeneration?: number;
}

export interface NamespaceObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
}
