// MetalLB in a Herald lab on real Kubernetes (`--kube real`), for the side-by-side
// benchmark: its CRDs and its own RBAC (config/rbac, least privilege as MetalLB ships it)
// read from the module in the Go module cache, its controller with webhooks disabled on
// the host, and a speaker in every node namespace — each a lab process under its own
// ServiceAccount's token, so the audit log counts them apart from Herald. MetalLB handles
// only Services of its loadBalancerClass (`--lb-class`) and Herald only its own, each
// from its own address range.
//
// The speakers find each other as MetalLB's DaemonSet does: they list the Pods labelled
// app=metallb,component=speaker in their namespace and join the memberlist at each
// Pod's status.podIP. No kubelet runs them, so the harness posts those Pods (hostNetwork,
// podIP = the node's address) with the status a kubelet would report.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, readFile, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { LabApi } from "../../src/lab/api.ts";
import { pidOf, startProcess, type ProcessSpec } from "../../src/lab/processes.ts";
import type { LabState } from "../../src/lab/state.ts";
import { LabFiles } from "../../src/lab/state.ts";
import type { LabSession } from "../../src/lab/session.ts";
import { waitUntil } from "../../src/lab/session.ts";
import { freePorts } from "../../src/realkube/real-kube.ts";
import { writeTokenKubeconfig } from "../../src/realkube/control-plane.ts";
import { serviceAccountToken } from "../../src/realkube/tokens.ts";
import type { Announcer, FailoverTarget } from "../failover-step.ts";

const run = promisify(execFile);

export const PEERS_SCRIPT = fileURLToPath(new URL("../../scripts/peers.sh", import.meta.url));
export const METALLB_NAMESPACE = "metallb-system";
export const METALLB_CLASS = "metallb.io/metallb";
export const METALLB_USERS = {
  controller: `system:serviceaccount:${METALLB_NAMESPACE}:controller`,
  speaker: `system:serviceaccount:${METALLB_NAMESPACE}:speaker`,
} as const;
const SPEAKER_LABELS = { app: "metallb", component: "speaker" };
/** The memberlist port MetalLB's manifests give the speaker. */
const MEMBERLIST_PORT = 7946;

export interface PeerBinaries {
  dir: string;
  metallbVersion: string;
  /** go.universe.tf/metallb's directory in the Go module cache: CRDs and RBAC. */
  metallbModule: string;
  /** What the module proxy answered for kube-vip (peers.sh's kube-vip.status). */
  kubeVip: string;
}

/** scripts/peers.sh's cache, building it when cold (minutes). */
export async function peerBinaries(): Promise<PeerBinaries> {
  const { stdout } = await run(PEERS_SCRIPT, [], { maxBuffer: 1 << 20, timeout: 1_800_000 });
  const dir = stdout.trim().split("\n").at(-1) ?? "";
  const metallbModule = (await readFile(join(dir, "metallb-module"), "utf8")).trim();
  return {
    dir,
    metallbVersion: /@(v[^/]+)$/.exec(metallbModule)?.[1] ?? "unknown",
    metallbModule,
    kubeVip: (await readFile(join(dir, "kube-vip.status"), "utf8")).trim(),
  };
}

interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  subjects?: { kind: string; name: string; namespace?: string }[];
}

function collectionOf(object: KubeObject): string {
  const rbac = "/apis/rbac.authorization.k8s.io/v1";
  const ns = METALLB_NAMESPACE;
  switch (object.kind) {
    case "CustomResourceDefinition":
      return "/apis/apiextensions.k8s.io/v1/customresourcedefinitions";
    case "ServiceAccount":
      return `/api/v1/namespaces/${ns}/serviceaccounts`;
    case "Role":
      return `${rbac}/namespaces/${ns}/roles`;
    case "RoleBinding":
      return `${rbac}/namespaces/${ns}/rolebindings`;
    case "ClusterRole":
      return `${rbac}/clusterroles`;
    case "ClusterRoleBinding":
      return `${rbac}/clusterrolebindings`;
    default:
      throw new Error(`MetalLB's config has a ${object.kind}, which the harness does not install`);
  }
}

/** MetalLB's CRDs and RBAC from its module, in its namespace (kustomize would set it). */
async function installManifests(api: LabApi, module: string): Promise<string[]> {
  const { loadAllYaml } = await import("@kubernetes/client-node");
  const crdDir = join(module, "config/crd/bases");
  const files = [
    ...(await readdir(crdDir)).filter((f) => f.endsWith(".yaml")).map((f) => join(crdDir, f)),
    join(module, "config/rbac/service-accounts.yaml"),
    join(module, "config/rbac/role.yaml"),
  ];
  const crds: string[] = [];
  for (const file of files)
    for (const object of loadAllYaml(await readFile(file, "utf8")) as KubeObject[]) {
      if (!object) continue;
      const namespaced = ["ServiceAccount", "Role", "RoleBinding"].includes(object.kind);
      if (namespaced) object.metadata.namespace = METALLB_NAMESPACE;
      for (const subject of object.subjects ?? [])
        if (subject.kind === "ServiceAccount") subject.namespace = METALLB_NAMESPACE;
      await api.ensure(collectionOf(object), object);
      if (object.kind === "CustomResourceDefinition") crds.push(object.metadata.name);
    }
  await waitUntil(
    "MetalLB's CRDs to be established",
    async () => {
      for (const name of crds) {
        const crd = (await api.request(
          "GET",
          `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`,
        )) as { status?: { conditions?: { type: string; status: string }[] } };
        if (!crd.status?.conditions?.some((c) => c.type === "Established" && c.status === "True"))
          return false;
      }
      return true;
    },
    30_000,
    200,
  );
  return files.map((file) => file.slice(module.length + 1));
}

