// The API objects that make the lab look like a cluster: its Nodes as a kubelet would
// register them, the agents' failure-detector key, a stand-in for their DaemonSet, and the backend Pods (which run as
// `herald lab backend` processes, not containers). Pure: plain data from the topology.
import { BACKEND_LABELS, BACKEND_NAMESPACE } from "./info.ts";
import { BACKEND_PORT, type LabNode } from "./topology.ts";

export const INSTALL_NAMESPACE = "herald-system";
/** The Secret whose `key` authenticates the agents' failure-detector heartbeats. */
export const AGENT_KEY_SECRET = "herald-agent-key";

export interface LabObject {
  /** Collection to POST to. */
  collection: string;
  /** The object's own path, for status writes and deletes. */
  path: string;
  body: Record<string, unknown>;
}

export function namespaceObject(name: string): LabObject {
  return {
    collection: "/api/v1/namespaces",
    path: `/api/v1/namespaces/${name}`,
    body: { apiVersion: "v1", kind: "Namespace", metadata: { name } },
  };
}

export function agentKeySecret(key: Buffer): LabObject {
  return {
    collection: `/api/v1/namespaces/${INSTALL_NAMESPACE}/secrets`,
    path: `/api/v1/namespaces/${INSTALL_NAMESPACE}/secrets/${AGENT_KEY_SECRET}`,
    body: {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: AGENT_KEY_SECRET, namespace: INSTALL_NAMESPACE },
      type: "Opaque",
      data: { key: key.toString("base64") },
    },
  };
}

/** The agents' DaemonSet, as deploy/ names it; agents read it on SIGTERM (--daemonset). */
export const AGENT_DAEMONSET = "herald-agent";

/**
 * A stand-in for the agents' DaemonSet (`lab up --daemonset`): the lab's agents are
 * processes, but they read it on SIGTERM as in a cluster, so that deleting it (an
 * uninstall) or giving it a nodeSelector behaves as there. No kubelet runs its Pods: on a
 * real control plane they stay Pending, unscheduled.
 */
export function agentDaemonSet(): LabObject {
  const labels = { "herald.dev/lab-stand-in": "agent-daemonset" };
  return {
    collection: `/apis/apps/v1/namespaces/${INSTALL_NAMESPACE}/daemonsets`,
    path: `/apis/apps/v1/namespaces/${INSTALL_NAMESPACE}/daemonsets/${AGENT_DAEMONSET}`,
    body: {
      apiVersion: "apps/v1",
      kind: "DaemonSet",
      metadata: { name: AGENT_DAEMONSET, namespace: INSTALL_NAMESPACE },
      spec: {
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: { containers: [{ name: "agent", image: "herald:lab" }] },
        },
      },
    },
  };
}

export function nodeObject(node: LabNode, now: Date): { object: LabObject; status: unknown } {
  const time = now.toISOString();
  const condition = (type: string, status: "True" | "False", reason: string, message: string) => ({
    type,
    status,
    reason,
    message,
    lastHeartbeatTime: time,
    lastTransitionTime: time,
  });
  const status = {
    addresses: [
      { type: "InternalIP", address: node.ipv4 },
      ...(node.ipv6 ? [{ type: "InternalIP", address: node.ipv6 }] : []),
      { type: "Hostname", address: node.name },
    ],
    conditions: [
      condition("Ready", "True", "KubeletReady", "herald lab node"),
      condition("NetworkUnavailable", "False", "LabNetworkReady", "the lab's LAN is up"),
    ],
    nodeInfo: {
      operatingSystem: "linux",
      architecture: process.arch === "x64" ? "amd64" : process.arch,
    },
  };
  return {
    object: {
      collection: "/api/v1/nodes",
      path: `/api/v1/nodes/${node.name}`,
      body: {
        apiVersion: "v1",
        kind: "Node",
        metadata: {
          name: node.name,
          labels: { "kubernetes.io/hostname": node.name, "kubernetes.io/os": "linux" },
        },
        spec: {},
        status,
      },
    },
    status,
  };
}

export function backendPodName(node: string): string {
  return `lab-web-${node}`;
}

/** The Pod standing for the backend on `node`, and the status a kubelet would report. */
export function backendPod(node: LabNode, now: Date): { object: LabObject; status: unknown } {
  const name = backendPodName(node.name);
  const time = now.toISOString();
  const condition = (type: string) => ({ type, status: "True", lastTransitionTime: time });
  const podIPs = [{ ip: node.ipv4 }, ...(node.ipv6 ? [{ ip: node.ipv6 }] : [])];
  return {
    object: {
      collection: `/api/v1/namespaces/${BACKEND_NAMESPACE}/pods`,
      path: `/api/v1/namespaces/${BACKEND_NAMESPACE}/pods/${name}`,
      body: {
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name, namespace: BACKEND_NAMESPACE, labels: { ...BACKEND_LABELS } },
        spec: {
          nodeName: node.name,
          // The backend shares the node's network namespace, as a hostNetwork Pod would.
          hostNetwork: true,
          containers: [
            {
              name: "web",
              image: "herald-lab-backend",
              ports: [{ name: "http", containerPort: BACKEND_PORT, protocol: "TCP" }],
            },
          ],
        },
      },
    },
    status: {
      phase: "Running",
      conditions: ["PodScheduled", "Initialized", "ContainersReady", "Ready"].map(condition),
      hostIP: node.ipv4,
      hostIPs: podIPs,
      podIP: node.ipv4,
      podIPs,
      startTime: time,
      // What a kubelet reports of a running container: `kubectl get pods` counts READY from it.
      containerStatuses: [
        {
          name: "web",
          image: "herald-lab-backend",
          imageID: "",
          ready: true,
          started: true,
          restartCount: 0,
          state: { running: { startedAt: time } },
        },
      ],
    },
  };
}
