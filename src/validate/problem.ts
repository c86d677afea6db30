// What `herald validate` reports: one problem per finding, tied to the document and the
// object it is about, so a person (or CI) can go straight to the line to change.

/** error: the cluster would refuse the object or the controller would not do what it says. */
export type Severity = "error" | "warning";

export interface Problem {
  readonly severity: Severity;
  /** Where the object came from: "pools.yaml (document 2)". */
  readonly source: string;
  /** The object's kind, "" when the document is not an object at all. */
  readonly kind: string;
  /** metadata.name, "namespace/name" for namespaced kinds, "" when it has none. */
  readonly name: string;
  /** Field path in the API server's form ("spec.addresses[0]"); "" for the object as a whole. */
  readonly field: string;
  readonly message: string;
}

/** The object a check talks about. */
export interface Subject {
  readonly source: string;
  readonly kind: string;
  readonly name: string;
}

export function problemOf(
  severity: Severity,
  subject: Subject,
  field: string,
  message: string,
): Problem {
  return {
    severity,
    source: subject.source,
    kind: subject.kind,
    name: subject.name,
    field,
    message,
  };
}

export const errorAt = (subject: Subject, field: string, message: string): Problem =>
  problemOf("error", subject, field, message);

export const warningAt = (subject: Subject, field: string, message: string): Problem =>
  problemOf("warning", subject, field, message);

// A field path at the start of a message, as ipam and selector checks write them:
// `spec.addresses[0] "x" is reversed`, `spec.aggregation.ipv4: /24 is …`.
const LEADING_FIELD =
  /^([A-Za-z][A-Za-z0-9]*(?:\[[^\]\s]+\])*(?:\.[A-Za-z][A-Za-z0-9]*(?:\[[^\]\s]+\])*)*)(?::\s*|\s+)/;

/** Splits "spec.x.y: message" (or "spec.x[0] message") into its field and the rest. */
export function splitField(text: string): { field: string; message: string } {
  const match = LEADING_FIELD.exec(text);
  if (!match || !match[1]!.includes(".")) return { field: "", message: text };
  return { field: match[1]!, message: text.slice(match[0].length) };
}
