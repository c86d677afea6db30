// What Kubernetes' EndpointSlice controller would write for a Service, from the Service
// and the Pods of its namespace. Pure; endpoints-mirror.ts keeps the API in step with it.
//
// Followed from Kubernetes: one slice per IP family the Service has (spec.ipFamilies),
// a slice even with no endpoints, Running Pods with an IP only, terminating Pods kept
// with ready=false, and ports with the target port (named ones looked up in the Pod).
// Not followed: slices are not split at 100 endpoints, and names are fixed rather than
// generated — the lab never has that many Pods, and fixed names make updates simple.
import { familyOf } from "../ip.ts";

export const MANAGED_BY_LABEL = "endpointslice.kubernetes.io/managed-by";
export const MANAGED_BY = "herald-lab";
export const SERVICE_NAME_LABEL = "kubernetes.io/service-name";

export type AddressType = "IPv4" | "IPv6";

export interface ServiceLike {
  metadata?: { name?: string; namespace?: string; uid?: string; labels?: Record<string, string> };
  spec?: {
    type?: string;
    selector?: Record<string, string>;
    ipFamilies?: string[];
    ports?: {
      name?: string;
      protocol?: string;
      port: number;
      targetPort?: number | string;
      appProtocol?: string;
    }[];
  };
}

export interface PodLike {
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    labels?: Record<string, string>;
    deletionTimestamp?: string | Date;
  };
  spec?: {
    nodeName?: string;
    containers?: { ports?: { name?: string; containerPort: number; protocol?: string }[] }[];
  };
  status?: {
    phase?: string;
    podIP?: string;
    podIPs?: { ip: string }[];
    conditions?: { type: string; status: string }[];
  };
}

export interface EndpointSliceLike {
  apiVersion: "discovery.k8s.io/v1";
  kind: "EndpointSlice";
  metadata: {
    name: string;
    namespace: string;
    labels: Record<string, string>;
    resourceVersion?: string;
    ownerReferences?: unknown[];
  };
  addressType: AddressType;
  endpoints: {
    addresses: string[];
    conditions: { ready: boolean; serving: boolean; terminating: boolean };
    nodeName?: string;
    targetRef: { kind: "Pod"; namespace: string; name: string; uid?: string };
  }[];
  ports: { name?: string; protocol: string; port: number; appProtocol?: string }[];
}

/** The slices a Service should have; none for one without a selector (left to its owner). */
export function desiredSlices(service: ServiceLike, pods: readonly PodLike[]): EndpointSliceLike[] {
  const selector = service.spec?.selector;
  const name = service.metadata?.name;
  const namespace = service.metadata?.namespace ?? "default";
  if (!name || !selector || Object.keys(selector).length === 0) return [];
  if (service.spec?.type === "ExternalName") return [];

  const selected = pods
    .filter((pod) => (pod.metadata?.namespace ?? "default") === namespace)
    .filter((pod) => matches(selector, pod.metadata?.labels ?? {}))
    .filter((pod) => pod.status?.phase === "Running")
    .sort((a, b) => (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? ""));
  const families = (service.spec?.ipFamilies?.length ? service.spec.ipFamilies : ["IPv4"]).filter(
    (family): family is AddressType => family === "IPv4" || family === "IPv6",
  );

  return families.map((addressType) => {
    const endpoints: EndpointSliceLike["endpoints"] = [];
    for (const pod of selected) {
      const address = podAddresses(pod).find((ip) => familyOf(ip) === addressType);
      if (!address) continue;
      const ready = isReady(pod);
      const terminating = pod.metadata?.deletionTimestamp !== undefined;
      endpoints.push({
        addresses: [address],
        conditions: { ready: ready && !terminating, serving: ready, terminating },
        ...(pod.spec?.nodeName ? { nodeName: pod.spec.nodeName } : {}),
        targetRef: {
          kind: "Pod",
          namespace,
          name: pod.metadata?.name ?? "",
          ...(pod.metadata?.uid ? { uid: pod.metadata.uid } : {}),
        },
      });
    }
    return {
      apiVersion: "discovery.k8s.io/v1",
      kind: "EndpointSlice",
      metadata: {
        name: `${name}-${addressType.toLowerCase()}`,
        namespace,
        labels: { [SERVICE_NAME_LABEL]: name, [MANAGED_BY_LABEL]: MANAGED_BY },
        ...(service.metadata?.uid
          ? {
              ownerReferences: [
                {
                  apiVersion: "v1",
                  kind: "Service",
                  name,
                  uid: service.metadata.uid,
                  controller: true,
                  blockOwnerDeletion: true,
                },
              ],
            }
          : {}),
      },
      addressType,
      endpoints,
      ports: slicePorts(service, selected),
    };
  });
}

/** Whether an existing slice already says what the desired one says. */
export function sameSlice(existing: EndpointSliceLike, desired: EndpointSliceLike): boolean {
  const meaning = (slice: EndpointSliceLike) =>
    JSON.stringify([
      slice.addressType,
      slice.metadata.labels?.[SERVICE_NAME_LABEL],
      slice.metadata.labels?.[MANAGED_BY_LABEL],
      (slice.endpoints ?? []).map((endpoint) => [
        endpoint.addresses,
        endpoint.conditions?.ready,
        endpoint.conditions?.serving,
        endpoint.conditions?.terminating,
        endpoint.nodeName,
        endpoint.targetRef?.name,
        endpoint.targetRef?.uid,
      ]),
      (slice.ports ?? []).map((port) => [port.name, port.protocol, port.port, port.appProtocol]),
    ]);
  return meaning(existing) === meaning(desired);
}

function slicePorts(service: ServiceLike, pods: readonly PodLike[]): EndpointSliceLike["ports"] {
  const ports: EndpointSliceLike["ports"] = [];
  for (const port of service.spec?.ports ?? []) {
    const protocol = port.protocol ?? "TCP";
    let number: number | undefined;
    if (port.targetPort === undefined) number = port.port;
    else if (typeof port.targetPort === "number") number = port.targetPort;
    else if (/^\d+$/.test(port.targetPort)) number = Number(port.targetPort);
    else number = namedPort(pods, port.targetPort, protocol);
    if (number === undefined) continue;
    ports.push({
      ...(port.name ? { name: port.name } : {}),
      protocol,
      port: number,
      ...(port.appProtocol ? { appProtocol: port.appProtocol } : {}),
    });
  }
  return ports;
}

function namedPort(pods: readonly PodLike[], name: string, protocol: string): number | undefined {
  for (const pod of pods) {
    for (const container of pod.spec?.containers ?? []) {
      const port = container.ports?.find(
        (candidate) => candidate.name === name && (candidate.protocol ?? "TCP") === protocol,
      );
      if (port) return port.containerPort;
    }
  }
  return undefined;
}

function matches(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([key, value]) => labels[key] === value);
}

function podAddresses(pod: PodLike): string[] {
  const listed = (pod.status?.podIPs ?? []).map((entry) => entry.ip);
  if (listed.length > 0) return listed;
  return pod.status?.podIP ? [pod.status.podIP] : [];
}

function isReady(pod: PodLike): boolean {
  return (pod.status?.conditions ?? []).some(
    (condition) => condition.type === "Ready" && condition.status === "True",
  );
}
