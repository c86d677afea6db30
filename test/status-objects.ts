// Objects as the API server returns them, for the tests of status-view.ts and status-text.ts:
// a small cluster with one of each thing the screen shows, and objects of every wrong shape.
import type { StatusInput } from "../src/cli/status-view.ts";

export const NOW = Date.parse("2025-06-01T12:00:00Z");
export const ago = (seconds: number) => new Date(NOW - seconds * 1000).toISOString();

function pool(name: string, spec: object, status?: object, generation = 1) {
  return {
    apiVersion: "herald.dev/v1alpha1",
    kind: "AddressPool",
    metadata: { name, generation },
    spec,
    ...(status ? { status } : {}),
  };
}

const readyConditions = [
  { type: "Ready", status: "True", reason: "Ready", message: "addresses are handed out" },
  { type: "Conflict", status: "False", reason: "NoOverlap", message: "no other pool" },
];

function counts(ipv4: string, ipv6: string) {
  return { ipv4, ipv6 };
}

export function service(
  namespace: string,
  name: string,
  options: {
    ips?: string[];
    annotations?: Record<string, string>;
    allocated?: { status: string; reason: string; message: string };
    loadBalancerClass?: string;
    type?: string;
  } = {},
) {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: {
      name,
      namespace,
      ...(options.annotations ? { annotations: options.annotations } : {}),
    },
    spec: {
      type: options.type ?? "LoadBalancer",
      ...(options.loadBalancerClass ? { loadBalancerClass: options.loadBalancerClass } : {}),
    },
    status: {
      loadBalancer: options.ips ? { ingress: options.ips.map((ip) => ({ ip })) } : {},
      ...(options.allocated
        ? { conditions: [{ type: "herald.dev/Allocated", ...options.allocated }] }
        : {}),
    },
  };
}

export const allocatedTrue = { status: "True", reason: "Allocated", message: "from pool lan" };

export function nodeState(
  name: string,
  status: object | undefined,
  annotations?: Record<string, string>,
) {
  return {
    apiVersion: "herald.dev/v1alpha1",
    kind: "NodeState",
    metadata: { name, ...(annotations ? { annotations } : {}) },
    ...(status ? { status } : {}),
  };
}

export function node(name: string, ready: "True" | "False" | "Unknown" = "True") {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: { name },
    status: { conditions: [{ type: "Ready", status: ready, reason: `Kubelet${ready}` }] },
  };
}

export function input(overrides: Partial<StatusInput> = {}): StatusInput {
  return {
    pools: [],
    services: [],
    nodeStates: [],
    nodes: [],
    events: [],
    classOnly: false,
    now: NOW,
    warnings: [],
    ...overrides,
  };
}

