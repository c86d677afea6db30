// When two services may hold the same address (DESIGN §4.6, as MetalLB users know it):
// the same non-empty sharing key, no protocol+port used twice, the same
// externalTrafficPolicy, and for Local the same pods — traffic for a shared address
// reaches one node, which must serve every service on it.
import type { SharingTerms } from "./request.ts";

export interface Holder {
  readonly service: string;
  readonly terms: SharingTerms;
}

/** Why `terms` may not join the holders of an address, or undefined when it may. */
export function sharingRefusal(holders: Iterable<Holder>, terms: SharingTerms): string | undefined {
  for (const holder of holders) {
    const other = holder.terms;
    if (terms.key === undefined || other.key === undefined) {
      return `it is held by ${holder.service}; services share an address only when both carry the same sharing key`;
    }
    if (terms.key !== other.key) {
      return `it is held by ${holder.service}, whose sharing key is "${other.key}", not "${terms.key}"`;
    }
    const clash = terms.ports.find((port) => other.ports.includes(port));
    if (clash !== undefined) return `it is held by ${holder.service}, which also uses ${clash}`;
    if (terms.trafficPolicy !== other.trafficPolicy) {
      return `it is held by ${holder.service} with externalTrafficPolicy ${other.trafficPolicy}; sharing services need the same policy`;
    }
    if (terms.trafficPolicy === "Local" && terms.selector !== other.selector) {
      return `it is held by ${holder.service}, which selects other pods; services sharing an address with externalTrafficPolicy Local must select the same pods`;
    }
  }
  return undefined;
}
