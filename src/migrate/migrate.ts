// `herald migrate`: a peer's configuration in, Herald's objects and findings out. Pure: the
// CLI reads the files and prints the result.
import { cilium } from "./cilium.ts";
import { Findings, originOf, type Finding, type SourceObject } from "./findings.ts";
import { metallb } from "./metallb.ts";
import { openelb } from "./openelb.ts";
import { Output, type HeraldObject } from "./output.ts";
import type { PeerConverter } from "./peer.ts";
import { purelb } from "./purelb.ts";

export const PEERS = ["metallb", "purelb", "openelb", "cilium"] as const;

export type PeerName = (typeof PEERS)[number];

const CONVERTERS: Readonly<Record<PeerName, PeerConverter>> = { metallb, purelb, openelb, cilium };

export interface MigrationResult {
  /** "MetalLB". */
  readonly title: string;
  /** Herald's objects in the order to apply them. */
  readonly objects: HeraldObject[];
  readonly findings: Finding[];
  /** How many input objects were the peer's; 0 means there was nothing to migrate. */
  readonly claimed: number;
}

export function migrate(peer: PeerName, items: readonly SourceObject[]): MigrationResult {
  const converter = CONVERTERS[peer];
  const findings = new Findings();
  const claimed = items.filter((item) => converter.claims(item.object));
  for (const item of items) {
    if (converter.claims(item.object)) continue;
    const origin = originOf(item);
    const apiVersion = typeof item.object.apiVersion === "string" ? item.object.apiVersion : "";
    findings.note(
      origin,
      undefined,
      `is not ${converter.title} configuration${apiVersion ? ` (${apiVersion})` : ""}; ignored`,
    );
  }
  const output = new Output(converter.title, findings);
  if (claimed.length > 0) {
    converter.convert(claimed, findings, output);
    findings.note(undefined, undefined, converter.servicesNote);
  }
  return {
    title: converter.title,
    objects: output.objects(),
    findings: inInputOrder(findings.list, items),
    claimed: claimed.length,
  };
}

/**
 * Findings sorted by the input object they are about (stable, so each object's findings
 * keep their order); findings about the whole migration come last. Converters find things
 * in two passes (reading, then relating objects), and a reader wants them per object.
 */
function inInputOrder(list: readonly Finding[], items: readonly SourceObject[]): Finding[] {
  const position = new Map(items.map((item, i) => [item.source, i]));
  const rank = (finding: Finding) =>
    finding.origin ? (position.get(finding.origin.source) ?? items.length) : items.length + 1;
  return [...list].sort((a, b) => rank(a) - rank(b));
}
