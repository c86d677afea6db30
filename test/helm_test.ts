// The Helm chart (deploy/helm/herald), with the real helm binary (scripts/helm.sh) and a
// real kube-apiserver (scripts/k8s.sh).
//
// One source of truth: with its default values the chart renders exactly the objects of
// deploy/herald.yaml (deploy/base rendered by kustomize), with classOnly those of
// deploy/overlays/class-only and with routing External those of
// deploy/overlays/external-routing. deploy/base stays the place where the manifests are
// reasoned about (the WHY of every RBAC rule, every capability); when it changes — least
// privilege for the agent's RBAC, say — make the same change in the chart's templates
// (deploy/helm/herald/templates/<the same file name>) and this test passes again. The
// only differences the comparison forgives are Helm's own annotations, which the chart
// adds and kustomize does not: helm.sh/resource-policy: keep on the CRDs and the
// Namespace (so that uninstall leaves them) and the hook annotations of the AgentConfig
// (a post-install hook, since its kind exists only once the CRDs do). The chart adds no
// labels, not even app.kubernetes.io/managed-by.
//
// Against the API server: every values combination below passes `kubectl apply
// --dry-run=server`, and install, upgrade and uninstall are checked on the objects (no
// kubelet runs, so no pod ever starts; helm waits for hooks only).
//
// Needs helm (scripts/helm.sh) and the real Kubernetes binaries (scripts/k8s.sh); it
// fails, rather than skips, without them. scripts/test.sh builds both.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { load, loadAll } from "js-yaml";
import { startCluster, waitFor, type TestCluster } from "./cluster.ts";
import { runAsync } from "./processes.ts";

const root = fileURLToPath(new URL("../", import.meta.url));
const chart = join(root, "deploy/helm/herald");
const dir = mkdtempSync(join(tmpdir(), "herald-helm-"));
after(() => rmSync(dir, { recursive: true, force: true }));

const { version } = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
  version: string;
};
const NAMESPACE = "herald-system";

// helm keeps its configuration, cache and (OCI) registry logins under these; a test must
// not touch the user's.
const helmEnv: Record<string, string> = {
  HELM_CACHE_HOME: join(dir, "helm-cache"),
  HELM_CONFIG_HOME: join(dir, "helm-config"),
  HELM_DATA_HOME: join(dir, "helm-data"),
};

/** helm from scripts/helm.sh's cache, else from PATH; fails the run without one. */
function findHelm(): string {
  const checked = spawnSync(join(root, "scripts/helm.sh"), ["--check"], { encoding: "utf8" });
  const cached = join(checked.stdout?.trim() ?? "", "helm");
  if (checked.status === 0 && existsSync(cached)) return cached;
  const onPath = spawnSync("helm", ["version", "--short"], { encoding: "utf8" });
  if (!onPath.error && onPath.status === 0) return "helm";
  throw new Error("this test needs helm: run scripts/helm.sh (scripts/test.sh does)");
}
const helm = findHelm();

function run(command: string, args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(command, args, {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, ...helmEnv, ...env },
    timeout: 60_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error) throw result.error;
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function ok(command: string, args: string[], env: Record<string, string> = {}): string {
  const result = run(command, args, env);
  assert.equal(result.code, 0, `${command} ${args.join(" ")} failed:\n${result.stderr}`);
  return result.stdout;
}

// ---- objects ----

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec?: Record<string, unknown>;
  [field: string]: unknown;
}
interface Container {
  name: string;
  image: string;
  args?: string[];
  ports?: { name: string; containerPort: number }[];
  resources?: unknown;
}
interface PodSpec {
  priorityClassName?: string;
  containers: Container[];
  nodeSelector?: Record<string, string>;
  tolerations?: unknown[];
  initContainers?: Container[];
  volumes?: unknown[];
}
type Workload = K8sObject & { spec: { replicas?: number; template: { spec: PodSpec } } };

function objects(yaml: string): K8sObject[] {
  return (loadAll(yaml) as (K8sObject | null)[]).filter((o): o is K8sObject => o !== null);
}

