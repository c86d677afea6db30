// Turns the API objects the agent watches into the plain data the announcement rules take.
// Pure: no client, no cache; the agent hands in what its informers hold.
import type { AgentConfigSpec } from "../api/agentconfig.ts";
import type { BGPAdvertisementSpec } from "../api/bgpadvertisement.ts";
import type { BGPPeerSpec } from "../api/bgppeer.ts";
import type { NodeStateStatus } from "../api/nodestate.ts";
import type { Labels } from "../api/selector.ts";
import type { ServiceObject } from "../api/service.ts";
import { formatAddress } from "../ip.ts";
import type { Pool } from "../ipam/pool.ts";
import { readService } from "../ipam/request.ts";
import type { EndpointInfo, NodeInfo, PoolInfo, ServiceInfo } from "./announcements.ts";

/** The fields of a core/v1 Node the agent reads. */
export interface NodeObject {
  metadata?: {
    name?: string;
    uid?: string;
    labels?: Record<string, string>;
    deletionTimestamp?: string | Date;
  };
  spec?: { unschedulable?: boolean; taints?: { key?: string; effect?: string }[] };
  status?: {
    conditions?: { type?: string; status?: string }[];
    addresses?: { type?: string; address?: string }[];
  };
}

/** The fields of a discovery.k8s.io/v1 EndpointSlice the agent reads. */
export interface EndpointSliceObject {
  metadata?: { namespace?: string; labels?: Record<string, string> };
  endpoints?: {
    nodeName?: string;
    conditions?: { ready?: boolean | null; serving?: boolean | null; terminating?: boolean | null };
  }[];
}

/** The objects the agent's other informers hold, as far as it reads them. */
interface Named {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string; labels?: Labels };
}
export type AgentConfigObject = Named & { spec?: AgentConfigSpec };
export type NodeStateObject = Named & {
  metadata?: { annotations?: Record<string, string> };
  status?: NodeStateStatus;
};
export type SecretObject = Named & { data?: Record<string, string> };
export type ConfigMapObject = Named & { data?: Record<string, string> };
export type PoolObject = Named & { spec?: { interfaces?: unknown } };
export type BGPPeerObject = Named & { spec?: BGPPeerSpec };
export type BGPAdvertisementObject = Named & { spec?: BGPAdvertisementSpec };

/** The label that ties an EndpointSlice to its Service. */
export const SERVICE_NAME_LABEL = "kubernetes.io/service-name";

/**
 * Taints that say a node is about to go: Kubernetes' own for a node shut down without
 * grace, the cluster autoscaler's and Karpenter's before they remove one.
 */
export const LEAVING_TAINTS = [
  "node.kubernetes.io/out-of-service",
  "ToBeDeletedByClusterAutoscaler",
  "karpenter.sh/disrupted",
] as const;

/**
 * Why a node is going away, from its Node object, or undefined. `cordon`: whether a
 * cordoned node counts (AgentConfig maintenance.handoverOnCordon).
 */
export function nodeLeaving(node: NodeObject, cordon: boolean): string | undefined {
  if (node.metadata?.deletionTimestamp) return "its Node is being deleted";
  const taint = node.spec?.taints?.find((t) =>
    (LEAVING_TAINTS as readonly string[]).includes(t.key ?? ""),
  );
  if (taint) return `tainted ${taint.key}`;
  if (cordon && node.spec?.unschedulable) return "cordoned";
  return undefined;
}

/** The fields of an apps/v1 DaemonSet the agent reads (its own, on SIGTERM). */
export interface DaemonSetObject {
  metadata?: { name?: string; deletionTimestamp?: string | Date };
  spec?: { template?: { spec?: { nodeSelector?: Record<string, string> } } };
}

/**
 * What the agent's own DaemonSet says about a SIGTERM: "uninstall" when it is gone or
 * being deleted (no agent will come back on any node: withdraw everything), "leaving"
 * when it no longer selects this node (no replacement comes here: hand over), else
 * undefined (a rolling update: a new agent follows).
 */
