// The lab's commands: up, down, info, backends, fail, heal, exec. This file puts the
// parts together — topology (what to build), wiring + netns (the kernel), processes
// (devkube, controller, endpoints mirror, backends, agents), objects + api (the cluster's
// contents) and state (the lab directory) — and keeps `up` and `down` symmetrical: down
// undoes whatever part of up happened, so it also cleans up after an up that failed.
import { join } from "node:path";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { constants } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import type { LabApi } from "./api.ts";
import { BACKEND_LABELS, BACKEND_NAMESPACE, labInfo } from "./info.ts";
import {
  deleteLink,
  deleteNamespace,
  hostRouteDestinations,
  linkExists,
  listNamespaces,
  namespacePids,
  runPhases,
  setLink,
} from "./netns.ts";
import {
  agentKeySecret,
  backendPod,
  backendPodName,
  INSTALL_NAMESPACE,
  AGENT_DAEMONSET,
  agentDaemonSet,
  namespaceObject,
  nodeObject,
} from "./objects.ts";
import {
  isRunning,
  logPath,
  pidOf,
  processesNaming,
  runningProcesses,
  signal,
  startProcess,
  stopProcesses,
  type ProcessSpec,
} from "./processes.ts";
import {
  checkRouterTools,
  removeRouterLeftovers,
  routerSessions,
  routerSpecs,
  startRouter,
  type RouterKind,
} from "./router.ts";
import { labDir, LabFiles, type FailureMode, type LabState } from "./state.ts";
import { LabError } from "./error.ts";
import { IMAGE_ENTRYPOINT, imageRootfs, inImage } from "./image.ts";
import { labState, type LabRef } from "./status.ts";
import {
  API_PORT,
  BACKEND_PORT,
  checkOptions,
  defaultIndex,
  ownsNamespace,
  routeClashes,
  topology,
  type KubeBackend,
  type LabNode,
  type Topology,
} from "./topology.ts";
import { buildPhases } from "./wiring.ts";
import {
  installDeployRbac,
  KUBE_PROXY_HEALTH_PORT,
  kubeProxySpec,
  prepareRealPlane,
  realKubeconfigs,
  writeServiceAccountKubeconfigs,
  unsupportedProxyMode,
  type ProxyMode,
  type RealPlane,
} from "./real-cluster.ts";
import { apiserverReady, etcdHealthy } from "../realkube/control-plane.ts";
import { DEFAULT_SETTINGS } from "../agent/settings.ts";
import { revivalHoldOffMs } from "../agent/peer-liveness.ts";
import { kubernetesBinaries } from "../realkube/binaries.ts";
import { freePorts } from "../realkube/real-kube.ts";

export { LabError, type LabRef };

export interface UpOptions extends LabRef {
  readonly nodes: number;
  readonly ipv6: boolean;
  readonly index?: number;
  readonly agents: boolean;
  /** A BGP daemon for the router namespace, peered with every node; unset or null: none. */
  readonly router?: RouterKind | null;
  /** Nodes in the router's AS (iBGP), rather than AS 64513 (eBGP). */
  readonly ibgp?: boolean;
  /** devkube (the default), or a real control plane with kube-proxy on every node. */
  readonly kube?: KubeBackend;
  /** kube-proxy's mode with kube "real" (default nftables); "ipvs" is refused with the reason. */
  readonly proxyMode?: ProxyMode | "ipvs";
  /** Run the controller, agents and BIRD from this image (an OCI layout, LAYOUT[:TAG]). */
  readonly image?: string;
  /**
   * Give the agents a DaemonSet to read on SIGTERM, as deploy/ does (`--daemonset`): a
   * stand-in object, since the lab's agents are processes. Deleting it is an uninstall.
   */
  readonly daemonSet?: boolean;
}

export interface UpResult {
  state: LabState;
  /** Things that went wrong without stopping the lab, e.g. an agent that exited at once. */
  warnings: string[];
}

const READY_TIMEOUT_MS = 30_000;
/** kube-apiserver takes seconds to start, more on a loaded machine. */
const REAL_READY_TIMEOUT_MS = 90_000;