function key(o: K8sObject): string {
  return `${o.kind} ${o.metadata.namespace ?? ""}/${o.metadata.name}`;
}

// Helm's annotations, which only the chart carries (see the top of this file).
const HELM_ANNOTATIONS = ["helm.sh/resource-policy", "helm.sh/hook", "helm.sh/hook-delete-policy"];

/** The objects by kind, namespace and name, without Helm's own annotations. */
function comparable(list: K8sObject[]): Map<string, K8sObject> {
  const byKey = new Map<string, K8sObject>();
  for (const original of list) {
    const o = structuredClone(original);
    for (const name of HELM_ANNOTATIONS) delete o.metadata.annotations?.[name];
    if (o.metadata.annotations && Object.keys(o.metadata.annotations).length === 0)
      delete o.metadata.annotations;
    assert.ok(!byKey.has(key(o)), `${key(o)} twice`);
    byKey.set(key(o), o);
  }
  return new Map([...byKey].sort(([a], [b]) => a.localeCompare(b)));
}

function assertSameObjects(chartObjects: K8sObject[], expected: K8sObject[], what: string) {
  const got = comparable(chartObjects);
  const want = comparable(expected);
  assert.deepEqual(
    [...got.keys()],
    [...want.keys()],
    `the chart renders other objects than ${what}`,
  );
  for (const [name, object] of want)
    assert.deepEqual(got.get(name), object, `${name} differs from ${what}`);
}

function find<T extends K8sObject = K8sObject>(list: K8sObject[], kind: string, name: string): T {
  const found = list.find((o) => o.kind === kind && o.metadata.name === name);
  assert.ok(found, `no ${kind} ${name}`);
  return found as T;
}

function container(list: K8sObject[], kind: string, name: string, containerName: string) {
  const found = find<Workload>(list, kind, name).spec.template.spec.containers.find(
    (c) => c.name === containerName,
  );
  assert.ok(found, `${kind} ${name} has no container ${containerName}`);
  return found;
}

// ---- the values combinations docs/install.md documents ----

const DIGEST = `sha256:${"ab".repeat(32)}`;
const combinations: Record<string, Record<string, unknown>> = {
  defaults: {},
  "class-only": { classOnly: true },
  "external-routing": { routing: "External" },
  "no CRDs": { crds: { enabled: false } },
  monitoring: {
    metrics: {
      podMonitor: { enabled: true, labels: { release: "kube-prometheus-stack" } },
      prometheusRule: { enabled: true, labels: { release: "kube-prometheus-stack" } },
    },
  },
  everything: {
    image: { repository: "registry.example.com/net/herald", tag: "0.1.0-rc1", digest: DIGEST },
    classOnly: true,
    routing: "External",
    logLevel: "debug",
    controller: {
      replicas: 3,
      resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { memory: "1Gi" } },
      extraArgs: ["--workers", "16"],
      priorityClassName: "system-cluster-critical",
    },
    agent: {
      detectorPort: 7500,
      setSysctls: false,
      nodeSelector: { "kubernetes.io/os": "linux", "herald.dev/announce": "true" },
      tolerations: [{ key: "node-role.kubernetes.io/control-plane", operator: "Exists" }],
      resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "256Mi" } },
      extraArgs: ["--kube-api-qps", "50"],
      priorityClassName: "system-node-critical",
    },
    bird: { resources: { requests: { cpu: "20m", memory: "32Mi" } } },
    metrics: { podMonitor: { enabled: true, interval: "15s" }, prometheusRule: { enabled: true } },
  },
};

function valuesFile(name: string, values: Record<string, unknown>): string {
  const path = join(dir, `values-${name.replace(/\W+/g, "-")}.yaml`);
  writeFileSync(path, JSON.stringify(values)); // JSON is YAML
  return path;
}

function templateArgs(values: Record<string, unknown>, name: string): string[] {
  return ["template", "herald", chart, "-n", NAMESPACE, "-f", valuesFile(name, values)];
}

function render(values: Record<string, unknown> = {}, name = "values"): K8sObject[] {
  return objects(ok(helm, templateArgs(values, name)));
}

