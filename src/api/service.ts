// What Herald reads from and writes to core/v1 Services: the fields, the annotations of
// Herald and of the load balancers it replaces, and the names of its outputs.
import type { ObjectMeta } from "./meta.ts";

/** spec.loadBalancerClass of services Herald serves; services with no class too, unless --class-only. */
export const HERALD_CLASS = "herald.dev/herald";

export const POOL_ANNOTATION = "herald.dev/pool";
export const ADDRESSES_ANNOTATION = "herald.dev/addresses";
export const SHARING_KEY_ANNOTATION = "herald.dev/sharing-key";
export const ALLOCATED_FROM_ANNOTATION = "herald.dev/allocated-from";
export const ALLOCATED_CONDITION = "herald.dev/Allocated";
/** Written by the agents: "<node> <interface>" for a local address, "routed" otherwise. */
export const ANNOUNCING_ANNOTATION = {
  IPv4: "herald.dev/announcing-ipv4",
  IPv6: "herald.dev/announcing-ipv6",
} as const;

/**
 * Annotations that say the same thing, in the order they are consulted: Herald's own
 * first, then the peers' so that services keep their addresses when migrating.
 */
export const POOL_ANNOTATIONS = [
  POOL_ANNOTATION,
  "metallb.io/address-pool",
  "metallb.universe.tf/address-pool",
  "purelb.io/service-group",
  "eip.openelb.kubesphere.io/v1alpha2",
] as const;

export const ADDRESSES_ANNOTATIONS = [
  ADDRESSES_ANNOTATION,
  "metallb.io/loadBalancerIPs",
  "metallb.universe.tf/loadBalancerIPs",
  "purelb.io/addresses",
  "lbipam.cilium.io/ips",
  "kube-vip.io/loadbalancerIPs",
] as const;

export const SHARING_KEY_ANNOTATIONS = [
  SHARING_KEY_ANNOTATION,
  "metallb.io/allow-shared-ip",
  "metallb.universe.tf/allow-shared-ip",
  "purelb.io/allow-shared-ip",
  "lbipam.cilium.io/sharing-key",
] as const;

export type IPFamilyName = "IPv4" | "IPv6";
export type IPFamilyPolicy = "SingleStack" | "PreferDualStack" | "RequireDualStack";

export interface ServicePort {
  name?: string;
  protocol?: string;
  port: number;
}

export interface ServiceObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec?: {
    type?: string;
    loadBalancerClass?: string;
    loadBalancerIP?: string;
    clusterIP?: string;
    clusterIPs?: string[];
    // Plain strings: this is what arrives, and readService checks the values.
    ipFamilies?: string[];
    ipFamilyPolicy?: string;
    externalTrafficPolicy?: string;
    selector?: Record<string, string>;
    ports?: ServicePort[];
  };
  status?: {
    loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] };
  };
}

/** A "namespace/name" key (as readService makes them) back in its two parts. */
export function splitKey(key: string): { namespace: string; name: string } {
  const slash = key.indexOf("/");
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}