export async function labUp(options: UpOptions): Promise<UpResult> {
  requireRoot();
  const index = options.index ?? defaultIndex(options.name);
  const lab = {
    name: options.name,
    nodes: options.nodes,
    ipv6: options.ipv6,
    index,
    router: options.router ?? null,
    ibgp: options.ibgp ?? false,
    kube: options.kube ?? "devkube",
    ...(options.kube === "real" && options.proxyMode !== "ipvs"
      ? { proxyMode: options.proxyMode ?? "nftables" }
      : {}),
  };
  const invalid = checkOptions(lab);
  if (invalid) throw new LabError(invalid);
  if (options.proxyMode !== undefined && lab.kube !== "real")
    throw new LabError("--proxy-mode chooses real kube-proxy's mode: it needs --kube real");
  const unsupported =
    options.proxyMode === undefined
      ? undefined
      : unsupportedProxyMode(options.proxyMode, existsSync("/proc/net/ip_vs"));
  if (unsupported) throw new LabError(unsupported);
  await checkRouterTools(lab.router);
  const kubeBin = lab.kube === "real" ? await realKubeTools(lab.proxyMode ?? "nftables") : null;
  const shape = topology(lab);
  const files = new LabFiles(labDir(options.name, options.dir));
  await refuseClashes(shape);
  // Before anything that a failure would undo: undoing removes the directory's contents.
  await files.create();

  // Ctrl-C during up leaves no half-built lab behind: it becomes an error like any other.
  const interrupted = new AbortController();
  const interrupt = () =>
    interrupted.abort(new LabError("interrupted; what was built is removed again"));
  process.once("SIGINT", interrupt);
  process.once("SIGTERM", interrupt);
  try {
    const image = options.image ? await imageRootfs(options.image) : null;
    const run: LabRun = {
      shape,
      files,
      agents: options.agents,
      kubeBin,
      image,
      daemonSet: options.daemonSet ?? false,
    };
    return await build(run, interrupted.signal);
  } catch (error) {
    await labDown({ name: options.name, dir: files.dir }).catch(() => {});
    throw error;
  } finally {
    process.off("SIGINT", interrupt);
    process.off("SIGTERM", interrupt);
  }
}

async function refuseClashes(shape: Topology): Promise<void> {
  const { name } = shape.options;
  const existing = (await listNamespaces()).filter((namespace) => ownsNamespace(name, namespace));
  if (existing.length > 0)
    throw new LabError(`lab ${name} is already up; run herald lab down --name ${name}`);
  if (await linkExists(null, shape.host.interface))
    throw new LabError(
      `host interface ${shape.host.interface} exists already: lab index ${shape.options.index} is ` +
        `taken (by another lab, or one left over); choose another with --index`,
    );
  const ours = [shape.lan, shape.clientLink, shape.routedPool].flatMap((pair) =>
    [pair.ipv4, pair.ipv6].filter((cidr): cidr is string => cidr !== null),
  );
  for (const route of await hostRouteDestinations()) {
    const clash = ours.find((cidr) => routeClashes(cidr, route.dst));
    if (clash)
      throw new LabError(
        `${clash} is already routed on this host (${route.dst} dev ${route.dev}); ` +
          `choose another lab index with --index`,
      );
  }
}