function kustomize(path: string): K8sObject[] {
  return objects(ok("kubectl", ["kustomize", join(root, path)]));
}

before(() => {
  const found = spawnSync("kubectl", ["version", "--client"], { encoding: "utf8" });
  if (found.error) throw new Error("this test needs kubectl on PATH: run scripts/k8s.sh");
});

describe("the chart renders deploy/ (one source of truth)", () => {
  it("is versioned as package.json, for the image the manifests use", () => {
    const meta = load(readFileSync(join(chart, "Chart.yaml"), "utf8")) as Record<string, string>;
    assert.equal(meta.version, version);
    assert.equal(meta.appVersion, version);
  });

  it("defaults: exactly the objects of deploy/herald.yaml", () => {
    const manifest = objects(readFileSync(join(root, "deploy/herald.yaml"), "utf8"));
    assertSameObjects(render(), manifest, "deploy/herald.yaml");
  });

  it("classOnly: exactly kubectl kustomize deploy/overlays/class-only", () => {
    assertSameObjects(
      render({ classOnly: true }),
      kustomize("deploy/overlays/class-only"),
      "deploy/overlays/class-only",
    );
  });

  it("routing External: exactly kubectl kustomize deploy/overlays/external-routing", () => {
    const rendered = render({ routing: "External" });
    assertSameObjects(
      rendered,
      kustomize("deploy/overlays/external-routing"),
      "deploy/overlays/external-routing",
    );
    // Installed after the CRDs (see agentconfig.yaml), and applied in place on upgrade.
    const config = find(rendered, "AgentConfig", "default");
    assert.equal(config.metadata.annotations?.["helm.sh/hook"], "post-install,post-upgrade");
    assert.equal(config.metadata.annotations?.["helm.sh/hook-delete-policy"], "hook-failed");
  });

  it("keeps the CRDs and the namespace on uninstall, and renders no CRD with crds.enabled false", () => {
    const rendered = render();
    for (const o of rendered.filter((o) =>
      ["CustomResourceDefinition", "Namespace"].includes(o.kind),
    ))
      assert.equal(o.metadata.annotations?.["helm.sh/resource-policy"], "keep", key(o));
    const without = render({ crds: { enabled: false } });
    assert.equal(without.filter((o) => o.kind === "CustomResourceDefinition").length, 0);
    assert.equal(without.length, rendered.length - 5);
  });

  it("metrics: the PodMonitors of deploy/monitoring/podmonitors.yaml, the rules of alerts.yaml", () => {
    const rendered = render({
      metrics: { podMonitor: { enabled: true }, prometheusRule: { enabled: true } },
    });
    const podMonitors = objects(
      readFileSync(join(root, "deploy/monitoring/podmonitors.yaml"), "utf8"),
    );
    assertSameObjects(
      rendered.filter((o) => o.kind === "PodMonitor"),
      podMonitors,
      "deploy/monitoring/podmonitors.yaml",
    );
    const rule = find(rendered, "PrometheusRule", "herald");
    assert.equal(rule.metadata.namespace, NAMESPACE);
    assert.deepEqual(
      rule.spec,
      load(readFileSync(join(root, "deploy/monitoring/alerts.yaml"), "utf8")),
    );
    // Off by default: a cluster without the Prometheus Operator has no such kinds.
    assert.equal(
      render().filter((o) => o.apiVersion.startsWith("monitoring.coreos.com/")).length,
      0,
    );
  });

  it("puts every value where it belongs", () => {
    const rendered = render(combinations.everything!, "everything");
    const image = `registry.example.com/net/herald@${DIGEST}`; // the digest wins over the tag
    const controller = container(rendered, "Deployment", "herald-controller", "controller");
    const agent = container(rendered, "DaemonSet", "herald-agent", "agent");
    assert.equal(controller.image, image);
    assert.equal(agent.image, image);
    assert.equal(find<Workload>(rendered, "Deployment", "herald-controller").spec.replicas, 3);
    assert.deepEqual(controller.args, [
      "controller",
      "--log-level",
      "debug",
      "--class-only",
      "--workers",
      "16",
    ]);
    assert.deepEqual(agent.args?.slice(-5), [
      "--log-level",
      "debug",
      "--class-only",
      "--kube-api-qps",
      "50",
    ]);
    assert.deepEqual(controller.resources, {
      requests: { cpu: "100m", memory: "256Mi" },
      limits: { memory: "1Gi" },
    });
    const agentSpec = find<Workload>(rendered, "DaemonSet", "herald-agent").spec.template.spec;
    assert.deepEqual(agentSpec.nodeSelector, {
      "kubernetes.io/os": "linux",
      "herald.dev/announce": "true",
    });
    assert.deepEqual(agentSpec.tolerations, [
      { key: "node-role.kubernetes.io/control-plane", operator: "Exists" },
    ]);
    assert.equal(agentSpec.priorityClassName, "system-node-critical");
    assert.equal(
      find<Workload>(rendered, "Deployment", "herald-controller").spec.template.spec
        .priorityClassName,
      "system-cluster-critical",
    );
    assert.deepEqual(
      agentSpec.containers.map((c) => c.name),
      ["agent"],
      "routing External: no BIRD sidecar",
    );
    assert.equal(agent.ports?.find((p) => p.name === "detector")?.containerPort, 7500);
    // setSysctls false: no init container, and nothing mounts the node's /proc/sys/net.
    assert.equal(agentSpec.initContainers, undefined);
    assert.ok(!JSON.stringify(agentSpec.volumes).includes("/proc/sys"));
    // The agents take the port from AgentConfig, so the chart sets it there too.
    assert.deepEqual(find(rendered, "AgentConfig", "default").spec, {
      routing: "External",
      failureDetector: { port: 7500 },
    });
    const podMonitor = find(rendered, "PodMonitor", "herald-agent");
    assert.equal(
      (podMonitor.spec?.podMetricsEndpoints as { interval: string }[])[0]!.interval,
      "15s",
    );
    // A tag without a digest; and the appVersion without either.
    const tagged = render({ image: { repository: "r/herald", tag: "x1" } }, "tagged");
    assert.equal(
      container(tagged, "Deployment", "herald-controller", "controller").image,
      "r/herald:x1",
    );
    assert.equal(
      container(render(), "DaemonSet", "herald-agent", "bird").image,
      `herald:${version}`,
    );
    // In another namespace everything namespaced follows, except kube-proxy's Role.
    const elsewhere = objects(ok(helm, ["template", "herald", chart, "-n", "lb"]));
    assert.equal(find(elsewhere, "Namespace", "lb").kind, "Namespace");
    for (const o of elsewhere.filter((o) => o.metadata.namespace !== undefined))
      assert.equal(
        o.metadata.namespace,
        o.metadata.name === "herald-agent-kube-proxy" ? "kube-system" : "lb",
        key(o),
      );
  });
});

