// `herald lab up --kube real`: the lab on a real control plane — etcd, kube-apiserver
// and kube-controller-manager as lab processes on the host's LAN address, and kube-proxy
// in every node namespace — instead of devkube, the endpoints mirror and the backends'
// own forwarding. This file says what to start and what to install; lab.ts starts it.
// The flags of etcd, the API server and the controller manager are src/realkube's, the
// same the tests' control plane runs with.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { LabApi } from "./api.ts";
import type { ProcessSpec } from "./processes.ts";
import type { LabFiles } from "./state.ts";
import { API_PORT, type LabNode, type Topology } from "./topology.ts";
import {
  controlPlaneCommands,
  prepareControlPlane,
  writeCertificateKubeconfig,
  writeTokenKubeconfig,
  type ControlPlaneFiles,
  type ControlPlaneOptions,
} from "../realkube/control-plane.ts";
import { ADMIN, KUBE_PROXY } from "../realkube/pki.ts";
import { serviceAccountToken } from "../realkube/tokens.ts";

export type ProxyMode = "nftables" | "iptables";
export const PROXY_MODES: readonly ProxyMode[] = ["nftables", "iptables"];

/**
 * Why a kube-proxy mode cannot run on this host, or undefined if it can as far as the
 * kernel goes. IPVS needs the kernel's IP_VS, which the lab cannot bring.
 */
export function unsupportedProxyMode(mode: string, ipvsInKernel: boolean): string | undefined {
  if ((PROXY_MODES as readonly string[]).includes(mode)) return undefined;
  if (mode === "ipvs")
    return ipvsInKernel
      ? "kube-proxy's IPVS mode is not run by the lab yet: use --proxy-mode nftables or iptables"
      : "kube-proxy's IPVS mode needs IPVS in the kernel (CONFIG_IP_VS), and this kernel has none " +
          "(no /proc/net/ip_vs): use --proxy-mode nftables or iptables";
  return `unknown kube-proxy mode "${mode}": nftables or iptables`;
}

/** kube-proxy's health port in each node namespace; 200 once its rules are synced. */
export const KUBE_PROXY_HEALTH_PORT = 10256;

const DEPLOY = fileURLToPath(new URL("../../deploy/herald.yaml", import.meta.url));

export interface RealPlane {
  readonly files: ControlPlaneFiles;
  readonly etcdPort: number;
  /** etcd, kube-apiserver, kube-controller-manager: started in that order. */
  readonly etcd: ProcessSpec;
  readonly apiserver: ProcessSpec;
  readonly controllerManager: ProcessSpec;
}

export function auditLogPath(files: LabFiles): string {
  return join(files.logs, "apiserver-audit.log");
}

/** Where each client's kubeconfig is in a real-kube lab: fixed, so heal can restart them. */
export function realKubeconfigs(files: LabFiles): {
  controller: string;
  /** One per node: each agent's token is bound to a Pod on its node. */
  agent: (node: string) => string;
  kubeProxy: string;
} {
  return {
    controller: join(files.kube, "controller.kubeconfig"),
    agent: (node) => join(files.kube, `agent-${node}.kubeconfig`),
    kubeProxy: join(files.kube, "kube-proxy.kubeconfig"),
  };
}

/** Certificates and kubeconfigs in <lab>/kube, and the control plane's commands. */
export async function prepareRealPlane(
  shape: Topology,
  files: LabFiles,
  bin: string,
  etcdPorts: readonly [number, number],
): Promise<RealPlane> {
  const options: ControlPlaneOptions = {
    dir: files.kube,
    bin,
    address: shape.host.ipv4,
    port: API_PORT,
    etcdPort: etcdPorts[0],
    etcdPeerPort: etcdPorts[1],
    extraAddresses: shape.host.ipv6 ? [shape.host.ipv6] : [],
    // Who asked the API server for what: `grep herald-agent` there answers "why 403?" and
    // the benchmarks count each client's requests from it.
    auditLog: auditLogPath(files),
  };
  const plane = await prepareControlPlane(options);
  // The lab's kubeconfig is the admin's, as devkube's is: the lab's commands, tests and
  // the operator use it. The controller and agents get their own below.
  await writeCertificateKubeconfig(files.kubeconfig, plane.server, plane.pki, ADMIN);
  await writeCertificateKubeconfig(
    realKubeconfigs(files).kubeProxy,
    plane.server,
    plane.pki,
    KUBE_PROXY,
  );
  const commands = controlPlaneCommands(options, plane);
  const spec = (role: string, argv: readonly string[]): ProcessSpec => ({
    role,
    namespace: null,
    program: argv,
    args: [],
  });
  return {
    files: plane,
    etcdPort: etcdPorts[0],
    etcd: spec("etcd", commands.etcd),
    apiserver: spec("apiserver", commands.apiserver),
    controllerManager: spec("controller-manager", commands.controllerManager),
  };
}