async function build(run: LabRun, signal: AbortSignal): Promise<UpResult> {
  const { shape, files, agents, kubeBin } = run;
  const allNodes = shape.nodes.map((node) => node.name);
  // State first: a down after a failure anywhere below finds what to undo.
  await files.writeState(stateOf(run, allNodes, {}));
  await files.writeBackends(allNodes);

  await runPhases(buildPhases(shape));
  signal.throwIfAborted();
  // Early: it starts listening for the nodes while the rest comes up.
  await startRouter(shape, files);

  const info = labInfo(shape, files.dir, allNodes);
  const plane = kubeBin === null ? null : await startRealPlane(run, kubeBin, signal);
  if (plane === null) {
    const apiserver = startProcess(files, apiserverSpec(shape, files));
    await waitFor("the API server", signal, async () => {
      if (!isRunning(apiserver))
        throw new LabError(`the API server exited: ${tail(files, "apiserver")}`);
      const response = await fetch(`${info.apiServer}/readyz`).catch(() => undefined);
      return response?.ok === true && existsSync(files.kubeconfig);
    });
  }
  for (const node of shape.nodes) startProcess(files, backendSpec(node, files));

  const { api, close } = await connect(files);
  try {
    await installCluster(api, shape, signal, plane !== null);
    if (run.daemonSet) {
      const daemonSet = agentDaemonSet();
      await api.ensure(daemonSet.collection, daemonSet.body);
    }
    if (plane !== null) {
      await writeServiceAccountKubeconfigs(
        api,
        files,
        plane,
        INSTALL_NAMESPACE,
        shape.nodes.map((n) => n.name),
      );
      for (const node of shape.nodes) startProcess(files, kubeProxySpecOf(run, node));
    } else startProcess(files, endpointsSpec(files));
    startProcess(files, controllerSpec(run));
    if (agents)
      for (const node of shape.nodes)
        for (const spec of agentSpecs(run, node)) startProcess(files, spec);

    await Promise.all([
      plane === null
        ? waitFor("the endpoints mirror to sync", signal, () => {
            const pid = pidOf(files, "endpoints");
            if (pid === undefined)
              throw new LabError(`the endpoints mirror exited: ${tail(files, "endpoints")}`);
            return existsSync(files.endpointsReady);
          })
        : Promise.resolve(),
      // kube-proxy's health check answers 200 once its first rules are written.
      ...(plane === null
        ? []
        : shape.nodes.map((node) =>
            waitFor(`kube-proxy on ${node.name}`, signal, async () => {
              const role = `kube-proxy-${node.name}`;
              if (pidOf(files, role) === undefined)
                throw new LabError(`${role} exited: ${tail(files, role)}`);
              const response = await fetch(
                `http://${node.ipv4}:${KUBE_PROXY_HEALTH_PORT}/healthz`,
              ).catch(() => undefined);
              return response?.ok === true;
            }),
          )),
      ...shape.nodes.map((node) =>
        waitFor(`the backend on ${node.name}`, signal, async () => {
          const response = await fetch(`http://${node.ipv4}:${BACKEND_PORT}/`).catch(
            () => undefined,
          );
          return response !== undefined && (await response.text()) === `${node.name}\n`;
        }),
      ),
      ...(info.bgp.router === null
        ? []
        : [
            // Up when the daemon answers its control command and knows every node.
            waitFor(`the router's ${info.bgp.router}`, signal, async () => {
              for (const spec of routerSpecs(shape, files))
                if (pidOf(files, spec.role) === undefined)
                  throw new LabError(`${spec.role} exited: ${tail(files, spec.role)}`);
              const sessions = await routerSessions(info).catch(() => []);
              return (
                sessions.length > 0 && sessions.every((session) => session.state !== "unknown")
              );
            }),
          ]),
    ]);
    if (agents) await agentsSettled(files, shape.nodes, signal);
  } finally {
    await close();
  }

  // Give a process that fails on start (a bad flag, a crash) a moment to do so, so that
  // `up` reports it instead of leaving it to be found in the logs.
  await sleep(300);
  const running = runningProcesses(files);
  const warnings: string[] = [];
  for (const spec of allSpecs(run)) {
    if (!running.has(spec.role))
      warnings.push(`${spec.role} is not running: ${tail(files, spec.role)}`);
  }
  const state = stateOf(run, allNodes, Object.fromEntries(running));
  await files.writeState(state);
  return { state, warnings };
}

/**
 * CRDs (established), the install namespace and agent key, Nodes, and the backend Pods;
 * on a real API server also deploy/'s RBAC, which devkube would not enforce.
 */
async function installCluster(
  api: LabApi,
  shape: Topology,
  signal: AbortSignal,
  real: boolean,
): Promise<void> {
  if (real) {
    await installDeployRbac(api);
    // The Pods run as the default ServiceAccount, which admission insists exists; the
    // controller manager makes it too, but perhaps not yet.
    await api.ensure(`/api/v1/namespaces/${BACKEND_NAMESPACE}/serviceaccounts`, {
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: { name: "default", namespace: BACKEND_NAMESPACE },
    });
  }
  const { customResourceDefinitions } = await import("../api/crds.ts");
  const crds = customResourceDefinitions();
  for (const crd of crds)
    await api.ensure("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", crd);
  await waitFor("the CRDs to be established", signal, async () => {
    for (const crd of crds) {
      const stored = (await api.request(
        "GET",
        `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd.metadata.name}`,
      )) as { status?: { conditions?: { type: string; status: string }[] } };
      const established = stored.status?.conditions?.some(
        (condition) => condition.type === "Established" && condition.status === "True",
      );
      if (!established) return false;
    }
    return true;
  });
  const ns = namespaceObject(INSTALL_NAMESPACE);
  await api.ensure(ns.collection, ns.body);
  const secret = agentKeySecret(randomBytes(32));
  await api.ensure(secret.collection, secret.body);
  const now = new Date();
  await Promise.all(
    shape.nodes.map(async (node) => {
      const { object, status } = nodeObject(node, now);
      await api.ensure(object.collection, object.body);
      // Also as a status write: a real API server drops status on create.
      await api.mergePatch(`${object.path}/status`, { status });
      await createBackendPod(api, node, now);
    }),
  );
}

