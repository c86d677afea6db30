// herald status against a devkube cluster: objects written through the API the way the
// controller and agents write them, then read back by runStatus as an operator runs it.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { startCluster, type TestCluster } from "../../test/cluster.ts";
import { createLogger } from "../log.ts";
import type { CommandIO } from "./plan.ts";
import { runStatus } from "./status.ts";
import type { StatusView } from "./status-view.ts";

const NOW = Date.parse("2025-06-01T12:00:00Z");
const ago = (seconds: number) =>
  new Date(NOW - seconds * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
const HERALD = "/apis/herald.dev/v1alpha1";

const dir = mkdtempSync(join(tmpdir(), "herald-status-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function capture(): CommandIO & { out: () => string; err: () => string } {
  let out = "";
  let err = "";
  return {
    stdout: (text) => (out += text),
    stderr: (text) => (err += text),
    stdin: async () => "",
    log: createLogger("silent"),
    out: () => out,
    err: () => err,
  };
}

function kubeconfigFile(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** A kubeconfig for a server without credentials. */
function kubeconfigFor(url: string): string {
  return [
    "apiVersion: v1",
    "kind: Config",
    "clusters: [{name: c, cluster: {server: '" + url + "', insecure-skip-tls-verify: true}}]",
    "users: [{name: u, user: {}}]",
    "contexts: [{name: c, context: {cluster: c, user: u}}]",
    "current-context: c",
  ].join("\n");
}

async function send(cluster: TestCluster, method: string, path: string, body: unknown) {
  await cluster.request(
    method as "POST" | "PATCH",
    path,
    body,
    method === "PATCH" ? "application/merge-patch+json" : "application/json",
  );
}

/** Creates an object, then writes its status through the status subresource, as owners do. */
async function createWithStatus(
  cluster: TestCluster,
  collection: string,
  object: { metadata: { name: string } },
  status: object,
) {
  await cluster.post(collection, object);
  await send(cluster, "PATCH", `${collection}/${object.metadata.name}/status`, status);
}

const readyConditions = (message: string) => [
  { type: "Ready", status: "True", reason: "Ready", message, lastTransitionTime: ago(3600) },
  {
    type: "Conflict",
    status: "False",
    reason: "NoOverlap",
    message: "no other pool holds these addresses",
    lastTransitionTime: ago(3600),
  },
];

function allocated(status: "True" | "False", reason: string, message: string) {
  return {
    type: "herald.dev/Allocated",
    status,
    reason,
    message,
    lastTransitionTime: ago(600),
  };
}

async function populate(cluster: TestCluster) {
  const pools = `${HERALD}/addresspools`;
  await createWithStatus(
    cluster,
    pools,
    {
      apiVersion: "herald.dev/v1alpha1",
      kind: "AddressPool",
      metadata: { name: "lan" },
      spec: { addresses: ["192.168.10.240-192.168.10.250"], announce: "Local" },
    } as never,
    {
      status: {
        capacity: { ipv4: "11", ipv6: "0" },
        allocated: { ipv4: "3", ipv6: "0" },
        available: { ipv4: "8", ipv6: "0" },
        conditions: readyConditions("addresses are handed out"),
        observedGeneration: 1,
      },
    },
  );
  await createWithStatus(
    cluster,
    pools,
    {
      apiVersion: "herald.dev/v1alpha1",
      kind: "AddressPool",
      metadata: { name: "late" },
      spec: { addresses: ["192.168.10.248/29"] },
    } as never,
    {
      status: {
        capacity: { ipv4: "8", ipv6: "0" },
        allocated: { ipv4: "0", ipv6: "0" },
        available: { ipv4: "0", ipv6: "0" },
        conditions: [
          {
            type: "Ready",
            status: "False",
            reason: "Conflict",
            message: "overlaps AddressPool lan, which is older",
            lastTransitionTime: ago(60),
          },
          {
            type: "Conflict",
            status: "True",
            reason: "Overlap",
            message: "overlaps AddressPool lan, which is older",
            lastTransitionTime: ago(60),
          },
        ],
      },
    },
  );

  const services = (namespace: string) => `/api/v1/namespaces/${namespace}/services`;
  const lb = (namespace: string, name: string, extra: object = {}) => ({
    apiVersion: "v1",
    kind: "Service",
    metadata: { name, namespace },
    spec: { type: "LoadBalancer", ports: [{ port: 80, protocol: "TCP" }], ...extra },
  });
  // Served and announced by node1.
  await createWithStatus(cluster, services("default"), lb("default", "web"), {
    metadata: {
      annotations: {
        "herald.dev/allocated-from": "lan",
        "herald.dev/announcing-ipv4": "node1 eth0",
      },
    },
    status: {
      loadBalancer: { ingress: [{ ip: "192.168.10.240" }] },
      conditions: [allocated("True", "Allocated", "192.168.10.240 from pool lan")],
    },
  });
  // Served, nobody announces it; the agent said why in an event.
  await createWithStatus(cluster, services("default"), lb("default", "db"), {
    metadata: { annotations: { "herald.dev/allocated-from": "lan" } },
    status: {
      loadBalancer: { ingress: [{ ip: "192.168.10.241" }] },
      conditions: [allocated("True", "Allocated", "192.168.10.241 from pool lan")],
    },
  });
  await cluster.post("/api/v1/namespaces/default/events", {
    apiVersion: "v1",
    kind: "Event",
    metadata: { name: "db.17f0", namespace: "default" },
    involvedObject: { apiVersion: "v1", kind: "Service", namespace: "default", name: "db" },
    reason: "NotAnnounced",
    message: "192.168.10.241 is not announced: no serving endpoint",
    type: "Normal",
    firstTimestamp: ago(180),
    lastTimestamp: ago(180),
    count: 1,
    source: { component: "herald.dev/agent" },
  });
  // The annotation names node2, whose NodeState does not list the address.
  await createWithStatus(cluster, services("default"), lb("default", "moved"), {
    metadata: { annotations: { "herald.dev/announcing-ipv4": "node2 eth0" } },
    status: {
      loadBalancer: { ingress: [{ ip: "192.168.10.242" }] },
      conditions: [allocated("True", "Allocated", "192.168.10.242 from pool lan")],
    },
  });
  // Waiting: the pools are full.
  await createWithStatus(
    cluster,
    services("default"),
    lb("default", "big", { loadBalancerClass: "herald.dev/herald" }),
    {
      status: {
        conditions: [
          allocated("False", "PoolExhausted", "no address left in pools lan (11 of 11 used)"),
        ],
      },
    },
  );
  // Another load balancer's and not a load balancer at all: not shown.
  await cluster.post(
    services("default"),
    lb("default", "elsewhere", { loadBalancerClass: "example.com/other" }),
  );
  await cluster.post(services("default"), {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "internal", namespace: "default" },
    spec: { type: "ClusterIP", ports: [{ port: 80 }] },
  });

  for (const [name, ready] of [
    ["node1", "True"],
    ["node2", "True"],
    ["node3", "Unknown"],
  ] as const) {
    await createWithStatus(
      cluster,
      "/api/v1/nodes",
      { apiVersion: "v1", kind: "Node", metadata: { name } } as never,
      {
        status: {
          conditions: [
            {
              type: "Ready",
              status: ready,
              reason: ready === "True" ? "KubeletReady" : "NodeStatusUnknown",
              message: "",
              lastHeartbeatTime: ago(10),
              lastTransitionTime: ago(3600),
            },
          ],
        },
      },
    );
  }

  const nodeStates = `${HERALD}/nodestates`;
  const nodeState = (name: string) =>
    ({ apiVersion: "herald.dev/v1alpha1", kind: "NodeState", metadata: { name } }) as never;
  const detector = { members: ["node1", "node2", "node3"], suspects: [], dead: ["node3"] };
  await createWithStatus(cluster, nodeStates, nodeState("node1"), {
    status: {
      announced: [
        { address: "192.168.10.240", services: ["default/web"], mode: "Local", interface: "eth0" },
      ],
      interfaces: [{ name: "eth0", subnets: ["192.168.10.11/24"] }],
      bgpSessions: [
        {
          peer: "upstream",
          state: "Established",
          since: ago(7320),
          prefixesSent: 1,
          prefixesReceived: 0,
        },
      ],
      detector,
      counts: { local: 1, routed: 0, sessionsEstablished: 1, sessions: 1, suspects: 0, dead: 1 },
      conditions: [
        {
          type: "KernelReady",
          status: "True",
          reason: "Reconciled",
          message: "kernel addresses match the announcements",
          lastTransitionTime: ago(3600),
        },
      ],
      updateTime: ago(300),
    },
  });
  await createWithStatus(cluster, nodeStates, nodeState("node2"), {
    status: {
      announced: [],
      bgpSessions: [
        { peer: "upstream", state: "Active", since: ago(40), lastError: "BGP Error: Bad peer AS" },
      ],
      detector,
      conditions: [
        {
          type: "KubeProxyStrictARP",
          status: "False",
          reason: "StrictARPDisabled",
          message: "kube-proxy runs in IPVS mode without strictARP",
          lastTransitionTime: ago(3600),
        },
      ],
      updateTime: ago(60),
    },
  });
  await createWithStatus(cluster, nodeStates, nodeState("node3"), {
    status: { announced: [], detector: { members: [], suspects: [], dead: [] } },
  });
}

describe("herald status against devkube", () => {
  let cluster: TestCluster;
  let kubeconfig: string;

  before(async () => {
    cluster = await startCluster();
    kubeconfig = kubeconfigFile("devkube.yaml", cluster.kubeconfig());
    await populate(cluster);
  });
  after(async () => {
    await cluster.stop();
  });

  it("prints the screen as text", async () => {
    const io = capture();
    const code = await runStatus({ kubeconfig, output: "text", classOnly: false, now: NOW }, io);
    assert.equal(io.err(), "");
    assert.equal(code, 0);
    const text = io.out();
    assert.equal(
      text.split("\n")[0],
      "2 pools (1 not ready), 3/19 addresses used; 3 services served, 1 waiting, " +
        "1 not announced; 3 nodes, 1 BGP session down, 1 stale, 1 with failing conditions; " +
        "2 announcement problems",
    );
    assert.match(text, /^lan +Local +192\.168\.10\.240-192\.168\.10\.250 +3\/11 +- +8 +Ready$/m);
    assert.match(text, /^late +Auto +.* +Conflict: overlaps AddressPool lan, which is older$/m);
    assert.match(
      text,
      /^default\/big +- +PoolExhausted +no address left in pools lan \(11 of 11 used\)$/m,
    );
    assert.match(
      text,
      /^default\/db +192\.168\.10\.241 +192\.168\.10\.241 is not announced: no serving endpoint \(3m ago\)$/m,
    );
    assert.match(text, /^192\.168\.10\.240 +default\/web +Local +node1 eth0 +-$/m);
    assert.match(
      text,
      /^192\.168\.10\.242 +default\/moved +Local +node2 eth0 +NodeState node2 does not list it$/m,
    );
    assert.match(text, /^node1 +1 local +1\/1 +2 alive, dead: node3 +5m ago$/m);
    assert.match(
      text,
      /^ {2}node2: KubeProxyStrictARP=False \(StrictARPDisabled\): kube-proxy runs in IPVS mode without strictARP$/m,
    );
    assert.match(text, /^ {2}node3 looks stale: its Node is not Ready \(NodeStatusUnknown\)$/m);
    assert.match(text, /^node1 +upstream +Established +2h2m +1\/0 +-$/m);
    assert.match(text, /^node2 +upstream +Active +40s +-\/- +BGP Error: Bad peer AS$/m);
    assert.doesNotMatch(text, /elsewhere|internal/);
  });

  it("prints the same content as JSON", async () => {
    const io = capture();
    const code = await runStatus({ kubeconfig, output: "json", classOnly: false, now: NOW }, io);
    assert.equal(code, 0);
    const view = JSON.parse(io.out()) as StatusView;
    assert.deepEqual(view.summary.services, { served: 3, waiting: 1, notAnnounced: 1 });
    assert.deepEqual(view.summary.addresses, { allocated: "3", capacity: "19" });
    assert.deepEqual(
      view.pools.map((p) => [p.name, p.ready, p.available]),
      [
        ["lan", true, { ipv4: "8", ipv6: "0" }],
        ["late", false, { ipv4: "0", ipv6: "0" }],
      ],
    );
    assert.deepEqual(view.waiting, [
      {
        namespace: "default",
        name: "big",
        addresses: [],
        reason: "PoolExhausted",
        message: "no address left in pools lan (11 of 11 used)",
      },
    ]);
    assert.deepEqual(view.notAnnounced, [
      {
        namespace: "default",
        name: "db",
        address: "192.168.10.241",
        family: "IPv4",
        event: { message: "192.168.10.241 is not announced: no serving endpoint", time: ago(180) },
      },
    ]);
    assert.deepEqual(
      view.announcements.map((a) => [a.address, a.mode, a.nodes.map((n) => n.node), a.problems]),
      [
        ["192.168.10.240", "Local", ["node1"], []],
        ["192.168.10.241", null, [], ["not announced"]],
        ["192.168.10.242", "Local", ["node2"], ["NodeState node2 does not list it"]],
      ],
    );
    assert.deepEqual(
      view.nodes.map((n) => [n.name, n.conditions.map((c) => c.type), n.stale]),
      [
        ["node1", [], []],
        ["node2", ["KubeProxyStrictARP"], []],
        [
          "node3",
          [],
          ["its Node is not Ready (NodeStatusUnknown)", "dead to 2 of 2 peers' failure detectors"],
        ],
      ],
    );
    assert.equal(view.nodes[0]?.bgpSessions[0]?.uptimeSeconds, 7320);
    assert.deepEqual(view.warnings, []);
  });

  it("is wired into the herald command", async () => {
    const bin = fileURLToPath(new URL("../../bin/herald.js", import.meta.url));
    // Asynchronous: devkube runs in this process and must answer while the child waits.
    const { stdout } = await promisify(execFile)(process.execPath, [
      bin,
      "status",
      "--kubeconfig",
      kubeconfig,
      "-o",
      "json",
    ]);
    const view = JSON.parse(stdout) as StatusView;
    assert.equal(view.summary.pools, 2);
  });
});

describe("herald status when it cannot show the cluster", () => {
  it("names the server it cannot reach, and exits 1", async () => {
    // A port that was free a moment ago: nothing listens there.
    const port = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, "127.0.0.1", () => {
        const address = server.address() as { port: number };
        server.close(() => resolve(address.port));
      });
    });
    const url = `http://127.0.0.1:${port}`;
    const kubeconfig = kubeconfigFile("unreachable.yaml", kubeconfigFor(url));
    const io = capture();
    const code = await runStatus({ kubeconfig, output: "text", classOnly: false }, io);
    assert.equal(code, 1);
    assert.equal(io.out(), "");
    assert.match(
      io.err(),
      new RegExp(
        `^herald status: cannot reach the Kubernetes API server at ${url}: .*ECONNREFUSED`,
      ),
    );
  });

  it("gives up on a server that accepts and never answers, and says so", async () => {
    // A dead API server behind a live load balancer: the connection opens, no reply comes.
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(silent.address() as { port: number }).port}`;
    try {
      const kubeconfig = kubeconfigFile("silent.yaml", kubeconfigFor(url));
      const io = capture();
      const started = Date.now();
      const code = await runStatus(
        { kubeconfig, output: "text", classOnly: false, requestTimeoutMs: 300 },
        io,
      );
      assert.equal(code, 1);
      assert.ok(Date.now() - started < 5000, "waited for more than the request timeout");
      assert.equal(
        io.err(),
        `herald status: the Kubernetes API server at ${url} did not answer within 0.3 s\n`,
      );
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it("says Herald is not installed when its CRDs are missing, and exits 1", async () => {
    const bare = await startCluster({ crds: false });
    try {
      const kubeconfig = kubeconfigFile("bare.yaml", bare.kubeconfig());
      const io = capture();
      const code = await runStatus({ kubeconfig, output: "json", classOnly: false }, io);
      assert.equal(code, 1);
      assert.equal(io.out(), "");
      assert.equal(
        io.err(),
        `herald status: Herald is not installed on the cluster at ${bare.url}: it has no ` +
          "herald.dev/v1alpha1 AddressPools. Install Herald (kubectl apply -f deploy/herald.yaml), or only its CRDs (kubectl apply -k deploy/crds).\n",
      );
    } finally {
      await bare.stop();
    }
  });

  it("says when the kubeconfig cannot be read", async () => {
    const io = capture();
    const code = await runStatus(
      { kubeconfig: join(dir, "missing.yaml"), output: "text", classOnly: false },
      io,
    );
    assert.equal(code, 1);
    assert.match(io.err(), /^herald status: cannot load the kubeconfig: .*missing\.yaml/);
  });
});
