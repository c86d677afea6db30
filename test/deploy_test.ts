// deploy/: the manifests as kustomize renders them, what they promise (least privilege,
// the flags and ports the commands really have), real kubectl applying them to devkube,
// and the image's program — the esbuild bundle of src/cli/runtime.ts run by Node 22 as the
// image runs it (test/image_test.ts checks the image itself).
// Needs kubectl on PATH (scripts/test.sh installs it where missing).
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { loadAll } from "js-yaml";
import { startCluster, waitFor, type TestCluster } from "./cluster.ts";
import { runAsync } from "./processes.ts";

const root = fileURLToPath(new URL("../", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "herald-deploy-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const RENDER_COMMAND = "scripts/render-deploy.sh";
const { version } = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
  version: string;
};
const IMAGE = `herald:${version}`;

// ---- running things ----

function run(
  command: string,
  args: string[],
  options: { env?: Record<string, string>; input?: string } = {},
) {
  const result = spawnSync(command, args, {
    cwd: root,
    input: options.input,
    encoding: "utf8",
    env: { ...process.env, ...options.env },
    timeout: 60_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error) throw result.error;
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function ok(command: string, args: string[], options: { env?: Record<string, string> } = {}) {
  const result = run(command, args, options);
  assert.equal(result.code, 0, `${command} ${args.join(" ")} failed:\n${result.stderr}`);
  return result.stdout;
}

let validateFlag: string[] = [];
before(() => {
  const found = spawnSync("kubectl", ["version", "--client", "-o", "json"], { encoding: "utf8" });
  if (found.error) {
    throw new Error(
      "this test needs kubectl on PATH (kustomize is built into it); scripts/test.sh installs it",
    );
  }
  // As in src/devkube/kubectl_test.ts: kubectl before 1.27 validates against a protobuf
  // OpenAPI v2 document devkube does not serve.
  const minor = Number(/"minor":\s*"(\d+)/.exec(found.stdout)?.[1] ?? 99);
  if (minor < 27) validateFlag = ["--validate=false"];
});

// ---- the manifests as data ----

interface Meta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
}
interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: Meta;
  spec?: unknown;
}
interface Capabilities {
  add?: string[];
  drop?: string[];
}
interface SecurityContext {
  runAsNonRoot?: boolean;
  runAsUser?: number;
  allowPrivilegeEscalation?: boolean;
  readOnlyRootFilesystem?: boolean;
  capabilities?: Capabilities;
  seccompProfile?: { type: string };
}
interface Probe {
  httpGet?: { path: string; port: string | number };
}
interface Container {
  name: string;
  image: string;
  args?: string[];
  command?: string[];
  env?: { name: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[];
  ports?: { name: string; containerPort: number; protocol: string }[];
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  securityContext?: SecurityContext;
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
}
interface PodSpec {
  serviceAccountName: string;
  automountServiceAccountToken?: boolean;
  initContainers?: Container[];
  hostNetwork?: boolean;
  securityContext?: SecurityContext;
  tolerations?: { operator?: string; key?: string }[];
  containers: Container[];
  volumes?: {
    name: string;
    emptyDir?: unknown;
    hostPath?: { path: string };
    projected?: { sources: Record<string, unknown>[] };
  }[];
}
interface Workload extends K8sObject {
  spec: { replicas?: number; template: { spec: PodSpec } };
}
interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

function kustomize(path: string): string {
  return ok("kubectl", ["kustomize", path]);
}

function objects(yaml: string): K8sObject[] {
  return (loadAll(yaml) as (K8sObject | null)[]).filter((o): o is K8sObject => o !== null);
}

function find<T extends K8sObject = K8sObject>(list: K8sObject[], kind: string, name: string): T {
  const found = list.find((o) => o.kind === kind && o.metadata.name === name);
  assert.ok(found, `no ${kind} ${name}`);
  return found as T;
}

function container(workload: Workload, name: string): Container {
  const found = workload.spec.template.spec.containers.find((c) => c.name === name);
  assert.ok(found, `${workload.kind} ${workload.metadata.name} has no container ${name}`);
  return found;
}

function fieldRefs(c: Container): Record<string, string | undefined> {
  return Object.fromEntries((c.env ?? []).map((e) => [e.name, e.valueFrom?.fieldRef?.fieldPath]));
}

function port(c: Container, name: string): number | undefined {
  return c.ports?.find((p) => p.name === name)?.containerPort;
}

/** The default commander prints for an option in `herald COMMAND --help`. */
function cliDefault(command: string, option: string): string {
  const help = ok(process.execPath, [join(root, "bin/herald.js"), command, "--help"]);
  const flat = help.replace(/\s+/g, " ");
  const match = new RegExp(`${option} <[^>]+>.*?\\(default: "([^"]+)"\\)`).exec(flat);
  assert.ok(match, `herald ${command} --help shows no default for ${option}`);
  return match[1]!;
}

const base = () => objects(kustomize("deploy/base"));

// ---- rendering ----

describe("deploy/ renders", () => {
  it("installs every CRD deploy/crds holds", () => {
    const crds = readdirSync(join(root, "deploy/crds")).filter(
      (name) => name.endsWith(".yaml") && name !== "kustomization.yaml",
    );
    const rendered = base().filter((o) => o.kind === "CustomResourceDefinition");
    assert.equal(rendered.length, crds.length);
    assert.ok(crds.length >= 5);
  });

  it("deploy/herald.yaml is deploy/base rendered by kubectl kustomize, byte for byte", () => {
    const expected =
      "# Herald: deploy/base rendered by scripts/render-deploy.sh (kubectl kustomize); do not edit.\n" +
      "# Install: kubectl apply -f deploy/herald.yaml, then the detector key (docs/install.md).\n" +
      kustomize("deploy/base");
    const actual = readFileSync(join(root, "deploy/herald.yaml"), "utf8");
    assert.ok(actual === expected, `deploy/herald.yaml is stale; run ${RENDER_COMMAND}`);
  });

  it("holds the CRDs, the namespace, RBAC, the controller and the agent", () => {
    const list = base();
    const crdNames = readdirSync(join(root, "deploy/crds"))
      .filter((name) => name.endsWith(".yaml") && name !== "kustomization.yaml")
      .map((name) => name.replace(/\.yaml$/, ""))
      .sort();
    assert.deepEqual(
      list
        .filter((o) => o.kind === "CustomResourceDefinition")
        .map((o) => o.metadata.name)
        .sort(),
      crdNames,
    );
    find(list, "Namespace", "herald-system");
    find(list, "Deployment", "herald-controller");
    find(list, "DaemonSet", "herald-agent");
    // Everything namespaced is in herald-system, but the Role that reads kube-proxy's
    // ConfigMap where it lives.
    for (const o of list) {
      if (
        [
          "Namespace",
          "CustomResourceDefinition",
          "ClusterRole",
          "ClusterRoleBinding",
          "ValidatingAdmissionPolicy",
          "ValidatingAdmissionPolicyBinding",
        ].includes(o.kind)
      )
        continue;
      const expected =
        o.metadata.name === "herald-agent-kube-proxy" ? "kube-system" : "herald-system";
      assert.equal(o.metadata.namespace, expected, `${o.kind} ${o.metadata.name}`);
    }
  });

  it("uses the image the Dockerfile builds, tagged with the package version", () => {
    const dockerfile = readFileSync(join(root, "deploy/Dockerfile"), "utf8");
    assert.ok(
      dockerfile.includes(`docker build -f deploy/Dockerfile -t ${IMAGE} .`),
      `deploy/Dockerfile should document: docker build -f deploy/Dockerfile -t ${IMAGE} .`,
    );
    assert.ok(dockerfile.includes(`org.opencontainers.image.version="${version}"`));
    for (const path of ["deploy/base", ...overlays()]) {
      for (const o of objects(kustomize(path))) {
        if (o.kind !== "Deployment" && o.kind !== "DaemonSet") continue;
        for (const c of (o as Workload).spec.template.spec.containers)
          assert.equal(c.image, IMAGE, `${path}: ${o.kind} ${o.metadata.name} ${c.name}`);
      }
    }
  });
});

function overlays(): string[] {
  return readdirSync(join(root, "deploy/overlays")).map((name) => `deploy/overlays/${name}`);
}

// ---- what the manifests promise ----

describe("the controller Deployment", () => {
  const controller = () => find<Workload>(base(), "Deployment", "herald-controller");

  it("runs two replicas under Pod Security 'restricted'", () => {
    const deployment = controller();
    assert.equal(deployment.spec.replicas, 2);
    const pod = deployment.spec.template.spec;
    assert.equal(pod.hostNetwork, undefined);
    assert.equal(pod.securityContext?.runAsNonRoot, true);
    assert.ok((pod.securityContext?.runAsUser ?? 0) > 0);
    assert.equal(pod.securityContext?.seccompProfile?.type, "RuntimeDefault");
    const c = container(deployment, "controller");
    assert.deepEqual(c.args, ["controller"]);
    const security = c.securityContext!;
    assert.equal(security.runAsNonRoot, true);
    assert.equal(security.allowPrivilegeEscalation, false);
    assert.equal(security.readOnlyRootFilesystem, true);
    assert.deepEqual(security.capabilities, { drop: ["ALL"] });
  });

  it("takes namespace and identity from the downward API and serves the CLI's ports", () => {
    const c = container(controller(), "controller");
    assert.deepEqual(fieldRefs(c), {
      POD_NAMESPACE: "metadata.namespace",
      POD_NAME: "metadata.name",
    });
    const metrics = Number(cliDefault("controller", "--metrics-address").split(":").at(-1));
    const health = Number(cliDefault("controller", "--health-address").split(":").at(-1));
    assert.equal(port(c, "metrics"), metrics);
    assert.equal(port(c, "health"), health);
    assert.deepEqual(c.livenessProbe?.httpGet, { path: "/healthz", port: "health" });
    assert.deepEqual(c.readinessProbe?.httpGet, { path: "/readyz", port: "health" });
  });
});

describe("the agent DaemonSet", () => {
  const agentSet = () => find<Workload>(base(), "DaemonSet", "herald-agent");

  it("runs on every node with the host's network", () => {
    const pod = agentSet().spec.template.spec;
    assert.equal(pod.hostNetwork, true);
    assert.deepEqual(pod.tolerations, [{ operator: "Exists" }]);
    assert.equal(pod.securityContext?.seccompProfile?.type, "RuntimeDefault");
  });

  it("gives the agent exactly NET_ADMIN and NET_RAW and drops everything else", () => {
    const security = container(agentSet(), "agent").securityContext!;
    assert.deepEqual(security.capabilities?.drop, ["ALL"]);
    assert.deepEqual([...(security.capabilities?.add ?? [])].sort(), ["NET_ADMIN", "NET_RAW"]);
    assert.equal(security.allowPrivilegeEscalation, false);
    assert.equal(security.readOnlyRootFilesystem, true);
  });

  it("runs the agent with a BIRD sidecar on a shared directory", () => {
    const daemonSet = agentSet();
    const agent = container(daemonSet, "agent");
    assert.deepEqual(agent.args, [
      "agent",
      "--bird-mode",
      "sidecar",
      "--bird-dir",
      "/run/herald/bird",
      "--daemonset",
      "herald-agent",
      "--metrics-address",
      "$(HOST_IP):7475",
      "--health-address",
      "$(HOST_IP):7476",
    ]);
    const bird = container(daemonSet, "bird");
    assert.deepEqual(bird.command, [
      "sh",
      "-c",
      "until [ -s /run/herald/bird/bird.conf ]; do sleep 1; done; " +
        "exec bird -f -c /run/herald/bird/bird.conf -s /run/herald/bird/bird.ctl",
    ]);
    const security = bird.securityContext!;
    assert.deepEqual(security.capabilities?.drop, ["ALL"]);
    assert.deepEqual([...(security.capabilities?.add ?? [])].sort(), [
      "NET_ADMIN",
      "NET_BIND_SERVICE",
    ]);
    assert.equal(security.allowPrivilegeEscalation, false);
    for (const c of [agent, bird])
      assert.deepEqual(
        c.volumeMounts?.filter((m) => m.name === "bird"),
        [{ name: "bird", mountPath: "/run/herald/bird" }],
      );
    // The BIRD sidecar sees nothing of the node but the shared directory.
    assert.equal(bird.volumeMounts?.length, 1);
    const volume = daemonSet.spec.template.spec.volumes?.find((v) => v.name === "bird");
    assert.ok(volume?.emptyDir, "the shared directory is an emptyDir");
  });

  it("mounts the node's /proc/sys/net only in the init container, which raises three keys and exits", () => {
    const pod = agentSet().spec.template.spec;
    const init = pod.initContainers ?? [];
    assert.deepEqual(
      init.map((c) => c.name),
      ["agent-sysctls"],
    );
    const sysctls = init[0]!;
    assert.deepEqual(sysctls.args, ["agent-sysctls", "--proc-sys", "/host/proc/sys"]);
    assert.deepEqual(sysctls.securityContext?.capabilities, { drop: ["ALL"], add: ["NET_ADMIN"] });
    const procVolume = pod.volumes?.find((v) => v.hostPath);
    assert.equal(procVolume?.hostPath?.path, "/proc/sys/net");
    assert.deepEqual(sysctls.volumeMounts, [
      { name: procVolume?.name, mountPath: "/host/proc/sys/net" },
    ]);
    // Nothing that keeps running can write a sysctl or sees any of the node's files.
    for (const c of pod.containers) {
      assert.ok(!c.volumeMounts?.some((m) => m.name === procVolume?.name), c.name);
      assert.ok(!c.args?.includes("--proc-sys"), c.name);
    }
    // The command exists in the image's entry point, not only in the development CLI.
    const runtime = readFileSync(join(root, "src/cli/runtime.ts"), "utf8");
    assert.match(runtime, /addAgentSysctlsCommand\(program\)/);
  });

  it("gives the API token to the agent container alone", () => {
    const pod = agentSet().spec.template.spec;
    assert.equal(pod.automountServiceAccountToken, false);
    const tokenVolume = pod.volumes?.find((v) =>
      v.projected?.sources.some((source) => "serviceAccountToken" in source),
    );
    assert.ok(tokenVolume, "a projected ServiceAccount token volume");
    const holders = [...(pod.initContainers ?? []), ...pod.containers]
      .filter((c) => c.volumeMounts?.some((m) => m.name === tokenVolume.name))
      .map((c) => c.name);
    assert.deepEqual(holders, ["agent"]);
    const mount = container(agentSet(), "agent").volumeMounts?.find(
      (m) => m.name === tokenVolume.name,
    );
    // Where client libraries look for the in-cluster credentials.
    assert.deepEqual(mount, {
      name: tokenVolume.name,
      mountPath: "/var/run/secrets/kubernetes.io/serviceaccount",
      readOnly: true,
    });
  });

  it("takes node and namespace from the downward API and serves the CLI's ports", () => {
    const agent = container(agentSet(), "agent");
    assert.deepEqual(fieldRefs(agent), {
      NODE_NAME: "spec.nodeName",
      POD_NAMESPACE: "metadata.namespace",
      HOST_IP: "status.hostIP",
    });
    // The CLI listens on loopback; the DaemonSet on the node's address, never 0.0.0.0.
    assert.match(cliDefault("agent", "--metrics-address"), /^127\.0\.0\.1:/);
    const args = agent.args ?? [];
    const arg = (flag: string) => args[args.indexOf(flag) + 1];
    assert.equal(
      arg("--metrics-address"),
      `$(HOST_IP):${cliDefault("agent", "--metrics-address").split(":").at(-1)}`,
    );
    assert.equal(
      arg("--health-address"),
      `$(HOST_IP):${cliDefault("agent", "--health-address").split(":").at(-1)}`,
    );
    const metrics = Number(cliDefault("agent", "--metrics-address").split(":").at(-1));
    const health = Number(cliDefault("agent", "--health-address").split(":").at(-1));
    assert.equal(port(agent, "metrics"), metrics);
    assert.equal(port(agent, "health"), health);
    assert.equal(port(agent, "detector"), 7474);
    assert.deepEqual(agent.livenessProbe?.httpGet, { path: "/healthz", port: "health" });
    assert.deepEqual(agent.readinessProbe?.httpGet, { path: "/readyz", port: "health" });
  });
});

describe("RBAC", () => {
  const sources = ["deploy/base/controller-rbac.yaml", "deploy/base/agent-rbac.yaml"];

  it("says why next to every rule (in the source files: kustomize drops comments)", () => {
    for (const path of sources) {
      const lines = readFileSync(join(root, path), "utf8").split("\n");
      let rules = 0;
      lines.forEach((line, index) => {
        if (!/^\s*- apiGroups:/.test(line)) return;
        rules++;
        let above = index - 1;
        const comment: string[] = [];
        while (above >= 0 && /^\s*#/.test(lines[above]!)) comment.unshift(lines[above--]!.trim());
        assert.ok(
          comment[0]?.startsWith("# WHY:"),
          `${path}:${index + 1}: the rule needs a "# WHY:" comment right above it`,
        );
      });
      assert.ok(rules > 0, `${path} has no rules`);
    }
  });

  it("grants no wildcard, no delete, no escalation, and reads Secrets only in herald-system", () => {
    const allowed = new Set(["get", "list", "watch", "create", "update", "patch"]);
    for (const o of base()) {
      if (o.kind !== "ClusterRole" && o.kind !== "Role") continue;
      for (const rule of (o as unknown as { rules: Rule[] }).rules) {
        const where: string = `${o.kind} ${o.metadata.name}`;
        for (const verb of rule.verbs) assert.ok(allowed.has(verb), `${where}: verb ${verb}`);
        for (const value of [...rule.apiGroups, ...rule.resources])
          assert.ok(!value.includes("*"), `${where}: wildcard ${value}`);
        if (rule.resources.includes("secrets")) {
          assert.equal(o.kind, "Role", `${where}: Secrets only through a namespaced Role`);
          assert.equal(o.metadata.namespace, "herald-system");
          // The agent lists and watches two by name (the key, the BGP password copy); the
          // controller reads the key by name, creates it and the copy, follows the Secrets
          // BGPPeers name, and rewrites only the copy.
          const verbs = [...rule.verbs].sort().join(",");
          const names = [...(rule.resourceNames ?? [])].sort().join(",");
          const grant = `${verbs} ${names}`.trim();
          if (o.metadata.name === "herald-controller") {
            assert.ok(
              ["create", "get herald-agent-key", "list,watch", "update herald-agent-bgp"].includes(
                grant,
              ),
              `${where}: secrets ${grant}`,
            );
          } else {
            assert.equal(
              grant,
              "list,watch herald-agent-bgp,herald-agent-key",
              `${where}: secrets`,
            );
          }
        }
      }
    }
  });

  it("binds each component's service account", () => {
    const list = base();
    for (const [workload, kind] of [
      ["herald-controller", "Deployment"],
      ["herald-agent", "DaemonSet"],
    ] as const) {
      const account = find<Workload>(list, kind, workload).spec.template.spec.serviceAccountName;
      find(list, "ServiceAccount", account);
      const bindings = list.filter(
        (o) =>
          (o.kind === "RoleBinding" || o.kind === "ClusterRoleBinding") &&
          (o as unknown as { subjects: { name: string }[] }).subjects.some(
            (s) => s.name === account,
          ),
      );
      assert.ok(
        bindings.some((b) => b.kind === "ClusterRoleBinding"),
        `${account}: ClusterRoleBinding`,
      );
      assert.ok(
        bindings.some((b) => b.kind === "RoleBinding"),
        `${account}: RoleBinding`,
      );
    }
  });
});

describe("the overlays", () => {
  it("external-routing: AgentConfig routing External and no BIRD sidecar", () => {
    const list = objects(kustomize("deploy/overlays/external-routing"));
    const config = find(list, "AgentConfig", "default") as K8sObject & {
      spec: { routing: string };
    };
    assert.equal(config.spec.routing, "External");
    const daemonSet = find<Workload>(list, "DaemonSet", "herald-agent");
    assert.deepEqual(
      daemonSet.spec.template.spec.containers.map((c) => c.name),
      ["agent"],
    );
    assert.deepEqual(
      [...(container(daemonSet, "agent").securityContext?.capabilities?.add ?? [])].sort(),
      ["NET_ADMIN", "NET_RAW"],
    );
  });

  it("class-only: --class-only on the controller and the agent, once each", () => {
    const list = objects(kustomize("deploy/overlays/class-only"));
    const controller = container(
      find<Workload>(list, "Deployment", "herald-controller"),
      "controller",
    );
    const agent = container(find<Workload>(list, "DaemonSet", "herald-agent"), "agent");
    for (const c of [controller, agent])
      assert.equal(c.args?.filter((a) => a === "--class-only").length, 1, c.name);
    assert.equal(
      container(find<Workload>(list, "DaemonSet", "herald-agent"), "bird").args,
      undefined,
    );
  });
});

// ---- kubectl apply ----

async function withCluster(
  options: { crds: boolean },
  body: (kubectl: (args: string[]) => ReturnType<typeof runAsync>) => Promise<void>,
) {
  const cluster: TestCluster = await startCluster(options);
  const kubeconfig = join(dir, `kubeconfig-${Math.random().toString(36).slice(2)}`);
  writeFileSync(kubeconfig, cluster.kubeconfig());
  try {
    await body((args) => runAsync("kubectl", args, { KUBECONFIG: kubeconfig }));
  } finally {
    await cluster.stop();
  }
}

describe("kubectl apply", () => {
  it("installs deploy/herald.yaml on an empty cluster, then reads the workloads back", async () => {
    await withCluster({ crds: false }, async (kubectl) => {
      const applied = await kubectl(["apply", ...validateFlag, "-f", "deploy/herald.yaml"]);
      if (applied.code !== 0) {
        // Say which kinds the API server does not serve at all: that is a gap in it, not
        // in the manifest.
        const served = (await kubectl(["api-resources", "--no-headers"])).stdout
          .split("\n")
          .map((line) => line.trim().split(/\s+/))
          .filter((cells) => cells.length >= 4)
          .map((cells) => `${cells.at(-1)} ${cells.at(-3)}`);
        const kinds = new Set(
          objects(readFileSync(join(root, "deploy/herald.yaml"), "utf8")).map(
            (o) => `${o.kind} ${o.apiVersion}`,
          ),
        );
        const missing = [...kinds].filter((kind) => !served.includes(kind));
        assert.fail(
          `kubectl apply -f deploy/herald.yaml failed:\n${applied.stderr}\n` +
            (missing.length > 0 ? `the API server serves no ${missing.join(", ")}` : ""),
        );
      }
      const get = async (args: string[]) => {
        const result = await kubectl(["get", ...args, "-o", "json"]);
        assert.equal(result.code, 0, `kubectl get ${args.join(" ")} failed:\n${result.stderr}`);
        return JSON.parse(result.stdout) as Workload;
      };
      const deployment = await get(["-n", "herald-system", "deployment", "herald-controller"]);
      assert.equal(deployment.spec.replicas, 2);
      const daemonSet = await get(["-n", "herald-system", "daemonset", "herald-agent"]);
      assert.equal(daemonSet.spec.template.spec.hostNetwork, true);
      for (const crd of [
        "addresspools",
        "agentconfigs",
        "bgppeers",
        "bgpadvertisements",
        "nodestates",
      ])
        await get(["crd", `${crd}.herald.dev`]);
      // Applying again changes nothing and fails nothing (an upgrade is the same command).
      const again = await kubectl(["apply", ...validateFlag, "-f", "deploy/herald.yaml"]);
      assert.equal(again.code, 0, again.stderr);
      // The external-routing overlay on top: its AgentConfig passes the CRD's validation.
      const overlay = await kubectl([
        "apply",
        ...validateFlag,
        "-k",
        "deploy/overlays/external-routing",
      ]);
      assert.equal(overlay.code, 0, overlay.stderr);
      const config = await kubectl([
        "get",
        "agentconfig",
        "default",
        "-o",
        "jsonpath={.spec.routing}",
      ]);
      assert.equal(config.stdout, "External");
    });
  });

  it("accepts the external-routing AgentConfig against the CRD's schema", async () => {
    await withCluster({ crds: true }, async (kubectl) => {
      const applied = await kubectl([
        "apply",
        ...validateFlag,
        "-f",
        "deploy/overlays/external-routing/agentconfig.yaml",
      ]);
      assert.equal(applied.code, 0, applied.stderr);
      const config = await kubectl(["get", "agentconfig", "default", "-o", "json"]);
      const spec = (JSON.parse(config.stdout) as { spec: Record<string, unknown> }).spec;
      assert.equal(spec.routing, "External");
      // Defaults filled in by the schema, as the agents will read them.
      assert.equal(spec.virtualInterface, "kube-lb0");
    });
  });
});

describe("docs/install.md", () => {
  it("shows only Herald objects the CRDs accept", async () => {
    const text = readFileSync(join(root, "docs/install.md"), "utf8");
    const blocks = [...text.matchAll(/```yaml\n([\s\S]*?)```/g)]
      .map((match) => match[1]!)
      .filter((block) => block.includes("apiVersion: herald.dev/"));
    assert.ok(blocks.length >= 2, "an AddressPool, and the routed-mode objects");
    await withCluster({ crds: true }, async (kubectl) => {
      for (const [index, block] of blocks.entries()) {
        const file = join(dir, `install-example-${index}.yaml`);
        writeFileSync(file, block);
        const applied = await kubectl(["apply", ...validateFlag, "-f", file]);
        assert.equal(applied.code, 0, `docs/install.md example:\n${block}\n${applied.stderr}`);
      }
    });
  });
});

// ---- the image's program ----

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

describe("the bundle (what the image runs: deploy/image, deploy/Dockerfile)", () => {
  // Away from the repository, so that a dependency esbuild left out cannot be found in
  // node_modules by accident: the image has none.
  const bundle = join(dir, "image", "herald.mjs");
  before(() => {
    ok(process.execPath, [join(root, "scripts/bundle.ts"), bundle]);
  });
  const herald = (args: string[]) => run(process.execPath, [bundle, ...args]);

  it("runs on Node 22 and knows its version", () => {
    assert.match(process.versions.node, /^22\./, "the tests run on Node 22, as the image does");
    const result = herald(["--version"]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout.trim(), version);
  });

  it("carries the controller and the agent only: no devkube, lab, offline commands or test code", () => {
    const meta = JSON.parse(readFileSync(`${bundle}.meta.json`, "utf8")) as {
      inputs: Record<string, unknown>;
    };
    const sources = Object.keys(meta.inputs).filter((input) => input.startsWith("src/"));
    assert.ok(sources.includes("src/cli/runtime.ts"), "the entry point is src/cli/runtime.ts");
    assert.ok(
      sources.includes("src/controller/controller.ts") && sources.includes("src/agent/agent.ts"),
    );
    const unwanted = sources.filter(
      (input) =>
        /^src\/(devkube|lab)\//.test(input) ||
        /_test\.ts$|fixtures|testing\.ts$/.test(input) ||
        /^src\/cli\/(main|lab|dev-apiserver|plan|status|validate|migrate)\.ts$/.test(input),
    );
    assert.deepEqual(unwanted, []);
    const help = herald(["--help"]);
    assert.equal(help.code, 0, help.stderr);
    const commands = [...help.stdout.matchAll(/^ {2}([a-z][a-z-]*) /gm)].map((match) => match[1]);
    assert.deepEqual(commands, ["controller", "agent", "agent-sysctls", "help"]);
    assert.notEqual(herald(["dev-apiserver"]).code, 0, "no devkube in the image");
  });

  it("runs the controller against an API server: ready, allocating, stopping cleanly", async () => {
    const cluster = await startCluster();
    const kubeconfig = join(dir, "controller.kubeconfig");
    writeFileSync(kubeconfig, cluster.kubeconfig());
    const [metricsPort, healthPort] = [await freePort(), await freePort()];
    const child = spawn(
      process.execPath,
      [
        bundle,
        "controller",
        "--kubeconfig",
        kubeconfig,
        "--namespace",
        "herald-system",
        "--identity",
        "bundle-test",
        "--metrics-address",
        `127.0.0.1:${metricsPort}`,
        "--health-address",
        `127.0.0.1:${healthPort}`,
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    let stderr = "";
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    try {
      await cluster.post("/api/v1/namespaces", {
        apiVersion: "v1",
        kind: "Namespace",
        metadata: { name: "herald-system" },
      });
      const get = async (port: number, path: string) => {
        const response = await fetch(`http://127.0.0.1:${port}${path}`).catch(() => undefined);
        return response && { status: response.status, text: await response.text() };
      };
      await waitFor(
        `the controller's /readyz (stderr: ${stderr.slice(-500)})`,
        async () => (await get(healthPort, "/readyz"))?.status === 200,
        20_000,
      );
      assert.equal((await get(healthPort, "/healthz"))?.status, 200);
      // Ready as a standby first (caches synced); then it wins the Lease, restores, leads.
      await waitFor("the controller to lead", async () =>
        /^herald_controller_leader 1$/m.test((await get(metricsPort, "/metrics"))?.text ?? ""),
      );
      assert.equal((await get(healthPort, "/readyz"))?.status, 200);

      await cluster.post("/apis/herald.dev/v1alpha1/addresspools", {
        apiVersion: "herald.dev/v1alpha1",
        kind: "AddressPool",
        metadata: { name: "lan" },
        spec: { addresses: ["192.0.2.10-192.0.2.20"] },
      });
      await cluster.post("/api/v1/namespaces/default/services", {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: "web", namespace: "default" },
        spec: { type: "LoadBalancer", ports: [{ port: 80 }] },
      });
      await waitFor("an address for default/web", async () => {
        const service = await cluster.core.readNamespacedServiceStatus({
          name: "web",
          namespace: "default",
        });
        return service.status?.loadBalancer?.ingress?.[0]?.ip === "192.0.2.10";
      });

      child.kill("SIGTERM");
      assert.equal(await exited, 0, `the controller did not stop cleanly:\n${stderr.slice(-2000)}`);
      // It handed over: the Lease names no holder.
      const lease = (await cluster.request(
        "GET",
        "/apis/coordination.k8s.io/v1/namespaces/herald-system/leases/herald-controller",
      )) as { spec?: { holderIdentity?: string } };
      assert.equal(lease.spec?.holderIdentity ?? "", "");
    } finally {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGKILL");
        await exited;
      }
      await cluster.stop();
    }
  });
});