async function createBackendPod(api: LabApi, node: LabNode, now: Date): Promise<void> {
  const { object, status } = backendPod(node, now);
  await api.ensure(object.collection, object.body);
  await api.mergePatch(`${object.path}/status`, { status });
}

export interface DownResult {
  stopped: number;
  namespaces: string[];
}

/** Idempotent: stops, deletes and removes whatever of the lab exists. */
export async function labDown(ref: LabRef): Promise<DownResult> {
  requireRoot();
  const files = new LabFiles(labDir(ref.name, ref.dir));
  const state = files.readState();
  const namespaces = (await listNamespaces()).filter((namespace) =>
    ownsNamespace(ref.name, namespace),
  );

  const running = runningProcesses(files);
  const pids = new Set(running.values());
  // Agents first, then the loops that restart each node's BIRD: a BIRD stopped before
  // them would be started again.
  for (const prefix of ["agent-", "bird-"])
    await stopProcesses(
      [...running].filter(([role]) => role.startsWith(prefix)).map(([, pid]) => pid),
    );
  // Then everything else: the lab's processes, whatever runs in its namespaces, and any
  // process that names the lab directory (a BIRD whose namespace is already gone).
  for (let round = 0; round < 3; round++) {
    const left = new Set(running.values());
    for (const namespace of namespaces)
      for (const pid of await namespacePids(namespace)) left.add(pid);
    for (const pid of processesNaming(files.dir)) left.add(pid);
    const alive = [...left].filter(isRunning);
    if (alive.length === 0) break;
    for (const pid of alive) pids.add(pid);
    await stopProcesses(alive);
  }
  await removeRouterLeftovers(running);

  // Deleting one end of a veth deletes both at once; a deleted namespace takes its
  // links with it only when the kernel gets round to it. The bridge-side end of the
  // host's link is in our own namespace, so it is removed even if state.json is gone.
  const lan = namespaces.find((namespace) => namespace.endsWith("-lan"));
  if (lan && (await linkExists(lan, "host"))) await deleteLink(lan, "host").catch(() => {});
  if (state && (await linkExists(null, state.hostInterface)))
    await deleteLink(null, state.hostInterface);

  for (const namespace of namespaces) await deleteNamespace(namespace);
  await files.remove();
  return { stopped: pids.size, namespaces };
}

/** Moves the backend Pods (and what the backend servers serve) to exactly `nodes`. */
export async function labBackends(ref: LabRef, nodes: readonly string[]): Promise<string[]> {
  const { state, files, shape } = labState(ref);
  const unknown = nodes.filter((node) => !shape.nodes.some((candidate) => candidate.name === node));
  if (unknown.length > 0)
    throw new LabError(
      `no node ${unknown.join(", ")} in lab ${ref.name} (it has node1..node${shape.nodes.length})`,
    );
  const wanted = shape.nodes.filter((node) => nodes.includes(node.name));
  const { api, close } = await connect(files);
  try {
    const selector = Object.entries(BACKEND_LABELS)
      .map(([key, value]) => `${key}=${value}`)
      .join(",");
    const current = await api.list<{ metadata: { name: string }; spec?: { nodeName?: string } }>(
      `/api/v1/namespaces/${BACKEND_NAMESPACE}/pods`,
      { labelSelector: selector },
    );
    const wantedPods = new Set(wanted.map((node) => backendPodName(node.name)));
    for (const pod of current.items) {
      // At once: no kubelet will confirm a graceful deletion, so the Pod would stay
      // Terminating (and, on a real API server, still listed) for ever.
      if (!wantedPods.has(pod.metadata.name))
        await api.delete(
          `/api/v1/namespaces/${BACKEND_NAMESPACE}/pods/${pod.metadata.name}?gracePeriodSeconds=0`,
        );
    }
    const have = new Set(current.items.map((pod) => pod.metadata.name));
    const now = new Date();
    for (const node of wanted)
      if (!have.has(backendPodName(node.name))) await createBackendPod(api, node, now);
  } finally {
    await close();
  }
  const names = wanted.map((node) => node.name);
  await files.writeBackends(names);
  await files.writeState({ ...state, backends: { ...state.backends, nodes: names } });
  return names;
}