/** A small cluster with one of each thing the screen must show. */
export function cluster(): StatusInput {
  return input({
    pools: [
      pool(
        "lan",
        { addresses: ["192.168.10.240-192.168.10.250"], announce: "Local" },
        {
          capacity: counts("11", "0"),
          allocated: counts("3", "0"),
          available: counts("8", "0"),
          conditions: readyConditions,
          observedGeneration: 1,
        },
      ),
      pool(
        "v6",
        { addresses: ["2001:db8:10::/64"], announce: "Routed" },
        {
          capacity: counts("0", "18446744073709551616"),
          allocated: counts("0", "1"),
          available: counts("0", "18446744073709551615"),
          conditions: readyConditions,
        },
      ),
      pool(
        "late",
        { addresses: ["192.168.10.248/29"] },
        {
          capacity: counts("8", "0"),
          allocated: counts("0", "0"),
          available: counts("0", "0"),
          conditions: [
            {
              type: "Ready",
              status: "False",
              reason: "Conflict",
              message: "overlaps pool lan (older)",
            },
            { type: "Conflict", status: "True", reason: "Overlap", message: "overlaps pool lan" },
          ],
        },
      ),
    ],
    services: [
      service("default", "web", {
        ips: ["192.168.10.240"],
        allocated: allocatedTrue,
        annotations: { "herald.dev/announcing-ipv4": "node1 eth0" },
      }),
      service("default", "api", {
        ips: ["2001:DB8:10::1"],
        allocated: allocatedTrue,
        annotations: { "herald.dev/announcing-ipv6": "routed" },
        loadBalancerClass: "herald.dev/herald",
      }),
      service("default", "db", { ips: ["192.168.10.241"], allocated: allocatedTrue }),
      service("default", "moved", {
        ips: ["192.168.10.242"],
        allocated: allocatedTrue,
        annotations: { "herald.dev/announcing-ipv4": "node2 eth0" },
      }),
      service("team-a", "big", {
        allocated: { status: "False", reason: "PoolExhausted", message: "pool lan is full" },
      }),
      service("team-a", "fresh"),
      service("other", "metallb", { ips: ["10.9.9.9"], loadBalancerClass: "metallb.io/x" }),
      service("other", "internal", { type: "ClusterIP" }),
    ],
    nodeStates: [
      nodeState("node1", {
        announced: [
          {
            address: "192.168.10.240",
            services: ["default/web"],
            mode: "Local",
            interface: "eth0",
          },
        ],
        bgpSessions: [
          {
            peer: "router",
            state: "Established",
            since: ago(7320),
            prefixesSent: 1,
            prefixesReceived: 0,
          },
        ],
        detector: { members: ["node1", "node2", "node3"], suspects: [], dead: ["node3"] },
        conditions: [
          { type: "KernelReady", status: "True", reason: "Reconciled", message: "ok" },
          { type: "KubeProxyStrictARP", status: "True", reason: "NotNeeded", message: "ok" },
        ],
        updateTime: ago(300),
      }),
      nodeState("node2", {
        announced: [
          {
            address: "2001:db8:10::1",
            services: ["default/api"],
            mode: "Routed",
            interface: "kube-lb0",
          },
        ],
        bgpSessions: [
          { peer: "router", state: "Active", since: ago(12), lastError: "BGP Error: Bad peer AS" },
        ],
        detector: { members: ["node1", "node2", "node3"], suspects: [], dead: ["node3"] },
        conditions: [
          {
            type: "RoutingReady",
            status: "False",
            reason: "ConfigRefused",
            message: "bird: syntax error",
          },
        ],
        updateTime: ago(60),
      }),
      nodeState("node3", {
        announced: [],
        detector: { members: ["node1", "node2", "node3"], suspects: [], dead: [] },
        updateTime: ago(7200),
      }),
    ],
    nodes: [node("node1"), node("node2"), node("node3", "Unknown"), node("node4")],
    events: [
      {
        metadata: { name: "db.1", namespace: "default" },
        involvedObject: { kind: "Service", namespace: "default", name: "db" },
        reason: "NotAnnounced",
        message: "192.168.10.241 is not announced: no serving endpoint",
        lastTimestamp: ago(120),
      },
      {
        metadata: { name: "db.0", namespace: "default" },
        involvedObject: { kind: "Service", namespace: "default", name: "db" },
        reason: "NotAnnounced",
        message: "192.168.10.241 is not announced: an older reason",
        lastTimestamp: ago(3600),
      },
    ],
  });
}

/** Objects of every wrong shape: the view must neither throw nor invent. */
export function malformed(): StatusInput {
  return input({
    pools: [
      null,
      7,
      "pool",
      { metadata: { name: "nospec" } },
      { metadata: { name: 5 }, spec: "x", status: { capacity: { ipv4: "lots" }, conditions: "x" } },
      pool("odd", { addresses: [1, "10.0.0.0/30", null], announce: 3 }, { conditions: [null, {}] }),
      pool(
        "behind",
        { addresses: ["10.1.0.0/30"] },
        { conditions: readyConditions, observedGeneration: 1 },
        2,
      ),
    ],
    services: [
      null,
      [],
      { metadata: { name: "x" } },
      {
        metadata: { name: "y", annotations: { "herald.dev/announcing-ipv4": 7 } },
        spec: { type: "LoadBalancer" },
        status: {
          loadBalancer: { ingress: [null, { ip: 5 }, { hostname: "h" }, { ip: "not-an-ip" }] },
          conditions: [{ type: "herald.dev/Allocated" }],
        },
      },
      service("a", "bad-annotation", {
        ips: ["10.0.0.7"],
        allocated: allocatedTrue,
        annotations: { "herald.dev/announcing-ipv4": "node1" },
      }),
    ],
    nodeStates: [
      null,
      { metadata: {} },
      nodeState("n1", {
        announced: "everything",
        bgpSessions: [
          null,
          { peer: "p", state: "Established", since: "yesterday" },
          { since: ago(-60) },
        ],
        detector: "fine",
        conditions: [{ type: "KernelReady" }],
        updateTime: 12,
      }),
      nodeState("n2", {
        announced: [null, { address: 4 }, { address: "10.0.0.8" }],
        detector: { members: "n1" },
      }),
    ],
    nodes: [null, { metadata: { name: "n1" }, status: { conditions: "x" } }],
    events: [
      null,
      { reason: "NotAnnounced", involvedObject: "x" },
      { reason: "NotAnnounced", involvedObject: { kind: "Service" }, lastTimestamp: 5 },
    ],
  });
}