/** kube-proxy for one node, in the node's namespace, as its DaemonSet would run it. */
export function kubeProxySpec(
  node: LabNode,
  files: LabFiles,
  bin: string,
  mode: ProxyMode,
): ProcessSpec {
  return {
    role: `kube-proxy-${node.name}`,
    namespace: node.namespace,
    program: [join(bin, "kube-proxy")],
    args: [
      "--kubeconfig",
      realKubeconfigs(files).kubeProxy,
      // The Node object it serves, and so its node IPs and which endpoints are local.
      "--hostname-override",
      node.name,
      "--proxy-mode",
      mode,
      // nf_conntrack_max is one value for the whole host, not per namespace: 0 leaves it
      // as it is (kube-proxy would otherwise fail to write it from a node namespace).
      // The TCP timeouts are per namespace, but the host's defaults serve the lab.
      "--conntrack-max-per-core",
      "0",
      "--conntrack-tcp-timeout-established",
      "0s",
      "--conntrack-tcp-timeout-close-wait",
      "0s",
      "--healthz-bind-address",
      `0.0.0.0:${KUBE_PROXY_HEALTH_PORT}`,
      "--metrics-bind-address",
      "127.0.0.1:10249",
      "--v",
      "1",
    ],
  };
}

/**
 * deploy/herald.yaml's RBAC — Namespace, ServiceAccounts, Roles, ClusterRoles and their
 * bindings — and the agents' admission policy, but not its Deployment and DaemonSet: in the lab the controller and agents
 * are lab processes (there is no kubelet to run Pods), each with its ServiceAccount's token.
 */
export async function installDeployRbac(api: LabApi): Promise<number> {
  const { loadAllYaml } = await import("@kubernetes/client-node");
  const documents = loadAllYaml(await readFile(DEPLOY, "utf8")) as KubeObject[];
  let installed = 0;
  for (const object of documents) {
    const collection = collectionOf(object);
    if (collection === undefined) continue;
    await api.ensure(collection, object);
    installed++;
  }
  return installed;
}

interface KubeObject {
  kind: string;
  metadata: { name: string; namespace?: string };
}

function collectionOf(object: KubeObject): string | undefined {
  const namespace = object.metadata.namespace ?? "default";
  const rbac = "/apis/rbac.authorization.k8s.io/v1";
  switch (object.kind) {
    case "Namespace":
      return "/api/v1/namespaces";
    case "ServiceAccount":
      return `/api/v1/namespaces/${namespace}/serviceaccounts`;
    case "Role":
      return `${rbac}/namespaces/${namespace}/roles`;
    case "RoleBinding":
      return `${rbac}/namespaces/${namespace}/rolebindings`;
    case "ClusterRole":
      return `${rbac}/clusterroles`;
    case "ClusterRoleBinding":
      return `${rbac}/clusterrolebindings`;
    case "ValidatingAdmissionPolicy":
      return "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies";
    case "ValidatingAdmissionPolicyBinding":
      return "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings";
    default:
      // CRDs come from the code (installCluster), workloads are lab processes.
      return undefined;
  }
}

/**
 * Kubeconfigs with TokenRequest tokens of the controller's and the agents' ServiceAccounts.
 * Each agent's token is bound to a Pod on its node, as the kubelet's projected token of a
 * DaemonSet Pod is — the Pod never runs (no kubelet), it only gives the token its node.
 */
export async function writeServiceAccountKubeconfigs(
  api: LabApi,
  files: LabFiles,
  plane: RealPlane,
  namespace: string,
  nodes: readonly string[],
): Promise<void> {
  const paths = realKubeconfigs(files);
  const write = (path: string, token: string) =>
    writeTokenKubeconfig(path, plane.files.server, plane.files.pki.caCert, token);
  await write(paths.controller, await serviceAccountToken(api, namespace, "herald-controller"));
  for (const node of nodes) {
    const pod = await agentPod(api, namespace, node);
    const token = await serviceAccountToken(api, namespace, "herald-agent", undefined, pod);
    await write(paths.agent(node), token);
  }
}

/** The stand-in for the agent DaemonSet's Pod on `node`: its name and uid. */
async function agentPod(
  api: LabApi,
  namespace: string,
  node: string,
): Promise<{ name: string; uid: string }> {
  const name = `herald-agent-${node}`;
  const path = `/api/v1/namespaces/${namespace}/pods`;
  await api.ensure(path, {
    apiVersion: "v1",
    kind: "Pod",
    metadata: {
      name,
      labels: { "app.kubernetes.io/name": "herald", "app.kubernetes.io/component": "agent" },
    },
    spec: {
      nodeName: node,
      serviceAccountName: "herald-agent",
      // As the DaemonSet: no taint of a node the lab powers off may evict it (its
      // deletion would revoke the token).
      tolerations: [{ operator: "Exists" }],
      containers: [{ name: "agent", image: "herald:lab" }],
    },
  });
  const pod = (await api.request("GET", `${path}/${name}`)) as { metadata?: { uid?: string } };
  const uid = pod.metadata?.uid;
  if (!uid) throw new Error(`pod ${namespace}/${name} has no uid`);
  return { name, uid };
}