/** Fails a node: see docs/lab.md for what each mode stands for. */
export async function labFail(ref: LabRef, nodeName: string, mode: FailureMode): Promise<string> {
  requireRoot();
  const { state, files, shape } = labState(ref);
  const node = findNode(shape, nodeName);
  const failures = files.readFailures();
  const already = failures[node.name];
  if (already)
    throw new LabError(
      `${node.name} is already failed (${already.mode}); run herald lab heal ${node.name} first`,
    );
  let stopped: number[] = [];
  if (mode === "agent") {
    const pid = pidOf(files, `agent-${node.name}`);
    if (pid === undefined)
      throw new LabError(
        `no agent runs on ${node.name}${state.agents ? "" : " (the lab was started with --no-agents)"}`,
      );
    signal(pid, "SIGKILL");
  } else {
    await setLink(shape.lanNamespace, node.bridgePort, false);
    if (mode === "hard") {
      stopped = await namespacePids(node.namespace);
      for (const pid of stopped) signal(pid, "SIGSTOP");
    }
  }
  failures[node.name] = { mode, stopped };
  await files.writeFailures(failures);
  return {
    hard: `${node.name} is off: its LAN link is down and its ${stopped.length} processes are stopped`,
    link: `${node.name}'s LAN link is down; its processes keep running`,
    agent: `${node.name}'s agent is killed`,
  }[mode];
}

/** Undoes any failure of the node and restarts its agent and backend if they are not running. */
export async function labHeal(ref: LabRef, nodeName: string): Promise<string[]> {
  requireRoot();
  const { state, files, shape } = labState(ref);
  const node = findNode(shape, nodeName);
  const failures = files.readFailures();
  const failure = failures[node.name];
  const done: string[] = [];
  await setLink(shape.lanNamespace, node.bridgePort, true);
  if (failure && failure.mode !== "agent") done.push("link up");
  const stopped = new Set([...(failure?.stopped ?? []), ...(await namespacePids(node.namespace))]);
  for (const pid of stopped) signal(pid, "SIGCONT");
  if (failure?.mode === "hard") done.push(`${failure.stopped.length} processes continued`);
  const run = runOf(state, files, shape);
  const specs = [
    backendSpec(node, files),
    ...(run.kubeBin === null ? [] : [kubeProxySpecOf(run, node)]),
    ...(state.agents ? agentSpecs(run, node) : []),
  ];
  for (const spec of specs) {
    if (pidOf(files, spec.role) === undefined) {
      startProcess(files, spec);
      done.push(`${spec.role} restarted`);
    }
  }
  delete failures[node.name];
  await files.writeFailures(failures);
  await files.writeState({ ...state, pids: Object.fromEntries(runningProcesses(files)) });
  return done;
}

/**
 * Stops a node's agent the way the kubelet does when its pod goes for good (a node
 * shutting down): SIGTERM, and wait for it to exit. `heal` starts it again.
 */
export async function labStopAgent(ref: LabRef, nodeName: string): Promise<string> {
  requireRoot();
  const { state, files, shape } = labState(ref);
  const node = findNode(shape, nodeName);
  if (!state.agents) throw new LabError(`lab ${ref.name} runs no agents (--no-agents)`);
  const pid = pidOf(files, `agent-${node.name}`);
  if (pid === undefined) return `${node.name}'s agent is not running`;
  await stopProcesses([pid], 20_000);
  await files.writeState({ ...state, pids: Object.fromEntries(runningProcesses(files)) });
  return `${node.name}'s agent stopped`;
}

/**
 * Restarts a node's agent the way a rolling update does: SIGTERM, wait for it to exit,
 * start a new one. (`fail --mode agent` is a crash: SIGKILL.)
 */