function speakerPodName(node: string): string {
  return `speaker-${node}`;
}

/** The speaker's Pod on `node` as its DaemonSet and a kubelet would leave it. */
async function postSpeakerPod(api: LabApi, node: LabState["nodes"][number]): Promise<void> {
  const name = speakerPodName(node.name);
  const base = `/api/v1/namespaces/${METALLB_NAMESPACE}/pods`;
  await api.ensure(base, {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: METALLB_NAMESPACE, labels: SPEAKER_LABELS },
    spec: {
      nodeName: node.name,
      serviceAccountName: "speaker",
      hostNetwork: true,
      containers: [{ name: "speaker", image: "quay.io/metallb/speaker:lab" }],
    },
  });
  const time = new Date().toISOString();
  await api.mergePatch(`${base}/${name}/status`, {
    status: {
      phase: "Running",
      conditions: ["PodScheduled", "Initialized", "ContainersReady", "Ready"].map((type) => ({
        type,
        status: "True",
        lastTransitionTime: time,
      })),
      hostIP: node.ipv4,
      hostIPs: [{ ip: node.ipv4 }],
      podIP: node.ipv4,
      podIPs: [{ ip: node.ipv4 }],
      startTime: time,
    },
  });
}

export interface MetalLBSettings {
  version: string;
  loadBalancerClass: string;
  webhooks: "disabled";
  rbac: string[];
  memberlist: Record<string, unknown>;
}

/** MetalLB running in a lab: its processes, its pools, and who announces what. */
export class MetalLB {
  readonly #lab: LabSession;
  readonly #state: LabState;
  readonly #files: LabFiles;
  readonly #bin: PeerBinaries;
  readonly #kubeconfigs: { controller: string; speaker: string };
  readonly #secretDir: string;
  settings: MetalLBSettings | undefined;

  constructor(lab: LabSession, state: LabState, bin: PeerBinaries) {
    this.#lab = lab;
    this.#state = state;
    this.#files = new LabFiles(state.dir);
    this.#bin = bin;
    // Inside the lab's kube directory, which the lab's down removes with the rest.
    const dir = join(this.#files.kube, "metallb");
    this.#kubeconfigs = {
      controller: join(dir, "controller.kubeconfig"),
      speaker: join(dir, "speaker.kubeconfig"),
    };
    this.#secretDir = join(dir, "memberlist");
  }

