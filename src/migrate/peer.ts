// What each peer's converter provides to `migrate`.
import type { Findings, SourceObject } from "./findings.ts";
import type { Output } from "./output.ts";

export interface PeerConverter {
  /** "MetalLB", as the peer writes its name. */
  readonly title: string;
  /** Whether an object is this peer's (its API group, or MetalLB's legacy ConfigMap). */
  claims(object: Record<string, unknown>): boolean;
  /** Converts the claimed objects, in input order, into `output`. */
  convert(items: readonly SourceObject[], findings: Findings, output: Output): void;
  /** What Herald does with the Services this peer served, said once per migration. */
  readonly servicesNote: string;
}

/** apiVersion's group: "metallb.io" for "metallb.io/v1beta1", "" for "v1". */
export function groupOf(object: Record<string, unknown>): string {
  const apiVersion = typeof object.apiVersion === "string" ? object.apiVersion : "";
  const slash = apiVersion.indexOf("/");
  return slash < 0 ? "" : apiVersion.slice(0, slash);
}