export async function labRestartAgent(ref: LabRef, nodeName: string): Promise<string> {
  requireRoot();
  const { state, files, shape } = labState(ref);
  const node = findNode(shape, nodeName);
  if (!state.agents) throw new LabError(`lab ${ref.name} runs no agents (--no-agents)`);
  const pid = pidOf(files, `agent-${node.name}`);
  if (pid !== undefined) await stopProcesses([pid], 10_000);
  startProcess(files, agentSpec(runOf(state, files, shape), node));
  await files.writeState({ ...state, pids: Object.fromEntries(runningProcesses(files)) });
  return `${node.name}'s agent restarted`;
}

/** Runs a command in one of the lab's namespaces with this terminal; returns its exit code. */
export async function labExec(
  ref: LabRef,
  where: string,
  argv: readonly string[],
): Promise<number> {
  const { shape } = labState(ref);
  const namespaces: Record<string, string> = {
    client: shape.clientNamespace,
    lanclient: shape.lanclientNamespace,
    router: shape.routerNamespace,
    lan: shape.lanNamespace,
    ...Object.fromEntries(shape.nodes.map((node) => [node.name, node.namespace])),
  };
  const namespace = namespaces[where];
  if (!namespace)
    throw new LabError(
      `no namespace "${where}" in lab ${ref.name}; one of: ${Object.keys(namespaces).join(", ")}`,
    );
  if (argv.length === 0)
    throw new LabError("no command given (herald lab exec NAMESPACE -- COMMAND…)");
  const child = spawn("ip", ["netns", "exec", namespace, ...argv], { stdio: "inherit" });
  // The terminal's Ctrl-C reaches the command directly; this process only waits for it.
  const ignore = () => {};
  process.on("SIGINT", ignore);
  try {
    return await new Promise<number>((resolve, reject) => {
      child.once("error", reject);
      child.once("exit", (code, signalName) =>
        resolve(code ?? 128 + (signalName ? signalNumber(signalName) : 0)),
      );
    });
  } finally {
    process.off("SIGINT", ignore);
  }
}

// ---- the processes ----

function apiserverSpec(shape: Topology, files: LabFiles): ProcessSpec {
  return {
    role: "apiserver",
    namespace: null,
    args: [
      "dev-apiserver",
      "--host",
      shape.host.ipv4,
      "--port",
      String(API_PORT),
      "--kubeconfig-out",
      files.kubeconfig,
    ],
  };
}

/** What the process specs need to know of a lab. */
interface LabRun {
  readonly shape: Topology;
  readonly files: LabFiles;
  readonly agents: boolean;
  /** --kube real: the binaries' directory; null on devkube. */
  readonly kubeBin: string | null;
  /** --image: the image's unpacked rootfs the controller, agents and BIRD run in; null: the source tree. */
  readonly image: string | null;
  /** --daemonset: the agents read a stand-in DaemonSet on SIGTERM. */
  readonly daemonSet: boolean;
}

function runOf(state: LabState, files: LabFiles, shape: Topology): LabRun {
  return {
    shape,
    files,
    agents: state.agents,
    kubeBin: state.kubeBin ?? null,
    image: state.image ?? null,
    daemonSet: state.daemonSet ?? false,
  };
}

/** The controller's and agents' kubeconfig: their ServiceAccounts' on a real API server. */
function clientKubeconfig(run: LabRun, who: "controller" | { agent: string }): string {
  if (run.kubeBin === null) return run.files.kubeconfig;
  const paths = realKubeconfigs(run.files);
  return who === "controller" ? paths.controller : paths.agent(who.agent);
}

function kubeProxySpecOf(run: LabRun, node: LabNode): ProcessSpec {
  return kubeProxySpec(node, run.files, run.kubeBin!, run.shape.options.proxyMode ?? "nftables");
}

/** A Herald process of the lab, from the source tree or, with --image, from the image. */
function heraldSpec(
  run: LabRun,
  spec: { role: string; namespace: string | null; args: string[] },
): ProcessSpec {
  if (run.image === null) return spec;
  return { ...spec, program: inImage(run.image, run.files.dir, IMAGE_ENTRYPOINT) };
}

