// `herald validate` without the I/O: documents in, every problem out, ordered as the input
// is, so the report reads top to bottom like the files.
import { checkAgentConfigs, routingMode } from "./agent-config.ts";
import { checkBGP } from "./bgp.ts";
import { namespaceLabels, takeInventory, type HeraldObject } from "./inventory.ts";
import type { Document } from "./manifests.ts";
import { checkPools } from "./pools.ts";
import type { Problem } from "./problem.ts";
import { checkServices } from "./services.ts";

export interface ValidationReport {
  readonly problems: Problem[];
  readonly errors: number;
  readonly warnings: number;
  /** Documents read, objects or not. */
  readonly documents: number;
}

export function validateDocuments(documents: readonly Document[]): ValidationReport {
  const inventory = takeInventory(documents);
  const ofKind = (kind: HeraldObject["kind"]) => inventory.herald.filter((o) => o.kind === kind);
  const addressPools = ofKind("AddressPool");
  const agentConfigs = ofKind("AgentConfig");
  const pools = checkPools(addressPools);
  const problems = [
    ...inventory.problems,
    ...pools.problems,
    ...checkAgentConfigs(agentConfigs),
    ...checkBGP({
      pools: addressPools,
      peers: ofKind("BGPPeer"),
      advertisements: ofKind("BGPAdvertisement"),
      secrets: inventory.secrets,
      routing: routingMode(agentConfigs),
    }),
    ...checkServices({
      services: inventory.services,
      namespaces: namespaceLabels(inventory),
      pools: pools.pools,
      hasPools: addressPools.length > 0,
    }),
  ];
  const order = new Map(documents.map((document, i) => [document.source, i]));
  // Array.prototype.sort is stable: within a document, problems keep the order of the checks.
  problems.sort((a, b) => (order.get(a.source) ?? -1) - (order.get(b.source) ?? -1));
  return {
    problems,
    errors: problems.filter((p) => p.severity === "error").length,
    warnings: problems.filter((p) => p.severity === "warning").length,
    documents: documents.length,
  };
}
