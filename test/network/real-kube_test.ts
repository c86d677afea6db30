// The lab on real Kubernetes (`herald lab up --kube real`): etcd, kube-apiserver and
// kube-controller-manager on the host, real kube-proxy in every node namespace, the real
// EndpointSlice controller making the slices, and the controller and agents on their own
// ServiceAccounts' tokens. What it proves is the data path devkube labs cannot: kube-proxy
// taking the traffic Herald announces — to pods on other nodes for Cluster, with the
// client's address kept for Local, and nowhere for Local without a local endpoint —
// in local and routed mode, in kube-proxy's nftables and iptables modes.
// Needs root, the network tools and the Kubernetes binaries (scripts/test.sh builds them).
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, beforeEach, describe, test } from "node:test";
import type { LabInfo } from "../../src/lab/info.ts";
import {
  labBackends,
  labDown,
  labFail,
  labHeal,
  labUp,
  type UpOptions,
} from "../../src/lab/lab.ts";
import { outageAfter } from "../../src/lab/probe.ts";
import { routerRoutes } from "../../src/lab/router.ts";
import { LabSession, waitUntil } from "../../src/lab/session.ts";
import { runAsync } from "../processes.ts";
import { requireNetworkTier } from "./require.ts";

const TOOLS = ["ip", "curl", "bird", "nft", "iptables"];

async function announcer(lab: LabSession, service: string): Promise<string | undefined> {
  const state = await lab.service(service);
  return state.annotations["herald.dev/announcing-ipv4"]?.split(" ")[0];
}

/** The service's address once one node holds it and the annotation names that node. */
async function settled(
  lab: LabSession,
  service: string,
): Promise<{ node: string; address: string }> {
  return waitUntil(`${service} announced by its holder`, async () => {
    const node = await announcer(lab, service);
    const address = (await lab.service(service)).addresses[0];
    if (!node || !address) return undefined;
    const holders = await lab.holders(address);
    return holders.length === 1 && holders[0] === node ? { node, address } : undefined;
  });
}

/** Which nodes answer `count` requests from `where` (every answer must be a 200). */
async function answering(lab: LabSession, where: string, address: string, count: number) {
  const nodes = new Set<string>();
  const clients = new Set<string>();
  for (let i = 0; i < count; i++) {
    const answer = await lab.get(where, address);
    assert.equal(answer.status, 200, `request ${i} from ${where}: ${JSON.stringify(answer)}`);
    nodes.add(answer.node);
    clients.add(answer.client);
  }
  return { nodes: [...nodes].sort(), clients: [...clients].sort() };
}

/** The endpoint addresses of the Service's slices (the real EndpointSlice controller's). */
async function sliceAddresses(lab: LabSession, service: string): Promise<string[]> {
  const slices = (await lab.api.request(
    "GET",
    `/apis/discovery.k8s.io/v1/namespaces/default/endpointslices?labelSelector=kubernetes.io/service-name%3D${service}`,
  )) as { items: { endpoints?: { addresses: string[] }[] | null }[] };
  return slices.items
    .flatMap((slice) => (slice.endpoints ?? []).flatMap((e) => e.addresses))
    .sort();
}

/**
 * Waits until the Service's slices hold exactly the pods on `nodes`, and then until
 * kube-proxy has caught up: Herald moves an address as soon as a slice changes,
 * kube-proxy rewrites its rules up to a second later.
 */
async function servedBy(
  lab: LabSession,
  service: string,
  where: string,
  nodes: readonly string[],
): Promise<void> {
  const wanted = [...nodes].sort().join(" ");
  const addresses = lab.info.nodes
    .filter((n) => nodes.includes(n.name))
    .map((n) => n.ipv4)
    .sort()
    .join(" ");
  await waitUntil(
    `${service}'s slices to hold ${wanted}`,
    async () => (await sliceAddresses(lab, service)).join(" ") === addresses,
  );
  const address = (await lab.service(service)).addresses[0]!;
  await waitUntil(`${address} served by ${wanted} from ${where}`, async () => {
    const seen = new Set<string>();
    // Enough in a row that a stale endpoint still in kube-proxy's rules (one of two, each
    // request choosing at random) shows: 20 misses it once in a million.
    for (let i = 0; i < Math.max(20, 6 * nodes.length); i++) {
      const answer = await lab.get(where, address).catch(() => undefined);
      if (answer?.status !== 200) return false;
      seen.add(answer.node);
    }
    return [...seen].sort().join(" ") === wanted;
  });
}