  /** Installs MetalLB and starts its controller and every speaker. */
  async start(): Promise<void> {
    const api = this.#lab.api;
    await api.ensure("/api/v1/namespaces", {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: { name: METALLB_NAMESPACE },
    });
    const rbac = await installManifests(api, this.#bin.metallbModule);
    // The shared memberlist key: what the controller's --ml-secret-name would create,
    // and what the DaemonSet mounts at --ml-secret-key-path.
    const key = randomBytes(128).toString("base64");
    await api.ensure(`/api/v1/namespaces/${METALLB_NAMESPACE}/secrets`, {
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: "memberlist", namespace: METALLB_NAMESPACE },
      data: { secretkey: Buffer.from(key).toString("base64") },
    });
    await mkdir(this.#secretDir, { recursive: true, mode: 0o700 });
    await writeFile(join(this.#secretDir, "secretkey"), key, { mode: 0o600 });
    // Each ServiceAccount's token, with the lab's server and CA.
    const admin = JSON.parse(await readFile(this.#state.kubeconfig, "utf8")) as {
      clusters: { cluster: { server: string; "certificate-authority": string } }[];
    };
    const { server, "certificate-authority": ca } = admin.clusters[0]!.cluster;
    for (const [who, path] of Object.entries(this.#kubeconfigs)) {
      const token = await serviceAccountToken(api, METALLB_NAMESPACE, who);
      await writeTokenKubeconfig(path, server, ca, token);
    }
    for (const node of this.#state.nodes) await postSpeakerPod(api, node);

    startProcess(this.#files, await this.#controllerSpec());
    for (const node of this.#state.nodes) this.startSpeaker(node.name);
    this.settings = {
      version: this.#bin.metallbVersion,
      loadBalancerClass: METALLB_CLASS,
      webhooks: "disabled",
      rbac,
      // hashicorp/memberlist's DefaultLANConfig, which MetalLB's speaker uses unchanged
      // (without --ml-wan-config): a node is suspected after a failed probe and declared
      // dead SuspicionMult × max(1, log10(n)) × ProbeInterval later.
      memberlist: {
        config: "DefaultLANConfig (hashicorp/memberlist)",
        probeIntervalMs: 1000,
        probeTimeoutMs: 500,
        suspicionMult: 4,
        suspicionMaxTimeoutMult: 6,
        gossipIntervalMs: 200,
        gossipNodes: 3,
        pushPullIntervalMs: 30_000,
        bindPort: MEMBERLIST_PORT,
        encrypted: true,
      },
    };
  }

  async #controllerSpec(): Promise<ProcessSpec> {
    const [port] = await freePorts(1);
    return {
      role: "metallb-controller",
      namespace: null,
      program: [join(this.#bin.dir, "metallb-controller")],
      args: [
        "--kubeconfig",
        this.#kubeconfigs.controller,
        `--namespace=${METALLB_NAMESPACE}`,
        "--webhook-mode=disabled",
        `--lb-class=${METALLB_CLASS}`,
        // Its metrics port on the host's namespace, where 7472 may be taken.
        `--port=${port}`,
        "--log-level=info",
      ],
    };
  }

  // The lab's paths are arguments of their own: the lab knows its processes (pidOf, down)
  // by an argument that is, or starts with, its directory.
  #speakerSpec(nodeName: string): ProcessSpec {
    const node = this.#state.nodes.find((n) => n.name === nodeName)!;
    return {
      role: `metallb-speaker-${node.name}`,
      namespace: node.namespace,
      program: [join(this.#bin.dir, "metallb-speaker")],
      args: [
        "--kubeconfig",
        this.#kubeconfigs.speaker,
        `--namespace=${METALLB_NAMESPACE}`,
        `--node-name=${node.name}`,
        `--pod-name=${speakerPodName(node.name)}`,
        `--ml-bindaddr=${node.ipv4}`,
        `--ml-bindport=${MEMBERLIST_PORT}`,
        `--ml-labels=${Object.entries(SPEAKER_LABELS)
          .map(([k, v]) => `${k}=${v}`)
          .join(",")}`,
        "--ml-secret-key-path",
        this.#secretDir,
        `--lb-class=${METALLB_CLASS}`,
        `--host=${node.ipv4}`,
        "--log-level=info",
      ],
    };
  }

  startSpeaker(node: string): void {
    startProcess(this.#files, this.#speakerSpec(node));
  }

  /** Restarts the node's speaker if it is not running (after a drain). */
  ensureSpeaker(node: string): void {
    if (pidOf(this.#files, `metallb-speaker-${node}`) === undefined) this.startSpeaker(node);
  }

  /** An IPAddressPool and its L2Advertisement on the nodes' LAN interface. */
  async applyPool(name: string, addresses: string[]): Promise<void> {
    const base = `/apis/metallb.io/v1beta1/namespaces/${METALLB_NAMESPACE}`;
    await this.#lab.api.ensure(`${base}/ipaddresspools`, {
      apiVersion: "metallb.io/v1beta1",
      kind: "IPAddressPool",
      metadata: { name, namespace: METALLB_NAMESPACE },
      spec: { addresses, autoAssign: false },
    });
    await this.#lab.api.ensure(`${base}/l2advertisements`, {
      apiVersion: "metallb.io/v1beta1",
      kind: "L2Advertisement",
      metadata: { name, namespace: METALLB_NAMESPACE },
      spec: { ipAddressPools: [name], interfaces: ["eth0"] },
    });
  }

  /** The MACs answering ARP for `address` on the LAN (arping from the lanclient). */
  async arpAnswers(address: string): Promise<string[]> {
    const { output } = await this.#lab.tryExec(
      "lanclient",
      ["arping", "-c", "3", "-W", "0.1", "-i", "eth0", "-r", address],
      5000,
    );
    return [
      ...new Set(
        output
          .split("\n")
          .map((line) => line.trim().toLowerCase())
          .filter((line) => /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(line)),
      ),
    ].sort();
  }

  /**
   * MetalLB's announcer: the one node whose MAC answers ARP for the service's address —
   * what the client's router meets, as the kernel is for Herald. Not its ServiceL2Status:
   * MetalLB writes no node into the Service, and its status objects lag the announcement
   * (seen empty for 14 s after a heal while a speaker answered ARP, and once not back in
   * 90 s). Two MACs answering (both speakers announcing while the memberlist converges)
   * is no announcer.
   */
  target(service: string): FailoverTarget {
    const nodeOf = (mac: string) =>
      this.#state.nodes.find((n) => n.mac.toLowerCase() === mac)?.name;
    const announcer = async (): Promise<Announcer | undefined> => {
      const address = (await this.#lab.service(service)).addresses[0];
      if (!address) return undefined;
      const macs = await this.arpAnswers(address);
      const node = macs.length === 1 ? nodeOf(macs[0]!) : undefined;
      return node ? { node, address } : undefined;
    };
    return {
      announcer,
      settled: async (address) => (await announcer())?.address === address,
    };
  }
}
