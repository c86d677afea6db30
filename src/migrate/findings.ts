// What a migration tells its user besides the objects it writes: one finding per field or
// object that has no Herald equivalent (a warning), or per thing worth knowing (a note).

/** One Kubernetes object as read from the input, with where it came from. */
export interface SourceObject {
  readonly object: Record<string, unknown>;
  /** "file.yaml (document 2)", for messages. */
  readonly source: string;
}

/** The peer object a finding is about: where it was read and what it is. */
export interface Origin {
  /** "pools.yaml (document 2)". */
  readonly source: string;
  /** "IPAddressPool", "ConfigMap". */
  readonly kind: string;
  /** "metallb-system/prod", or "prod" for cluster-scoped objects. */
  readonly name: string;
}

export type Severity = "warning" | "note";

export interface Finding {
  readonly severity: Severity;
  readonly origin: Origin | undefined;
  /** "spec.serviceAllocation.serviceSelectors", when the finding is about one field. */
  readonly field: string | undefined;
  readonly message: string;
}

/** Collects findings in the order they are made, which is the order of the input. */
export class Findings {
  readonly list: Finding[] = [];

  /** Something is not converted, or Herald behaves differently: `--strict` fails on these. */
  warn(origin: Origin | undefined, field: string | undefined, message: string): void {
    this.#add({ severity: "warning", origin, field, message });
  }

  note(origin: Origin | undefined, field: string | undefined, message: string): void {
    this.#add({ severity: "note", origin, field, message });
  }

  /** A finding made twice (a setting shared by several sessions) is said once. */
  #add(finding: Finding): void {
    const same = (f: Finding) =>
      f.severity === finding.severity &&
      f.field === finding.field &&
      f.message === finding.message &&
      f.origin?.source === finding.origin?.source &&
      f.origin?.name === finding.origin?.name;
    if (!this.list.some(same)) this.list.push(finding);
  }

  get warnings(): number {
    return this.list.filter((finding) => finding.severity === "warning").length;
  }
}

export function originOf(item: SourceObject): Origin {
  const metadata = (item.object.metadata ?? {}) as { name?: unknown; namespace?: unknown };
  const name = typeof metadata.name === "string" && metadata.name ? metadata.name : "(no name)";
  const namespace = typeof metadata.namespace === "string" ? metadata.namespace : "";
  return {
    source: item.source,
    kind: typeof item.object.kind === "string" ? item.object.kind : "(no kind)",
    name: namespace ? `${namespace}/${name}` : name,
  };
}

/** "warning: pools.yaml (document 2): IPAddressPool metallb-system/prod: spec.x: message" */
export function formatFinding(finding: Finding): string {
  const parts: string[] = [finding.severity];
  if (finding.origin) {
    parts.push(finding.origin.source, `${finding.origin.kind} ${finding.origin.name}`);
  }
  if (finding.field) parts.push(finding.field);
  return `${parts.join(": ")}: ${finding.message}`;
}

export interface SourceMetadata {
  readonly name: string | undefined;
  readonly namespace: string | undefined;
  readonly labels: Record<string, string>;
  readonly annotations: Record<string, string>;
}

/** The metadata converters use, with anything that is not a string left out. */
export function metadataOf(item: SourceObject): SourceMetadata {
  const metadata = (item.object.metadata ?? {}) as Record<string, unknown>;
  const text = (value: unknown) => (typeof value === "string" && value !== "" ? value : undefined);
  const strings = (value: unknown) =>
    Object.fromEntries(
      Object.entries(typeof value === "object" && value !== null ? value : {}).filter(
        (entry): entry is [string, string] => typeof entry[1] === "string",
      ),
    );
  return {
    name: text(metadata.name),
    namespace: text(metadata.namespace),
    labels: strings(metadata.labels),
    annotations: strings(metadata.annotations),
  };
}