/** Every node hosting a pod again, and every Service back to externalTrafficPolicy Cluster. */
async function reset(lab: LabSession, ref: { name: string }): Promise<void> {
  await labBackends(
    ref,
    lab.info.nodes.map((n) => n.name),
  );
  const services = (await lab.api.request("GET", "/api/v1/namespaces/default/services")) as {
    items: { metadata: { name: string }; spec: { type: string } }[];
  };
  for (const service of services.items)
    if (service.spec.type === "LoadBalancer")
      await lab.api.mergePatch(`/api/v1/namespaces/default/services/${service.metadata.name}`, {
        spec: { externalTrafficPolicy: "Cluster" },
      });
}

function nodeAddresses(info: LabInfo): string[] {
  return info.nodes.map((node) => node.ipv4);
}

/** No 403 in the controller's or any agent's log: their RBAC covered all they did. */
function assertNoForbidden(info: LabInfo): void {
  for (const role of ["controller", ...info.nodes.map((node) => `agent-${node.name}`)]) {
    const log = readFileSync(join(info.dir, "logs", `${role}.log`), "utf8");
    const forbidden = log.split("\n").filter((line) => /\b403\b|forbidden/i.test(line));
    assert.deepEqual(forbidden, [], `${role} was refused by the API server`);
  }
}

/** A lab on real Kubernetes with a Local pool on its LAN, up without warnings. */
async function upRealLab(ref: { name: string }, options: Partial<UpOptions>): Promise<LabSession> {
  requireNetworkTier(TOOLS);
  await labDown(ref);
  const { state, warnings } = await labUp({
    ...ref,
    nodes: 3,
    ipv6: false,
    agents: true,
    kube: "real",
    ...options,
  });
  assert.deepEqual(warnings, []);
  const lab = LabSession.open(state);
  await lab.applyPool("lan", { addresses: [state.localPool.ipv4], announce: "Local" });
  return lab;
}

/** Checks the logs for 403s, then takes the lab down. */
async function downRealLab(ref: { name: string }, lab: LabSession | undefined): Promise<void> {
  try {
    if (lab) assertNoForbidden(lab.info);
  } finally {
    await lab?.close();
    await labDown(ref);
  }
}

