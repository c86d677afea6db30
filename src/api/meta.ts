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

/**
 * A time as metav1.Time writes it: RFC 3339 in UTC, to the second (fractions dropped, and
 * clients compare these strings). Accepts milliseconds since the epoch or a Date.
 */
export function rfc3339(time: number | Date): string {
  const seconds = Math.floor((typeof time === "number" ? time : time.getTime()) / 1000);
  if (seconds !== lastSecond.seconds)
    lastSecond = {
      seconds,
      text: new Date(seconds * 1000).toISOString().replace(/\.\d{3}Z$/, "Z"),
    };
  return lastSecond.text;
}

// The last second formatted: a burst of writes asks for the same one thousands of times.
let lastSecond = { seconds: NaN, text: "" };

/**
 * A condition's lastTransitionTime, as every Kubernetes condition keeps it: the previous one
 * while the status stays the same, `now` when it changes (or there was none).
 */
export function transitionTime(
  previous: { status?: string; lastTransitionTime?: string | Date } | undefined,
  status: string,
  now: number,
): string {
  return previous?.status === status && previous.lastTransitionTime
    ? typeof previous.lastTransitionTime === "string"
      ? previous.lastTransitionTime
      : rfc3339(previous.lastTransitionTime)
    : rfc3339(now);
}

export interface NamespaceObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
}
