// `herald migrate --from metallb`: metallb.io objects and the legacy ConfigMap.
import { servicesNote } from "./annotations.ts";
import { originOf, type Findings, type SourceObject } from "./findings.ts";
import { convertMetalLB } from "./metallb-convert.ts";
import { readMetalLBObject } from "./metallb-crds.ts";
import { isLegacyConfigMap, readLegacyConfigMap } from "./metallb-legacy.ts";
import { emptyConfig } from "./metallb-model.ts";
import type { Output } from "./output.ts";
import { groupOf, type PeerConverter } from "./peer.ts";

/** metallb.io kinds that are status or the operator's own, not configuration to convert. */
const NOT_CONFIGURATION = new Set([
  "ServiceL2Status",
  "ServiceBGPStatus",
  "ConfigurationState",
  "BGPSessionState",
  "MetalLB",
]);

export const metallb: PeerConverter = {
  title: "MetalLB",
  claims: (object) => groupOf(object) === "metallb.io" || isLegacyConfigMap(object),
  convert(items: readonly SourceObject[], findings: Findings, output: Output): void {
    const config = emptyConfig();
    // Community aliases may be defined after the advertisements that use them.
    for (const item of items) {
      if (isLegacyConfigMap(item.object)) {
        readLegacyConfigMap(item, config, findings);
      } else if (!readMetalLBObject(item, config, findings)) {
        const origin = originOf(item);
        if (NOT_CONFIGURATION.has(origin.kind)) {
          findings.note(origin, undefined, "is status, not configuration; ignored");
        } else {
          findings.warn(origin, undefined, "has no Herald equivalent; not converted");
        }
      }
    }
    convertMetalLB(config, output);
  },
  servicesNote: servicesNote(
    ["metallb.io/", "metallb.universe.tf/"],
    "a Service with a loadBalancerClass other than herald.dev/herald (MetalLB's --lb-class) is left alone, and the class cannot be changed on a live Service",
  ),
};