function controllerSpec(run: LabRun): ProcessSpec {
  return heraldSpec(run, {
    role: "controller",
    namespace: null,
    args: [
      "controller",
      "--kubeconfig",
      clientKubeconfig(run, "controller"),
      "--namespace",
      INSTALL_NAMESPACE,
      "--identity",
      "lab",
      "--metrics-address",
      "0",
      "--health-address",
      "127.0.0.1:0",
    ],
  });
}

function endpointsSpec(files: LabFiles): ProcessSpec {
  return { role: "endpoints", namespace: null, args: ["lab", "endpoints", "--dir", files.dir] };
}

function backendSpec(node: LabNode, files: LabFiles): ProcessSpec {
  return {
    role: `backend-${node.name}`,
    namespace: node.namespace,
    args: ["lab", "backend", "--node", node.name, "--dir", files.dir],
  };
}

function agentSpec(run: LabRun, node: LabNode): ProcessSpec {
  const { files } = run;
  return heraldSpec(run, {
    role: `agent-${node.name}`,
    namespace: node.namespace,
    args: [
      "agent",
      "--kubeconfig",
      clientKubeconfig(run, { agent: node.name }),
      "--node-name",
      node.name,
      "--namespace",
      INSTALL_NAMESPACE,
      // Every node's BIRD in the lab directory: node names repeat across labs.
      "--bird-dir",
      join(files.bird, node.name),
      "--bird-mode",
      "sidecar",
      ...(run.daemonSet ? ["--daemonset", AGENT_DAEMONSET] : []),
      "--metrics-address",
      "0",
      "--health-address",
      "127.0.0.1:0",
      "--log-level",
      "info",
    ],
  });
}

/**
 * Until every agent's failure detector is warm, and a little longer: an agent that started
 * after another's warm-up ended was taken for dead there, and counts again only after the
 * revival hold-off (2 × timeoutMs). A Service created before then could be announced by a
 * node that hands it over a moment later — one move of no use, which the tests would see.
 */
async function agentsSettled(
  files: LabFiles,
  nodes: readonly LabNode[],
  signal: AbortSignal,
): Promise<void> {
  const settledOn = (node: LabNode) => {
    const role = `agent-${node.name}`;
    if (pidOf(files, role) === undefined)
      throw new LabError(`${role} exited: ${tail(files, role)}`);
    let log = "";
    try {
      log = readFileSync(logPath(files, role), "utf8");
    } catch {
      return false;
    }
    // Or no detector at all (its key missing, say): then Node status decides, at once.
    return DETECTOR_SETTLED.some((message) => log.includes(`"msg":"${message}"`));
  };
  await waitFor("every agent's failure detector to warm up", signal, () => nodes.every(settledOn));
  await sleep(revivalHoldOffMs(DEFAULT_SETTINGS.failureDetector.timeoutMs), undefined, {
    signal,
  });
}

const DETECTOR_SETTLED = [
  "failure detector ready",
  "failure detector not running",
  "failure detector did not start",
];

/** A node's agent and, beside it, its BIRD: the two containers of the agent's pod. */
function agentSpecs(run: LabRun, node: LabNode): ProcessSpec[] {
  return [agentSpec(run, node), birdSidecarSpec(node, run)];
}

/**
 * BIRD as the agent pod's sidecar container runs it (deploy/): started once the agent has
 * written a configuration, and started again when it exits, as the kubelet would.
 */
function birdSidecarSpec(node: LabNode, run: LabRun): ProcessSpec {
  const script =
    'while :; do if [ -s "$1/bird.conf" ]; then bird -f -c "$1/bird.conf" -s "$1/bird.ctl"; fi; sleep 0.2; done';
  const sidecar = ["sh", "-c", script, "bird-sidecar"];
  return {
    role: `bird-${node.name}`,
    namespace: node.namespace,
    program: run.image === null ? sidecar : inImage(run.image, run.files.dir, sidecar),
    args: [join(run.files.bird, node.name)],
  };
}

function allSpecs(run: LabRun): ProcessSpec[] {
  const { shape, files } = run;
  const cluster =
    run.kubeBin === null
      ? [apiserverSpec(shape, files), endpointsSpec(files)]
      : [
          { role: "etcd", namespace: null, args: [] },
          { role: "apiserver", namespace: null, args: [] },
          { role: "controller-manager", namespace: null, args: [] },
          ...shape.nodes.map((node) => kubeProxySpecOf(run, node)),
        ];
  return [
    ...cluster,
    controllerSpec(run),
    ...shape.nodes.map((node) => backendSpec(node, files)),
    ...(run.agents ? shape.nodes.flatMap((node) => agentSpecs(run, node)) : []),
    ...routerSpecs(shape, files),
  ];
}