describe("values.schema.json", () => {
  const bad: [string, Record<string, unknown>, RegExp][] = [
    [
      "a word for a number",
      { controller: { replicas: "two" } },
      /\/controller\/replicas.*want integer/,
    ],
    ["no controller", { controller: { replicas: 0 } }, /\/controller\/replicas.*minimum/],
    ["an unknown routing", { routing: "Calico" }, /\/routing.*'Bird', 'External'/],
    [
      "a digest without its algorithm",
      { image: { digest: "abc" } },
      /\/image\/digest.*does not match/,
    ],
    [
      "a misspelt key",
      { controler: { replicas: 1 } },
      /additional properties 'controler' not allowed/,
    ],
    ["a port above 65535", { agent: { detectorPort: 70000 } }, /\/agent\/detectorPort.*maximum/],
    ["an unknown log level", { logLevel: "verbose" }, /\/logLevel.*must be one of/],
    [
      "a string for the args",
      { agent: { extraArgs: "--class-only" } },
      /\/agent\/extraArgs.*want array/,
    ],
    [
      "a priority class that is no object name",
      { agent: { priorityClassName: "Node Critical" } },
      /\/agent\/priorityClassName.*does not match/,
    ],
    [
      "a memory size that is none",
      { bird: { resources: { limits: { memory: "lots" } } } },
      /\/bird\/resources\/limits\/memory/,
    ],
  ];
  for (const [what, values, message] of bad)
    it(`refuses ${what}, naming the value`, () => {
      const result = run(helm, templateArgs(values, `bad-${what}`));
      assert.notEqual(result.code, 0, `helm template accepted ${JSON.stringify(values)}`);
      assert.match(result.stderr, /values don't meet the specifications of the schema/);
      assert.match(result.stderr, message);
    });
});

describe("helm lint --strict and helm package", () => {
  it("lints clean with every combination of values", () => {
    for (const [name, values] of Object.entries(combinations)) {
      const result = run(helm, ["lint", "--strict", chart, "-f", valuesFile(name, values)]);
      assert.equal(
        result.code,
        0,
        `helm lint --strict (${name}):\n${result.stdout}${result.stderr}`,
      );
      assert.match(result.stdout, /1 chart\(s\) linted, 0 chart\(s\) failed/);
    }
  });

  it(`packages herald-${version}.tgz, which renders as the chart directory does`, () => {
    const out = join(dir, "package");
    mkdirSync(out, { recursive: true });
    ok(helm, ["package", chart, "-d", out]);
    const archive = join(out, `herald-${version}.tgz`);
    assert.ok(existsSync(archive), `no ${archive}`);
    // files/ holds links to deploy/crds and deploy/monitoring; the archive carries their
    // contents, so the packaged chart stands alone.
    const fromArchive = objects(ok(helm, ["template", "herald", archive, "-n", NAMESPACE]));
    assertSameObjects(fromArchive, render(), "the chart directory");
  });
});

// ---- against the API server ----

// Stand-ins for the Prometheus Operator's CRDs (not available here): the dry run then
// checks the monitoring objects' kinds, scope and metadata, not the operator's schema.
const monitoringCrds = ["PodMonitor", "PrometheusRule"].map((kind) => ({
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: { name: `${kind.toLowerCase()}s.monitoring.coreos.com` },
  spec: {
    group: "monitoring.coreos.com",
    scope: "Namespaced",
    names: {
      kind,
      plural: `${kind.toLowerCase()}s`,
      singular: kind.toLowerCase(),
      listKind: `${kind}List`,
    },
    versions: [
      {
        name: "v1",
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true },
        },
      },
    ],
  },
}));