describe("the lab on real Kubernetes, kube-proxy in nftables mode", { concurrency: false }, () => {
  const ref = { name: `rk${process.pid % 100000}` };
  let lab: LabSession;

  before(async () => {
    lab = await upRealLab(ref, { router: "bird" });
  });
  // A test that fails half-way leaves no moved pod or Local policy to the next.
  beforeEach(() => (lab as LabSession | undefined) && reset(lab, ref));
  after(() => downRealLab(ref, lab as LabSession | undefined));

  test("runs kube-apiserver, the controller manager and kube-proxy; Herald on its own tokens", async () => {
    assert.deepEqual(lab.info.kube, {
      backend: "real",
      server: "kube-apiserver",
      proxy: "kube-proxy",
      proxyMode: "nftables",
    });
    assert.match(lab.info.apiServer, /^https:\/\//);
    const kubectl = (args: string[], kubeconfig = lab.info.kubeconfig) =>
      runAsync("kubectl", ["--kubeconfig", kubeconfig, ...args], {});
    const version = await kubectl(["version", "-o", "json"]);
    assert.equal(version.code, 0, version.stderr);
    assert.match(
      (JSON.parse(version.stdout) as { serverVersion: { gitVersion: string } }).serverVersion
        .gitVersion,
      /^v1\.\d+\.\d+/,
    );
    // The controller and agents authenticate as their ServiceAccounts, not as the admin.
    for (const [file, user] of [
      ["controller.kubeconfig", "system:serviceaccount:herald-system:herald-controller"],
      // Each agent's token is bound to a Pod on its node.
      ["agent-node1.kubeconfig", "system:serviceaccount:herald-system:herald-agent"],
    ] as const) {
      const whoami = await kubectl(
        ["auth", "whoami", "-o", "jsonpath={.status.userInfo.username}"],
        join(lab.info.dir, "kube", file),
      );
      assert.equal(whoami.stdout, user, whoami.stderr);
    }
    // kube-proxy has written its table in every node.
    for (const node of lab.info.nodes) {
      const table = await lab.exec(node.name, ["nft", "list", "table", "ip", "kube-proxy"]);
      assert.match(table, /chain services/);
    }
  });

  test("Cluster: the announcer's kube-proxy spreads requests over every node's pod", async () => {
    await lab.createService("web", {});
    const { node, address } = await settled(lab, "web");
    // The slice is the real EndpointSlice controller's, from the Pods the lab posted.
    const slices = (await lab.api.request(
      "GET",
      "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices?labelSelector=kubernetes.io/service-name%3Dweb",
    )) as { items: { metadata: { labels: Record<string, string> } }[] };
    assert.equal(
      slices.items[0]?.metadata.labels["endpointslice.kubernetes.io/managed-by"],
      "endpointslice-controller.k8s.io",
    );
    const all = lab.info.nodes.map((n) => n.name);
    await servedBy(lab, "web", "client", all);
    for (const where of ["lanclient", "client"]) {
      const seen = await answering(lab, where, address, 30);
      assert.deepEqual(seen.nodes, ["node1", "node2", "node3"], `from ${where} via ${node}`);
    }
    // With the pod only on another node, every request crosses to it, SNATed by the
    // announcer (the pod sees the announcer's address, not the client's).
    const other = lab.info.nodes.find((n) => n.name !== node)!;
    await labBackends(ref, [other.name]);
    const announcerIp = lab.info.nodes.find((n) => n.name === node)!.ipv4;
    await servedBy(lab, "web", "client", [other.name]);
    const crossed = await answering(lab, "client", address, 10);
    assert.deepEqual(crossed.nodes, [other.name]);
    assert.deepEqual(crossed.clients, [announcerIp]);
  });

  test("Local: the client's address is kept, and only nodes with an endpoint serve", async () => {
    await lab.api.mergePatch("/api/v1/namespaces/default/services/web", {
      spec: { externalTrafficPolicy: "Local" },
    });
    const target = lab.info.nodes[1]!;
    await labBackends(ref, [target.name]);
    const { node, address } = await waitUntil("the address on the node with the pod", async () => {
      const current = await settled(lab, "web");
      return current.node === target.name ? current : undefined;
    });
    assert.equal(node, target.name);
    await servedBy(lab, "web", "client", [target.name]);
    const seen = await answering(lab, "client", address, 10);
    assert.deepEqual(seen, { nodes: [target.name], clients: [lab.info.client.ipv4] });
    const fromLan = await answering(lab, "lanclient", address, 5);
    assert.deepEqual(fromLan, { nodes: [target.name], clients: [lab.info.lanclient.ipv4] });

    // Steered at a node without an endpoint, the traffic is dropped by its kube-proxy,
    // not served by another node: a host route on the LAN client past the announcer.
    const elsewhere = lab.info.nodes.find((n) => n.name !== target.name)!;
    await lab.exec("lanclient", ["ip", "route", "add", `${address}/32`, "via", elsewhere.ipv4]);
    const steered = () =>
      lab.tryExec("lanclient", ["curl", "-sS", "--max-time", "1", `http://${address}/`]);
    try {
      // That node's kube-proxy rewrites its rules for the new policy in its own time
      // (seconds under load): until then it still sends the request on, as for Cluster.
      await waitUntil(
        `${elsewhere.name}'s kube-proxy to drop ${address}`,
        async () => !(await steered()).ok,
      );
      for (let i = 0; i < 3; i++) {
        const attempt = await steered();
        assert.equal(attempt.ok, false, `served through ${elsewhere.name}: ${attempt.output}`);
      }
    } finally {
      await lab.exec("lanclient", ["ip", "route", "del", `${address}/32`]);
    }
  });

  test("routed: BGP routes over every node, kube-proxy behind each, Local by its endpoints", async () => {
    await lab.peerWithRouter("up4", { family: "ipv4" });
    await lab.advertise("all", {});
    await lab.applyPool("routed", { addresses: [lab.info.routedPool.ipv4], announce: "Routed" });
    await lab.createService("routed", {}, { "herald.dev/pool": "routed" });
    const address = await waitUntil("an address from the routed pool", async () => {
      return (await lab.service("routed")).addresses[0];
    });
    const prefix = `${address}/32`;
    const viaAll = nodeAddresses(lab.info).sort().join(" ");
    await waitUntil(`${prefix} via every node`, async () => {
      const routes = await routerRoutes(lab.info, prefix);
      return routes[0] && [...routes[0].nexthops].sort().join(" ") === viaAll;
    });
    const seen = await answering(lab, "client", address, 30);
    assert.deepEqual(seen.nodes, ["node1", "node2", "node3"]);

    await lab.api.mergePatch("/api/v1/namespaces/default/services/routed", {
      spec: { externalTrafficPolicy: "Local" },
    });
    const target = lab.info.nodes[2]!;
    await labBackends(ref, [target.name]);
    await waitUntil(`${prefix} via ${target.name} only`, async () => {
      const routes = await routerRoutes(lab.info, prefix);
      return routes[0]?.nexthops.length === 1 && routes[0].nexthops[0] === target.ipv4;
    });
    await servedBy(lab, "routed", "client", [target.name]);
    const local = await answering(lab, "client", address, 10);
    assert.deepEqual(local, { nodes: [target.name], clients: [lab.info.client.ipv4] });
  });

  test("a hard node failure: the address moves and the new announcer's kube-proxy serves", async () => {
    const { node: failed, address } = await settled(lab, "web");
    await servedBy(
      lab,
      "web",
      "client",
      lab.info.nodes.map((n) => n.name),
    );
    const probe = lab.probe("client", address, {
      intervalMs: 20,
      timeoutMs: 1000,
      durationMs: 6000,
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    const failedAt = Date.now();
    await labFail(ref, failed, "hard");
    try {
      const samples = await probe.result;
      const outage = outageAfter(samples, failedAt, failed);
      assert.ok(outage.firstGoodReplyMs !== undefined, "the client never got an answer again");
      // Answers after the takeover come from the live nodes only. (The dead node's pod
      // is still in the slice — no kubelet, and no node lifecycle controller to mark it —
      // so the new announcer's kube-proxy still sends it a share, which fails: the
      // benchmark counts those.)
      const recovered = failedAt + outage.firstGoodReplyMs!;
      const served = new Set(
        samples.filter((s) => s.ok && s.sentAt > recovered).map((s) => s.node),
      );
      assert.ok(!served.has(failed), `${failed} answered while failed`);
      assert.ok(served.size >= 1, "no answers after the takeover");
    } finally {
      await labHeal(ref, failed);
    }
    await settled(lab, "web");
  });
});

describe("the lab on real Kubernetes, kube-proxy in iptables mode", { concurrency: false }, () => {
  const ref = { name: `rki${process.pid % 10000}` };
  let lab: LabSession;

  before(async () => {
    lab = await upRealLab(ref, { nodes: 2, proxyMode: "iptables" });
  });
  after(() => downRealLab(ref, lab as LabSession | undefined));

  test("Cluster reaches both nodes' pods; Local keeps the client's address", async () => {
    assert.equal(lab.info.kube.proxyMode, "iptables");
    const rules = await lab.exec("node1", ["iptables-save", "-t", "nat"]);
    assert.match(rules, /KUBE-SERVICES/);
    await lab.createService("web", {});
    const { address } = await settled(lab, "web");
    await servedBy(lab, "web", "lanclient", ["node1", "node2"]);
    const seen = await answering(lab, "lanclient", address, 20);
    assert.deepEqual(seen.nodes, ["node1", "node2"]);
    await lab.api.mergePatch("/api/v1/namespaces/default/services/web", {
      spec: { externalTrafficPolicy: "Local" },
    });
    await labBackends(ref, ["node2"]);
    const moved = await waitUntil("the address on node2", async () => {
      const current = await settled(lab, "web");
      return current.node === "node2" ? current : undefined;
    });
    await servedBy(lab, "web", "lanclient", ["node2"]);
    const local = await answering(lab, "lanclient", moved.address, 5);
    assert.deepEqual(local, { nodes: ["node2"], clients: [lab.info.lanclient.ipv4] });
  });
});

describe("the lab on real Kubernetes, kube-proxy in IPVS mode", () => {
  test("is refused up front, with the reason, where the kernel has no IPVS", async (t) => {
    requireNetworkTier(["ip"]);
    if (existsSync("/proc/net/ip_vs")) {
      t.skip("this kernel has IPVS: the refusal is for kernels without it");
      return;
    }
    const ref = { name: `rkv${process.pid % 10000}` };
    await assert.rejects(
      labUp({ ...ref, nodes: 1, ipv6: false, agents: false, kube: "real", proxyMode: "ipvs" }),
      /IPVS in the kernel \(CONFIG_IP_VS\)/,
    );
    // Refused before anything was built.
    assert.equal(existsSync(`/run/herald/lab-${ref.name}`), false);
  });
});