/**
 * etcd, kube-apiserver (ready) and kube-controller-manager as lab processes, on the
 * host's LAN address, where devkube would listen.
 */
async function startRealPlane(run: LabRun, bin: string, signal: AbortSignal): Promise<RealPlane> {
  const { files } = run;
  const [etcdPort, etcdPeerPort] = await freePorts(2);
  const plane = await prepareRealPlane(run.shape, files, bin, [etcdPort!, etcdPeerPort!]);
  const alive = (role: string) => {
    if (pidOf(files, role) === undefined)
      throw new LabError(`${role} exited: ${tail(files, role)}`);
  };
  startProcess(files, plane.etcd);
  await waitFor("etcd", signal, () => {
    alive("etcd");
    return etcdHealthy(plane.etcdPort);
  });
  startProcess(files, plane.apiserver);
  await waitFor(
    "kube-apiserver",
    signal,
    () => {
      alive("apiserver");
      return apiserverReady(plane.files);
    },
    REAL_READY_TIMEOUT_MS,
  );
  startProcess(files, plane.controllerManager);
  return plane;
}

/** The binaries (built by scripts/k8s.sh if missing) and kube-proxy's tools for `mode`. */
async function realKubeTools(mode: ProxyMode): Promise<string> {
  const tool = mode === "nftables" ? "nft" : "iptables-restore";
  const found = await new Promise<boolean>((resolve) =>
    spawn("sh", ["-c", `command -v ${tool}`], { stdio: "ignore" }).once("exit", (code) =>
      resolve(code === 0),
    ),
  );
  if (!found)
    throw new LabError(
      `kube-proxy's ${mode} mode needs ${tool}: apt-get install ${mode === "nftables" ? "nftables" : "iptables"}`,
    );
  try {
    return await kubernetesBinaries({ build: true });
  } catch (error) {
    throw new LabError(`--kube real needs the Kubernetes binaries: ${(error as Error).message}`);
  }
}

// ---- helpers ----

/**
 * An API client for the lab's kubeconfig. Loaded on demand: the Kubernetes client takes
 * most of a second to load, and only up and backends talk to the API.
 */
async function connect(files: LabFiles): Promise<{ api: LabApi; close: () => Promise<void> }> {
  const [{ loadKubeConfig }, { LabApi }] = await Promise.all([
    import("../kube/kubeconfig.ts"),
    import("./api.ts"),
  ]);
  const config = loadKubeConfig(files.kubeconfig);
  return { api: new LabApi(config), close: () => config.close() };
}

function stateOf(run: LabRun, backends: readonly string[], pids: Record<string, number>): LabState {
  const { shape, files } = run;
  return {
    ...labInfo(shape, files.dir, backends),
    index: shape.options.index,
    agents: run.agents,
    hostInterface: shape.host.interface,
    kubeBin: run.kubeBin,
    image: run.image,
    daemonSet: run.daemonSet,
    pids,
  };
}

function findNode(shape: Topology, name: string): LabNode {
  const node = shape.nodes.find((candidate) => candidate.name === name);
  if (!node)
    throw new LabError(
      `no node ${name} in lab ${shape.options.name} (it has node1..node${shape.nodes.length})`,
    );
  return node;
}

function requireRoot(): void {
  if (process.getuid?.() !== 0)
    throw new LabError("herald lab needs root: it creates network namespaces (run it with sudo)");
}

/** The last lines of a process's log, for an error message. */
function tail(files: LabFiles, role: string): string {
  try {
    const lines = readFileSync(logPath(files, role), "utf8").trimEnd().split("\n");
    return `${lines.slice(-5).join("\n")}\n(log: ${logPath(files, role)})`;
  } catch {
    return `no log at ${logPath(files, role)}`;
  }
}

async function waitFor(
  what: string,
  signal: AbortSignal,
  check: () => boolean | Promise<boolean>,
  ms = READY_TIMEOUT_MS,
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    signal.throwIfAborted();
    if (Date.now() > deadline) throw new LabError(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

function signalNumber(name: NodeJS.Signals): number {
  return constants.signals[name] ?? 0;
}