describe("helm against a real API server", () => {
  let cluster: TestCluster;
  let kubeconfig: string;
  const kubectlBin = () => join(cluster.real!.bin, "kubectl");
  const kubectl = (args: string[]) => runAsync(kubectlBin(), args, { KUBECONFIG: kubeconfig });
  const helmRun = (args: string[]) =>
    runAsync(helm, [...args, "--kubeconfig", kubeconfig], helmEnv);
  const get = async <T = K8sObject>(args: string[]): Promise<T> => {
    const result = await kubectl(["get", ...args, "-o", "json"]);
    assert.equal(result.code, 0, `kubectl get ${args.join(" ")}:\n${result.stderr}`);
    return JSON.parse(result.stdout) as T;
  };
  const exists = async (args: string[]) =>
    (await kubectl(["get", ...args, "-o", "name"])).code === 0;

  before(async () => {
    cluster = await startCluster({ backend: "real", crds: false });
    kubeconfig = join(dir, "kubeconfig");
    writeFileSync(kubeconfig, cluster.kubeconfig());
    const crds = join(dir, "monitoring-crds.json");
    writeFileSync(crds, JSON.stringify({ apiVersion: "v1", kind: "List", items: monitoringCrds }));
    const applied = await kubectl(["apply", "-f", crds]);
    assert.equal(applied.code, 0, applied.stderr);
  });
  after(() => cluster?.stop());

  it("helm install -n herald-system --create-namespace installs every object of the defaults", async () => {
    const installed = await helmRun([
      "install",
      "herald",
      chart,
      "-n",
      NAMESPACE,
      "--create-namespace",
      "--wait=hookOnly",
    ]);
    assert.equal(installed.code, 0, installed.stderr);
    for (const o of render()) {
      const args = [
        o.kind.toLowerCase() + (o.apiVersion.includes("/") ? `.${o.apiVersion.split("/")[0]}` : ""),
        o.metadata.name,
      ];
      if (o.metadata.namespace) args.push("-n", o.metadata.namespace);
      assert.ok(await exists(args), `${key(o)} was not installed`);
    }
    // The chart's Namespace object gave --create-namespace's namespace its Pod Security label.
    const namespace = await get(["namespace", NAMESPACE]);
    assert.equal(namespace.metadata.labels?.["pod-security.kubernetes.io/enforce"], "privileged");
    const status = JSON.parse(
      (await helmRun(["status", "herald", "-n", NAMESPACE, "-o", "json"])).stdout,
    ) as {
      info: { status: string };
      version: number;
    };
    assert.equal(status.info.status, "deployed");
  });

  it("every values combination passes kubectl apply --dry-run=server", async () => {
    // After the install, so that the AgentConfig kind is served (a fresh cluster maps it
    // only once the CRDs exist — why the chart makes it a hook). Each combination is
    // rendered for a namespace of its own, made beforehand (a dry run creates none), so
    // that its workloads are new objects and not a client-side merge into the installed
    // ones (which would keep the old detector port beside the new one).
    let n = 0;
    for (const [name, values] of Object.entries(combinations)) {
      const namespace = `dry-run-${++n}`;
      const made = await kubectl(["create", "namespace", namespace]);
      assert.equal(made.code, 0, made.stderr);
      const path = join(dir, `rendered-${n}.yaml`);
      const args = templateArgs(values, name);
      args[args.indexOf(NAMESPACE)] = namespace;
      writeFileSync(path, ok(helm, args));
      const result = await kubectl(["apply", "--dry-run=server", "-f", path]);
      assert.equal(
        result.code,
        0,
        `${name}: kubectl apply --dry-run=server refused:\n${result.stderr}`,
      );
    }
  });

  // The upgrade "from the previous chart version": this is the chart's first version, so
  // there is no N-1 to package from git history yet. Instead the same chart installed with
  // the defaults is upgraded to other values (external routing, class-only, a detector
  // port, three replicas) with a pool and an allocated Service in place, and neither may
  // change: a Helm upgrade must never move an address (DESIGN §4 rule 7). No controller
  // runs here, so the Service's allocation is written as the controller writes it.
  it("helm upgrade to other values leaves the pool and the Service's address untouched", async () => {
    await waitFor("AddressPool to be served", async () => exists(["addresspools"]), 30_000);
    await cluster.post("/apis/herald.dev/v1alpha1/addresspools", {
      apiVersion: "herald.dev/v1alpha1",
      kind: "AddressPool",
      metadata: { name: "lan" },
      spec: { addresses: ["192.0.2.240-192.0.2.250"], announce: "Local" },
    });
    await cluster.post("/api/v1/namespaces/default/services", {
      apiVersion: "v1",
      kind: "Service",
      metadata: { name: "web" },
      spec: { type: "LoadBalancer", selector: { app: "web" }, ports: [{ port: 80 }] },
    });
    await cluster.request(
      "PATCH",
      "/api/v1/namespaces/default/services/web/status",
      {
        metadata: { annotations: { "herald.dev/allocated-from": "lan" } },
        status: {
          loadBalancer: { ingress: [{ ip: "192.0.2.240", ipMode: "VIP" }] },
          conditions: [
            {
              type: "herald.dev/Allocated",
              status: "True",
              reason: "Allocated",
              message: "192.0.2.240 from pool lan",
              lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
            },
          ],
        },
      },
      "application/merge-patch+json",
    );
    const poolBefore = await get(["addresspool", "lan"]);
    const serviceBefore = await get(["service", "web", "-n", "default"]);

    const upgraded = await helmRun([
      "upgrade",
      "herald",
      chart,
      "-n",
      NAMESPACE,
      "--wait=hookOnly",
      "--set",
      "routing=External,classOnly=true,agent.detectorPort=7500,controller.replicas=3",
    ]);
    assert.equal(upgraded.code, 0, upgraded.stderr);

    const daemonSet = await get<Workload>(["daemonset", "herald-agent", "-n", NAMESPACE]);
    assert.deepEqual(
      daemonSet.spec.template.spec.containers.map((c) => c.name),
      ["agent"],
    );
    assert.ok(daemonSet.spec.template.spec.containers[0]!.args?.includes("--class-only"));
    const deployment = await get<Workload>(["deployment", "herald-controller", "-n", NAMESPACE]);
    assert.equal(deployment.spec.replicas, 3);
    const config = await get(["agentconfig", "default"]);
    assert.equal(config.spec?.routing, "External");
    assert.equal((config.spec?.failureDetector as { port: number }).port, 7500);

    // Untouched: not one write to either (the same resourceVersion), so no address moved.
    assert.deepEqual(await get(["addresspool", "lan"]), poolBefore);
    assert.deepEqual(await get(["service", "web", "-n", "default"]), serviceBefore);
    const history = JSON.parse(
      (await helmRun(["history", "herald", "-n", NAMESPACE, "-o", "json"])).stdout,
    ) as {
      revision: number;
      status: string;
    }[];
    assert.deepEqual(
      history.map((h) => [h.revision, h.status]),
      [
        [1, "superseded"],
        [2, "deployed"],
      ],
    );

    // Back to the defaults (--reset-values: without it and without new values, helm
    // upgrade reuses the last release's): the BIRD sidecar returns.
    const back = await helmRun([
      "upgrade",
      "herald",
      chart,
      "-n",
      NAMESPACE,
      "--reset-values",
      "--wait=hookOnly",
    ]);
    assert.equal(back.code, 0, back.stderr);
    const restored = await get<Workload>(["daemonset", "herald-agent", "-n", NAMESPACE]);
    assert.deepEqual(
      restored.spec.template.spec.containers.map((c) => c.name),
      ["agent", "bird"],
    );
  });

  it("helm uninstall removes the workloads and RBAC, and leaves the CRDs, pools, namespace and addresses", async () => {
    const serviceBefore = await get(["service", "web", "-n", "default"]);
    const removed = await helmRun(["uninstall", "herald", "-n", NAMESPACE, "--wait=hookOnly"]);
    assert.equal(removed.code, 0, removed.stderr);
    for (const args of [
      ["deployment", "herald-controller", "-n", NAMESPACE],
      ["daemonset", "herald-agent", "-n", NAMESPACE],
      ["clusterrole", "herald-agent"],
      ["clusterrolebinding", "herald-controller"],
      ["role", "herald-agent-kube-proxy", "-n", "kube-system"],
      ["serviceaccount", "herald-agent", "-n", NAMESPACE],
    ])
      assert.ok(!(await exists(args)), `${args.join(" ")} is still there`);
    // Kept (helm.sh/resource-policy: keep): every CRD, so every custom resource.
    for (const crd of [
      "addresspools",
      "bgppeers",
      "bgpadvertisements",
      "agentconfigs",
      "nodestates",
    ])
      assert.ok(await exists(["crd", `${crd}.herald.dev`]), `CRD ${crd} was deleted`);
    assert.ok(await exists(["addresspool", "lan"]));
    // The namespace (kept too: it holds the detector key and the BGP password Secrets).
    const namespace = await get(["namespace", NAMESPACE]);
    assert.equal((namespace as { status?: { phase?: string } }).status?.phase, "Active");
    // The AgentConfig the hook made is no part of the release either.
    assert.ok(await exists(["agentconfig", "default"]));
    assert.deepEqual(await get(["service", "web", "-n", "default"]), serviceBefore);

    // Installing again adopts what was kept.
    const again = await helmRun([
      "install",
      "herald",
      chart,
      "-n",
      NAMESPACE,
      "--create-namespace",
      "--wait=hookOnly",
    ]);
    assert.equal(again.code, 0, again.stderr);
    assert.ok(await exists(["daemonset", "herald-agent", "-n", NAMESPACE]));
  });
});
