// What `herald lab info -o json` prints. Scripts and tests rely on this exact shape, so
// it is built in one place from the topology and nothing else.
import { join } from "node:path";
import { nodeAsn, ROUTER_ASN, type RouterKind } from "./router-config.ts";
import {
  API_PORT,
  BACKEND_PORT,
  type FamilyPair,
  type KubeBackend,
  type Topology,
} from "./topology.ts";

export const BACKEND_NAMESPACE = "default";
export const BACKEND_LABELS: Readonly<Record<string, string>> = { app: "lab-web" };

export interface LabInfo {
  name: string;
  dir: string;
  kubeconfig: string;
  apiServer: string;
  /** What runs the cluster: which API server, and what routes Service traffic on the nodes. */
  kube: {
    backend: KubeBackend;
    /** "devkube" (Herald's own, in memory) or "kube-apiserver" (with etcd and kube-controller-manager). */
    server: "devkube" | "kube-apiserver";
    /** "lab-backend": the backends forward among themselves; "kube-proxy": the real one. */
    proxy: "lab-backend" | "kube-proxy";
    proxyMode: "nftables" | "iptables" | null;
  };
  namespaces: {
    client: string;
    lanclient: string;
    router: string;
    lan: string;
    nodes: Record<string, string>;
  };
  nodes: {
    name: string;
    namespace: string;
    interface: string;
    ipv4: string;
    ipv6: string | null;
    mac: string;
  }[];
  router: { lan: FamilyPair; client: FamilyPair };
  client: FamilyPair;
  lanclient: FamilyPair;
  lan: FamilyPair;
  localPool: FamilyPair;
  routedPool: FamilyPair;
  backends: {
    namespace: string;
    labels: Record<string, string>;
    port: number;
    nodes: string[];
  };
  ipv6: boolean;
  /** The router's BGP daemon (--router) and the ASNs and address nodes peer with. */
  bgp: {
    router: RouterKind | null;
    routerASN: number;
    nodeASN: number;
    routerAddress: FamilyPair;
  };
}

export function kubeconfigPath(dir: string): string {
  return join(dir, "kubeconfig");
}

export function labInfo(topology: Topology, dir: string, backendNodes: readonly string[]): LabInfo {
  const pair = (value: FamilyPair): FamilyPair => ({ ipv4: value.ipv4, ipv6: value.ipv6 });
  const real = topology.options.kube === "real";
  return {
    name: topology.options.name,
    dir,
    kubeconfig: kubeconfigPath(dir),
    apiServer: `${real ? "https" : "http"}://${topology.host.ipv4}:${API_PORT}`,
    kube: {
      backend: real ? "real" : "devkube",
      server: real ? "kube-apiserver" : "devkube",
      proxy: real ? "kube-proxy" : "lab-backend",
      proxyMode: real ? (topology.options.proxyMode ?? "nftables") : null,
    },
    namespaces: {
      client: topology.clientNamespace,
      lanclient: topology.lanclientNamespace,
      router: topology.routerNamespace,
      lan: topology.lanNamespace,
      nodes: Object.fromEntries(topology.nodes.map((node) => [node.name, node.namespace])),
    },
    nodes: topology.nodes.map((node) => ({
      name: node.name,
      namespace: node.namespace,
      interface: node.interface,
      ipv4: node.ipv4,
      ipv6: node.ipv6,
      mac: node.mac,
    })),
    router: { lan: pair(topology.router.lan), client: pair(topology.router.client) },
    client: pair(topology.client),
    lanclient: pair(topology.lanclient),
    lan: pair(topology.lan),
    localPool: pair(topology.localPool),
    routedPool: pair(topology.routedPool),
    backends: {
      namespace: BACKEND_NAMESPACE,
      labels: { ...BACKEND_LABELS },
      port: BACKEND_PORT,
      nodes: [...backendNodes],
    },
    ipv6: topology.options.ipv6,
    bgp: {
      router: topology.options.router ?? null,
      routerASN: ROUTER_ASN,
      nodeASN: nodeAsn(topology.options),
      routerAddress: pair(topology.router.lan),
    },
  };
}