export function daemonSetVerdict(
  daemonSet: DaemonSetObject | null,
  name: string,
  node: NodeObject | undefined,
): { uninstall: string } | { leaving: string } | undefined {
  if (daemonSet === null) return { uninstall: `DaemonSet ${name} is gone` };
  if (daemonSet.metadata?.deletionTimestamp)
    return { uninstall: `DaemonSet ${name} is being deleted` };
  const selector = daemonSet.spec?.template?.spec?.nodeSelector ?? {};
  const labels = node?.metadata?.labels ?? {};
  const unmatched = Object.entries(selector).find(([key, value]) => labels[key] !== value);
  if (unmatched)
    return {
      leaving: `DaemonSet ${name} no longer selects this node (${unmatched[0]}=${unmatched[1]})`,
    };
  return undefined;
}

export function nodeInfo(
  node: NodeObject,
  options: { handoverOnCordon: boolean } = { handoverOnCordon: true },
): NodeInfo | undefined {
  const name = node.metadata?.name;
  if (!name) return undefined;
  const condition = (type: string) => node.status?.conditions?.find((c) => c.type === type)?.status;
  const leaving = nodeLeaving(node, options.handoverOnCordon);
  return {
    name,
    labels: (node.metadata?.labels ?? {}) as Labels,
    ready: condition("Ready") === "True",
    networkUnavailable: condition("NetworkUnavailable") === "True",
    ...(leaving ? { leaving } : {}),
  };
}

/** A node's InternalIP addresses: where its agent's failure detector listens. */
export function nodeInternalAddresses(node: NodeObject): { ipv4?: string; ipv6?: string } {
  const found: { ipv4?: string; ipv6?: string } = {};
  for (const entry of node.status?.addresses ?? []) {
    if (entry.type !== "InternalIP" || !entry.address) continue;
    if (entry.address.includes(":")) found.ipv6 ??= entry.address;
    else found.ipv4 ??= entry.address;
  }
  return found;
}

/**
 * Endpoints per service ("namespace/name"), merged over the service's slices. An endpoint
 * serves when `serving` says so; slices from before that field use `ready`, and Kubernetes
 * reads a missing `ready` as true.
 */
export function endpointsByService(
  slices: readonly EndpointSliceObject[],
): Map<string, EndpointInfo[]> {
  const result = new Map<string, EndpointInfo[]>();
  for (const slice of slices) {
    const service = slice.metadata?.labels?.[SERVICE_NAME_LABEL];
    if (!service) continue;
    const key = `${slice.metadata?.namespace || "default"}/${service}`;
    const list = result.get(key) ?? [];
    for (const endpoint of slice.endpoints ?? []) {
      const conditions = endpoint.conditions ?? {};
      list.push({
        nodeName: endpoint.nodeName,
        serving: conditions.serving ?? conditions.ready ?? true,
      });
    }
    result.set(key, list);
  }
  return result;
}

/**
 * A LoadBalancer service of ours that holds addresses, or undefined. The rules for "ours"
 * and "held" are the controller's own (readService), so agent and controller never
 * disagree about which services count.
 */
export function serviceInfo(
  service: ServiceObject,
  endpoints: ReadonlyMap<string, EndpointInfo[]>,
  classOnly: boolean,
): ServiceInfo | undefined {
  const request = readService(service, { classOnly });
  if (request.ignored !== undefined || request.held.length === 0) return undefined;
  return {
    key: request.key,
    addresses: request.held.map(formatAddress),
    trafficPolicy: request.sharing.trafficPolicy,
    endpoints: endpoints.get(request.key) ?? [],
  };
}

/**
 * What the announcement rules need of a pool; its own interface regexes win over
 * AgentConfig's. Invalid regexes are left out (the agent reports them): one typo must not
 * stop every address of the pool, and with none valid, addresses go by subnet.
 */
export function poolInfo(
  pool: Pool,
  defaultInterfaces: readonly string[],
  isValid: (regex: string) => boolean,
): PoolInfo {
  const own = (pool.spec.interfaces ?? []).filter(isValid);
  return {
    name: pool.name,
    announce: pool.announce,
    nodeSelector: pool.spec.nodeSelector,
    interfaces: own.length > 0 ? own : defaultInterfaces,
    aggregation: pool.aggregation,
  };
}
